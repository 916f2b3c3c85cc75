// The `pinhole` command line. Later issues add the node (agent, up) and client commands.
#include <cstdio>
#include <cstring>

#include "config/yaml_loader.h"
#include "core/selftest.h"
#include "core/version.h"

namespace {

constexpr char usage[] =
    "usage: pinhole COMMAND\n"
    "  version              print the version and what it was built with\n"
    "  self-test            run the crypto known-answer tests\n"
    "  config-check FILE    check that FILE is well-formed YAML\n";

int print_version() {
    const pinhole::BuildInfo info = pinhole::build_info();
    std::printf("pinhole %s (%s) board %s, lwIP %s, mbedTLS %s\n", info.version, info.git_revision,
                info.board, info.lwip_version, info.mbedtls_version);
    return 0;
}

int self_test() {
    const pinhole::SelfTestResult result = pinhole::run_crypto_self_test();
    std::printf("crypto self-test: %s\n", pinhole::describe(result));
    return result == pinhole::SelfTestResult::ok ? 0 : 1;
}

int config_check(const char* path) {
    if (const auto error = pinhole::config::check_yaml_file(path)) {
        std::fprintf(stderr, "%s\n", error->to_string().c_str());
        return 1;
    }
    std::printf("%s: ok\n", path);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* command = argc > 1 ? argv[1] : "";
    if (std::strcmp(command, "version") == 0 || std::strcmp(command, "--version") == 0) {
        return print_version();
    }
    if (std::strcmp(command, "self-test") == 0) return self_test();
    if (std::strcmp(command, "config-check") == 0 && argc == 3) return config_check(argv[2]);
    std::fputs(usage, argc > 1 && std::strcmp(command, "--help") != 0 ? stderr : stdout);
    return argc > 1 && std::strcmp(command, "--help") == 0 ? 0 : 2;
}
