// The `pinhole` command line.
#include <cstdio>
#include <cstring>
#include <span>

#include "apps/cli/commands.h"
#include "config/yaml_loader.h"
#include "core/selftest.h"
#include "core/version.h"

namespace {

using pinhole::cli::Arguments;

constexpr char usage[] =
    "usage: pinhole COMMAND [ARGUMENTS]\n"
    "  init -d DIR [--gateway URL --gateway-key KEY [--cert-sha256 HEX]]\n"
    "                       make (or keep) the node key in DIR and print its invite\n"
    "  import-invite [--name NAME] INVITE\n"
    "                       print the client configuration that trusts an invite's agent\n"
    "  check -c FILE        validate a node or gateway configuration and its keys\n"
    "  agent -c FILE        run a node in the foreground: WireGuard on its UDP port, the overlay\n"
    "  up -c FILE           stack, the exit to its services, echo (TCP 7) and discard (TCP 9),\n"
    "                       a control socket for the commands below; SIGUSR1 prints counters\n"
    "  forward [-c FILE] [-u] AGENT [ADDR:]PORT SERVICE|HOST:PORT\n"
    "                       listen on ADDR:PORT (127.0.0.1) and carry each connection to AGENT\n"
    "                       (-u: UDP, one flow per local sender, ended after 60 s idle)\n"
    "  proxy [-c FILE] [--user NAME --password-file FILE] AGENT [[ADDR:]PORT]\n"
    "                       a SOCKS5 server on ADDR:PORT (127.0.0.1:1080) whose connections\n"
    "                       exit at AGENT (a name without a dot is one of AGENT's services)\n"
    "  connect [-c FILE] AGENT SERVICE|HOST:PORT\n"
    "                       stdin/stdout to a service (ssh -o ProxyCommand=\"pinhole connect ...\")\n"
    "  status [-c FILE] | down [-c FILE]\n"
    "                       counters of the running node / stop it\n"
    "                       (client commands start the node for FILE's key when none runs;\n"
    "                       FILE defaults to $PINHOLE_CONFIG or ~/.config/pinhole/node.yaml)\n"
    "  gateway init -d DIR  make the gateway's key in DIR and print what nodes need\n"
    "  gateway -c FILE      run the gateway: relay channels for the keys in authorized_keys\n"
    "  genkey | pubkey | genpsk\n"
    "                       keys in WireGuard's format (as wg genkey / pubkey / genpsk)\n"
    "  self-test            run the crypto known-answer tests\n"
    "  version              print the version and what it was built with\n";

int print_version(Arguments) {
    const pinhole::BuildInfo info = pinhole::build_info();
    std::printf("pinhole %s (%s) board %s, lwIP %s, mbedTLS %s, ChaCha20-Poly1305 from %s\n",
                info.version, info.git_revision, info.board, info.lwip_version, info.mbedtls_version,
                info.aead_backend);
    return 0;
}

int self_test(Arguments) {
    const pinhole::SelfTestResult result = pinhole::run_crypto_self_test();
    std::printf("crypto self-test: %s\n", pinhole::describe(result));
    return result == pinhole::SelfTestResult::ok ? 0 : 1;
}

struct Command {
    const char* name;
    int (*run)(Arguments);
};

constexpr Command commands[] = {
    {"init", pinhole::cli::init},     {"import-invite", pinhole::cli::import_invite},
    {"check", pinhole::cli::check},   {"agent", pinhole::cli::agent},
    {"up", pinhole::cli::agent},      {"forward", pinhole::cli::forward},
    {"proxy", pinhole::cli::proxy},
    {"connect", pinhole::cli::connect}, {"status", pinhole::cli::status},
    {"down", pinhole::cli::down},     {"gateway", pinhole::cli::gateway},
    {"genkey", pinhole::cli::genkey},
    {"pubkey", pinhole::cli::pubkey}, {"genpsk", pinhole::cli::genpsk},
    {"self-test", self_test},         {"version", print_version},
    {"--version", print_version},
};

}  // namespace

int main(int argc, char** argv) {
    const std::span<char* const> all(argv, static_cast<std::size_t>(argc));
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const Command& command : commands) {
        if (std::strcmp(argv[1], command.name) == 0) return command.run(all.subspan(2));
    }
    std::fprintf(stderr, "pinhole: unknown command '%s'\n%s", argv[1], usage);
    return 2;
}
