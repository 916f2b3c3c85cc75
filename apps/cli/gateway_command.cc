// `pinhole gateway init -d DIR` makes the gateway's key; `pinhole gateway -c gateway.yaml` runs it
// (apps/gateway/gateway_server.h): TCP listeners, authorized_keys, SIGUSR1 counters, SIGHUP re-reads
// authorized_keys, SIGTERM stops.
#include <signal.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/commands.h"
#include "apps/gateway/gateway_server.h"
#include "config/load.h"
#include "core/crypto/ct.h"
#include "core/keys/keys.h"
#include "port/posix/event_loop.h"
#include "port/posix/services.h"
#include "port/posix/storage.h"

namespace pinhole::cli {
namespace {

std::string key_text(const crypto::X25519Key& key) {
    std::array<char, keys::key_text_bytes + 1> text{};
    return keys::format_key(key, text).ok() ? std::string(text.data()) : std::string("?");
}

std::optional<keys::KeyPair> gateway_key(const char* command, const std::string& directory, bool create) {
    posix::PosixStorage storage;
    if (const Status opened = storage.open(directory, create); !opened.ok()) {
        std::fprintf(stderr, "pinhole %s: cannot use directory %s: %s\n", command, directory.c_str(),
                     describe(opened.error()));
        return std::nullopt;
    }
    posix::PosixRandom random;
    const Result<keys::KeyPair> pair = keys::load_identity({}, storage, random, create);
    if (!pair.ok()) {
        explain_identity_error(command, pair.error(), (directory + "/" + std::string(keys::private_key_record)).c_str());
        return std::nullopt;
    }
    return pair.value();
}

int gateway_init(Arguments arguments) {
    if (arguments.size() != 2 || std::string_view(arguments[0]) != "-d") {
        complain("gateway init", "usage: pinhole gateway init -d DIR");
        return 2;
    }
    const std::string directory = arguments[1];
    std::optional<keys::KeyPair> pair = gateway_key("gateway init", directory, true);
    if (!pair) return 1;
    const std::string key = key_text(pair->public_key);
    crypto::zeroize_object(*pair);
    gateway::use_heap_for_mbedtls();
    if (const std::string failed = gateway::make_self_signed_certificate(directory); !failed.empty()) {
        complain("gateway init", failed.c_str());
        return 1;
    }
    gateway::TlsServerConfig tls;
    if (const std::string failed = tls.load(directory + "/gateway.crt", directory + "/gateway.key"); !failed.empty()) {
        complain("gateway init", failed.c_str());
        return 1;
    }
    std::printf("gateway key in %s (%s, mode 0600)\n", directory.c_str(), keys::private_key_record);
    std::printf("TLS certificate %s/gateway.crt, key %s/gateway.key (self-signed ECDSA P-256)\n", directory.c_str(),
                directory.c_str());
    std::printf("public key: %s\n", key.c_str());
    std::printf("certificate sha256: %s\n", tls.certificate_sha256().c_str());
    std::printf("gateway.yaml gets: tls: {cert: %s/gateway.crt, key: %s/gateway.key}\n", directory.c_str(),
                directory.c_str());
    std::printf("nodes need: gateway: {url: tcp://<this host>:<port>, public_key: \"%s\"}\n", key.c_str());
    std::printf("   or, TLS: gateway: {url: tls://<this host>:<port>, public_key: \"%s\", cert_sha256: \"%s\"}\n",
                key.c_str(), tls.certificate_sha256().c_str());
    return 0;
}

// Listeners, the signalfd, epoll, its eventfd and the frame dump.
constexpr std::size_t reserved_descriptors = 64;

// Raises the soft limit on open descriptors towards `wanted` (within the hard limit), and says
// so when the hard limit keeps the gateway below limits.max_channels.
void raise_descriptor_limit(std::size_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t target = std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(wanted));
    if (limit.rlim_cur < target) {
        limit.rlim_cur = target;
        (void)::setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (target < wanted) {
        std::printf("pinhole gateway: at most %llu open descriptors (ulimit -Hn), fewer than limits.max_channels "
                    "needs (%zu): raise the hard limit, or lower max_channels\n",
                    static_cast<unsigned long long>(target), wanted);
    }
}

sigset_t gateway_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (const int signal_number : {SIGTERM, SIGINT, SIGUSR1, SIGHUP}) sigaddset(&signals, signal_number);
    return signals;
}

// Signals through a signalfd in the gateway's loop.
class SignalHandler final : public posix::FdHandler {
public:
    SignalHandler(gateway::GatewayServer& server, std::string authorized_keys_path)
        : server_(server), authorized_keys_path_(std::move(authorized_keys_path)) {}
    void on_fd_events(int fd, std::uint32_t) noexcept override {
        signalfd_siginfo info{};
        while (::read(fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            if (info.ssi_signo == SIGUSR1) {
                for (const std::string& line : server_.status_lines()) std::printf("pinhole gateway: %s\n", line.c_str());
            } else if (info.ssi_signo == SIGHUP) {
                reload();
            } else {
                std::printf("pinhole gateway: stopping\n");
                stopping = true;
            }
        }
    }
    bool stopping = false;

private:
    // A file with an error changes nothing: the gateway goes on with what it had.
    void reload() {
        auto authorized = gateway::AuthorizedKeys::load(authorized_keys_path_);
        if (!authorized.ok()) {
            std::printf("pinhole gateway: SIGHUP: authorized_keys not changed: %s\n",
                        authorized.error().to_string().c_str());
            return;
        }
        server_.replace_authorized_keys(std::move(authorized.value()));
    }

    gateway::GatewayServer& server_;
    std::string authorized_keys_path_;
};

}  // namespace

int gateway(Arguments arguments) {
    if (!arguments.empty() && std::string_view(arguments[0]) == "init") return gateway_init(arguments.subspan(1));
    if (arguments.size() != 2 || std::string_view(arguments[0]) != "-c") {
        complain("gateway", "usage: pinhole gateway -c FILE   |   pinhole gateway init -d DIR");
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const sigset_t signals = gateway_signals();
    if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) return 1;
    const auto loaded = config::load_gateway_config(arguments[1]);
    if (!loaded.ok()) {
        std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
        return 1;
    }
    const config::GatewayConfig& config = loaded.value();
    auto authorized = gateway::AuthorizedKeys::load(std::string(config.authorized_keys.view()));
    if (!authorized.ok()) {
        std::fprintf(stderr, "%s\n", authorized.error().to_string().c_str());
        return 1;
    }
    std::optional<keys::KeyPair> pair = gateway_key("gateway", std::string(config.key.data_dir.view()), true);
    if (!pair) return 1;
    // Every channel is a descriptor: a watch table and a descriptor limit for max_channels.
    std::vector<posix::EventLoop::Watch> watches(config.limits.max_channels + reserved_descriptors);
    posix::EventLoop loop(watches);
    if (!loop.open().ok()) return 1;
    raise_descriptor_limit(config.limits.max_channels + reserved_descriptors);
    std::printf("pinhole gateway: public key %s; %zu authorized node keys\n", key_text(pair->public_key).c_str(),
                authorized.value().size());
    auto server = std::make_unique<gateway::GatewayServer>(loop, *pair, authorized.value(), config.limits);
    crypto::zeroize_object(*pair);
    gateway::use_heap_for_mbedtls();
    gateway::TlsServerConfig tls;
    if (config.has_tls) {
        const std::string failed = tls.load(std::string(config.tls.cert.view()), std::string(config.tls.key.view()));
        if (!failed.empty()) {
            complain("gateway", failed.c_str());
            return 1;
        }
        server->use_tls(tls);
        std::printf("pinhole gateway: TLS on every listener too; certificate sha256 %s\n",
                    tls.certificate_sha256().c_str());
    }
    if (const char* dump = std::getenv("PINHOLE_GATEWAY_FRAME_DUMP"); dump != nullptr && !server->dump_frames_to(dump)) {
        return 1;
    }
    for (const net::Endpoint& at : config.listen) {
        if (!server->listen(at)) return 1;
    }
    SignalHandler handler(*server, std::string(config.authorized_keys.view()));
    const int signal_fd = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0 || !loop.watch(signal_fd, EPOLLIN, handler).ok()) return 1;
    while (!handler.stopping) {
        server->tick();
        if (!loop.run_once(1000).ok()) return 1;
    }
    return 0;
}

}  // namespace pinhole::cli
