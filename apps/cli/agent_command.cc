// agent: run a node on this machine (DESIGN §1): one key, one WireGuard device on a UDP socket,
// one lwIP overlay stack with a netif per peer, driven by the posix event loop. Logs start-up,
// completed handshakes and endpoint changes; SIGUSR1 prints counters; SIGTERM/SIGINT stop it.
#include <lwip/init.h>
#include <lwip/timeouts.h>

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli/commands.h"
#include "apps/node/control_server.h"
#include "config/load.h"
#include "core/acl/acl.h"
#include "core/crypto/ct.h"
#include "core/keys/keys.h"
#include "core/overlay/dns_client.h"
#include "core/overlay/dns_server.h"
#include "core/overlay/overlay_stack.h"
#include "core/overlay/service_directory.h"
#include "core/overlay/streams.h"
#include "core/overlay/udp_exit.h"
#include "core/overlay/udp_flows.h"
#include "core/relay/relay_client.h"
#include "core/time/wall_clock.h"
#include "core/util/format.h"
#include "core/util/time.h"
#include "core/wireguard/device.h"
#include "port/posix/platform.h"

namespace pinhole::cli {
namespace {

template <typename... Arguments>
void log_line(std::string_view format, const Arguments&... arguments) {
    std::array<char, 512> text{};
    const std::size_t length = format_to(text, format, arguments...);
    std::printf("pinhole agent: %.*s\n", static_cast<int>(length), text.data());
}

std::string key_text(const crypto::X25519Key& key) {
    std::array<char, keys::key_text_bytes + 1> text{};
    return keys::format_key(key, text).ok() ? std::string(text.data()) : std::string("?");
}

std::string endpoint_text(const std::optional<wireguard::Endpoint>& endpoint) {
    if (!endpoint.has_value() || endpoint->kind == wireguard::Endpoint::Kind::none) return "none";
    if (endpoint->kind == wireguard::Endpoint::Kind::relay) return "relay";
    std::array<char, net::endpoint_text_bytes> text{};
    return net::format_endpoint(endpoint->udp, text).ok() ? std::string(text.data()) : "?";
}

// A `wg genpsk` key from a file only its owner can read (as init refuses a readable key).
std::optional<crypto::X25519Key> read_preshared_key(const std::string& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        std::fprintf(stderr, "pinhole agent: cannot read the pre-shared key %s\n", path.c_str());
        return std::nullopt;
    }
    if ((status.st_mode & 077) != 0) {
        std::fprintf(stderr, "pinhole agent: %s can be read by other users, so it is not used. "
                             "Fix: chmod 600 %s\n", path.c_str(), path.c_str());
        return std::nullopt;
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string contents = text.str();
    const Result<crypto::X25519Key> key = keys::parse_key(contents);
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(contents.data()), contents.size()));
    if (!key.ok()) {
        std::fprintf(stderr, "pinhole agent: %s is not a pre-shared key (44 base64 characters, "
                             "as `pinhole genpsk` writes)\n", path.c_str());
        return std::nullopt;
    }
    return key.value();
}

// Tests only (tests/integration/netns/wg_interop_rekey.sh): wireguard-go's REKEY_AFTER_TIME is
// fixed at 120 s, so the node is the side that rekeys on the wire, with this shortened timer.
constexpr const char* test_rekey_variable = "PINHOLE_TEST_REKEY_AFTER_TIME_MS";
constexpr std::uint32_t test_rekey_min_ms = 1'000;
constexpr std::uint32_t test_rekey_max_ms = 3'600'000;  // 3 × REJECT_AFTER_TIME stays far below 2^31 ms

// REJECT_AFTER_TIME for a given REKEY_AFTER_TIME, keeping the whitepaper's order: at least
// 3/2 of it (180 s / 120 s), and late enough that the initiator's receive-side rekey
// (REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT, 165 s by default) never comes before
// the send-side one. Never below the default: the knob only makes the node rekey sooner.
std::uint32_t reject_after_time_for(const wireguard::TimerSettings& timers) {
    const std::uint32_t ratio_ms = timers.rekey_after_time_ms / 2 * 3;
    const std::uint32_t margin_ms =
        timers.rekey_after_time_ms + timers.keepalive_timeout_ms + timers.rekey_timeout_ms;
    return std::max({timers.reject_after_time_ms, ratio_ms, margin_ms});
}

// The whitepaper's timers, or REKEY_AFTER_TIME from the test variable (with a warning line);
// a malformed value stops the agent rather than silently testing the default timers.
std::optional<wireguard::TimerSettings> timer_settings_from_environment() {
    wireguard::TimerSettings timers;
    const char* text = std::getenv(test_rekey_variable);
    if (text == nullptr || *text == '\0') return timers;  // unset or empty: the defaults
    const std::string_view value(text);
    std::uint32_t rekey_ms = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), rekey_ms);
    if (error != std::errc{} || end != value.data() + value.size() || rekey_ms < test_rekey_min_ms ||
        rekey_ms > test_rekey_max_ms) {
        std::fprintf(stderr, "pinhole agent: %s=%s: expected milliseconds from %u to %u\n",
                     test_rekey_variable, text, test_rekey_min_ms, test_rekey_max_ms);
        return std::nullopt;
    }
    timers.rekey_after_time_ms = rekey_ms;
    timers.reject_after_time_ms = reject_after_time_for(timers);
    log_line("warning: test timers in use ({}): REKEY_AFTER_TIME {} ms, REJECT_AFTER_TIME {} ms; "
             "not for real deployments", std::string_view(test_rekey_variable),
             timers.rekey_after_time_ms, timers.reject_after_time_ms);
    return timers;
}

// Read from a signalfd; blocked in every thread (before the resolver's worker starts) so
// that none of them takes the default action.
sigset_t handled_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (const int signal_number : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&signals, signal_number);
    return signals;
}

struct PeerState {
    std::string name;
    wireguard::PeerId id = 0;
    std::size_t config_index = 0;
    std::uint64_t handshakes_reported = 0;
    std::optional<wireguard::Endpoint> endpoint_reported;
};

// The node: the device and the overlay stack wired together on the posix port.
// PINHOLE_ACK_COALESCING=off sends every pure ACK lwIP makes at once (benchmarks compare).
bool ack_coalescing_from_environment() {
    const char* text = std::getenv("PINHOLE_ACK_COALESCING");
    return text == nullptr || std::string_view(text) != "off";
}

class Agent final : public wireguard::DeviceOutput,
                    public overlay::OverlayOutput,
                    public overlay::ExitPolicy,
                    public overlay::DirectoryPolicy,
                    public overlay::NamePolicy,
                    public node::NodeControl,
                    public relay::RelayEvents,
                    public port::UdpReceiver,
                    public posix::FdHandler {
public:
    Agent(posix::PosixPlatform& platform, const keys::KeyPair& pair, const config::NodeConfig& config,
          const wireguard::TimerSettings& timers, WallClock* wall_clock, std::span<const std::uint8_t> ca_pem)
        : platform_(platform), wall_clock_(wall_clock), config_(config),
          device_({pair.private_key, pair.public_key}, random_, *this, device_settings(config.mtu_bytes, timers)),
          overlay_(*this, pair.public_key), mtu_bytes_(config.mtu_bytes),
          logger_(platform.platform().log, port::LogLevel::info),
          streams_(overlay_, {platform.platform().tcp, platform.platform().resolver, clock_}, *this, logger_, {}),
          directory_(overlay_, *this, clock_),
          dns_(overlay_, *this, *this, {platform.platform().resolver, clock_}, logger_),
          dns_client_(overlay_, clock_),
          udp_exit_(overlay_, platform.platform().udp, clock_, *this, logger_, {}),
          udp_flows_(overlay_),
          control_(platform.loop(), platform.posix_tcp(), *this) {
        overlay_.set_ack_coalescing(ack_coalescing_from_environment());  // run() flushes each turn
        streams_.set_deferred_socket_writes(true);                        // and this too
        if (config.has_gateway) {
            relay_ = std::make_unique<relay::RelayClient>(
                relay::RelayClient::Ports{platform.platform().tcp, platform.platform().resolver, random_, clock_},
                pair, config.gateway, *this, logger_, relay::RelaySettings{.tls_ca_pem = ca_pem});
        }
    }

    [[nodiscard]] bool configure(const std::vector<std::optional<crypto::X25519Key>>& psks);
    [[nodiscard]] bool open(std::uint16_t listen_port, const std::string& control_path);
    void run();

    // overlay::ExitPolicy, overlay::DirectoryPolicy
    acl::Decision decide(overlay::PeerId peer, const net::Endpoint& destination) noexcept override;
    void published_services(overlay::PeerId peer, overlay::ServiceList& out) noexcept override;
    // overlay::NamePolicy: names for peers with network or domain rules; remembered for a domain rule
    bool may_resolve(overlay::PeerId peer) noexcept override {
        const config::Peer* configured = config_peer(peer);
        return configured != nullptr && acl::may_resolve_names(*configured);
    }
    bool remembers(overlay::PeerId peer, std::string_view name) noexcept override {
        const config::Peer* configured = config_peer(peer);
        return configured != nullptr && acl::has_domain_rule_for(*configured, name);
    }
    // node::NodeControl
    std::optional<overlay::PeerId> peer_by_name(std::string_view name) override;
    net::IpAddress peer_overlay_address(overlay::PeerId peer) override;
    overlay::StreamTable& streams() override { return streams_; }
    overlay::ServiceDirectory& directory() override { return directory_; }
    overlay::DnsClient& names() override { return dns_client_; }
    port::Clock& clock() override { return clock_; }
    port::Udp& udp() override { return platform_.platform().udp; }
    overlay::UdpFlows& udp_flows() override { return udp_flows_; }
    std::vector<std::string> status_lines() override;
    void stop() override { stopping_ = true; }

private:
    static wireguard::DeviceSettings device_settings(std::uint16_t mtu_bytes,
                                                     const wireguard::TimerSettings& timers) {
        wireguard::DeviceSettings settings;
        settings.timers = timers;
        settings.mtu_bytes = mtu_bytes;
        return settings;
    }
    [[nodiscard]] bool add_peer(const config::Peer& peer, const std::optional<crypto::X25519Key>& psk);
    port::WallTime wall() { return wall_clock_ != nullptr ? wall_clock_->now() : clock_.wall_time(); }
    [[nodiscard]] int timeout_ms();
    void report_peer_events();
    void report_rejections();
    void report_udp_fallback();
    void raise_wall_clock_floor_when_due();

    void send_datagram(const wireguard::Endpoint& to, std::span<const std::uint8_t> datagram) noexcept override {
        if (to.kind == wireguard::Endpoint::Kind::relay) {
            if (relay_ != nullptr) relay_->send(to.relay_peer, datagram);  // drops are counted there
            return;
        }
        if (to.kind != wireguard::Endpoint::Kind::udp) return;
        (void)platform_.platform().udp.send(socket_, to.udp, datagram);  // a full buffer drops, as UDP
    }
    void on_relay_datagram(const crypto::X25519Key& from, std::span<const std::uint8_t> datagram) noexcept override {
        device_.receive(wireguard::Endpoint::relay(relay_->gateway_key(), from), datagram, clock_.monotonic_ms(), wall());
    }
    void on_presence(const crypto::X25519Key& peer, bool up) noexcept override {
        log_line("relay: peer {} is {} at the gateway", key_text(peer), up ? "up" : "down");
        if (const std::optional<wireguard::PeerId> id = device_.find_peer(peer); up && id.has_value()) {
            device_.resend_pending_initiation(*id);
        }
    }
    void on_relay_up() noexcept override {
        for (const PeerState& state : peers_) device_.resend_pending_initiation(state.id);
    }
    void deliver(wireguard::PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept override {
        overlay_.deliver(peer, ip_packet);
    }
    bool expects_source(wireguard::PeerId peer, const net::IpAddress& source) noexcept override {
        return streams_.expects_source(peer, source) || udp_flows_.expects_source(peer, source);
    }
    void send_packet(wireguard::PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept override {
        (void)device_.send(peer, ip_packet, clock_.monotonic_ms(), wall());  // refusals are counted
    }
    void on_datagram(port::UdpSocketId, const net::Endpoint& from,
                     std::span<const std::uint8_t> payload) noexcept override {
        device_.receive(wireguard::Endpoint::direct(from), payload, clock_.monotonic_ms(), wall());
    }
    void on_fd_events(int fd, std::uint32_t events) noexcept override;

    [[nodiscard]] const config::Peer* config_peer(overlay::PeerId peer) const;

    posix::PosixPlatform& platform_;
    WallClock* wall_clock_;
    const config::NodeConfig& config_;
    std::uint32_t next_floor_raise_ms_ = 0;  // set by run(): WallClock::start() just raised it
    posix::PosixClock clock_;
    posix::PosixRandom random_;
    wireguard::Device device_;
    overlay::OverlayStack overlay_;  // after the device: it resets its connections through it
    std::uint16_t mtu_bytes_;
    Logger logger_;
    overlay::StreamTable streams_;  // after the overlay: it intercepts the overlay's packets
    overlay::ServiceDirectory directory_;
    overlay::DnsServer dns_;         // UDP and TCP 53 on the overlay addresses
    overlay::DnsClient dns_client_;  // host-name targets, asked of the agent
    overlay::UdpExit udp_exit_;      // after the overlay: it intercepts its UDP packets
    overlay::UdpFlows udp_flows_;    // `forward-udp`'s flows
    node::ControlServer control_;
    std::unique_ptr<relay::RelayClient> relay_;  // with a gateway in the config
    std::vector<net::IpAddress> local_addresses_;  // the device's own, for the access lists
    port::UdpSocketId socket_ = 0;
    posix::UdpBatching udp_batching_reported_ = platform_.posix_udp().batching();
    int signal_fd_ = -1;
    bool stopping_ = false;
    std::vector<PeerState> peers_;
    wireguard::MessageCounters rejections_reported_{};  // what report_rejections last saw
};

bool Agent::configure(const std::vector<std::optional<crypto::X25519Key>>& psks) {
    const config::NodeConfig& node = config_;
    for (const config::InterfaceAddress& address : node.address) {
        const Status added = overlay_.add_address(address.address);
        if (added.error() == Errc::unsupported) {
            log_line("address {}: lwIP holds one IPv4 address per peer netif; only the first is used",
                     address.address);
        } else if (!added.ok()) {
            log_line("address {}: {}", address.address, added.error());
            return false;
        }
    }
    for (std::size_t i = 0; i < node.peers.size(); i++) {
        if (!add_peer(node.peers[i], psks[i])) return false;
        peers_.back().config_index = i;
    }
    std::array<net::IpAddress, 32> local{};
    const Result<std::size_t> found = platform_.platform().interfaces.local_addresses(local);
    if (found.ok()) local_addresses_.assign(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(found.value()));
    for (const config::Service& service : node.services) {
        log_line("service {}: port {} -> {}{}{}", service.name.view(), service.port,
                 service.target.host_name.view(), service.target.host_name.size() != 0 ? ":" : "",
                 service.target.host_name.size() != 0 ? net::Endpoint{{}, service.target.endpoint.port}
                                                      : service.target.endpoint);
    }
    return true;
}

const config::Peer* Agent::config_peer(overlay::PeerId peer) const {
    for (const PeerState& state : peers_) {
        if (state.id == peer) return &config_.peers[state.config_index];
    }
    return nullptr;
}

acl::Decision Agent::decide(overlay::PeerId peer, const net::Endpoint& destination) noexcept {
    const config::Peer* configured = config_peer(peer);
    if (configured == nullptr) return acl::Decision{acl::Refusal::no_matching_rule, nullptr, {}};
    std::array<net::IpAddress, 1 + config::max_node_addresses> overlay_addresses{};
    const std::size_t count = overlay_.own_addresses(overlay_addresses);
    const acl::OwnAddresses own{std::span(overlay_addresses.data(), count), local_addresses_};
    return acl::decide(config_, *configured, own, destination, {&dns_.resolved_names(), peer, clock_.monotonic_ms()});
}

void Agent::published_services(overlay::PeerId peer, overlay::ServiceList& out) noexcept {
    const config::Peer* configured = config_peer(peer);
    if (configured == nullptr) return;
    for (std::size_t i = 0; i < config_.services.size(); i++) {
        if (acl::may_reach_service(*configured, i)) {
            (void)out.push_back({config_.services[i].name, config_.services[i].port});  // same capacity
        }
    }
}

std::optional<overlay::PeerId> Agent::peer_by_name(std::string_view name) {
    for (const PeerState& peer : peers_) {
        if (peer.name == name) return peer.id;
    }
    return std::nullopt;
}

net::IpAddress Agent::peer_overlay_address(overlay::PeerId peer) {
    const config::Peer* configured = config_peer(peer);
    return configured != nullptr ? keys::overlay_address(configured->public_key) : net::IpAddress{};
}

bool Agent::add_peer(const config::Peer& peer, const std::optional<crypto::X25519Key>& psk) {
    std::vector<net::Prefix> sources{{keys::overlay_address(peer.public_key), 128}};
    sources.insert(sources.end(), peer.allowed_ips.begin(), peer.allowed_ips.end());
    wireguard::PeerConfig config;
    config.public_key = peer.public_key;
    config.preshared_key = psk;
    config.allowed_sources = sources;
    config.persistent_keepalive_s = peer.persistent_keepalive_seconds;
    if (peer.has_endpoint && peer.endpoint.host_name.size() == 0) {
        config.endpoint = wireguard::Endpoint::direct(peer.endpoint.endpoint);
    } else if (!peer.has_endpoint && relay_ != nullptr) {
        config.endpoint = wireguard::Endpoint::relay(relay_->gateway_key(), peer.public_key);
    } else if (peer.has_endpoint) {
        log_line("peer {}: endpoint host names are not resolved yet ({}): waiting for the peer to "
                 "connect first", peer.name.view(), peer.endpoint.host_name.view());
    }
    const Result<wireguard::PeerId> id = device_.add_peer(config, clock_.monotonic_ms());
    if (!id.ok()) {
        log_line("peer {}: {}", peer.name.view(), id.error());
        return false;
    }
    const Status added = overlay_.add_peer(id.value(), mtu_bytes_, peer.public_key,
                                           std::span(peer.allowed_ips.begin(), peer.allowed_ips.end()));
    if (!added.ok()) {
        log_line("peer {}: overlay netif: {}", peer.name.view(), added.error());
        return false;
    }
    peers_.push_back({std::string(peer.name.view()), id.value(), 0, 0, config.endpoint});
    log_line("peer {}: key {}, overlay address {}, endpoint {}", peer.name.view(),
             key_text(peer.public_key), keys::overlay_address(peer.public_key),
             endpoint_text(config.endpoint));
    return true;
}

bool Agent::open(std::uint16_t listen_port, const std::string& control_path) {
    if (!node::prepare_control_directory(control_path)) return false;
    if (const Status opened = control_.open(control_path); !opened.ok()) {
        if (opened.error() == Errc::already_exists) {
            log_line("a node with this key already runs (its control socket {} answers): one node per key. "
                     "Use it (`pinhole status`), or stop it first (`pinhole down`)", std::string_view(control_path));
        } else {
            log_line("cannot serve the control socket {}: {}", std::string_view(control_path), opened.error());
        }
        return false;
    }
    log_line("control socket {}", std::string_view(control_path));
    const Result<port::UdpSocketId> socket =
        platform_.platform().udp.open(net::Endpoint{net::IpAddress{}, listen_port}, *this);
    if (!socket.ok()) {
        log_line("cannot open UDP port {}: {}", listen_port, socket.error());
        return false;
    }
    socket_ = socket.value();
    const Result<net::Endpoint> local = platform_.platform().udp.local_endpoint(socket_);
    log_line("listening on UDP port {}", local.ok() ? local.value().port : listen_port);

    const sigset_t signals = handled_signals();
    signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0 || !platform_.loop().watch(signal_fd_, EPOLLIN, *this).ok()) {
        log_line("cannot watch signals");
        return false;
    }
    return true;
}

void Agent::on_fd_events(int fd, std::uint32_t) noexcept {
    signalfd_siginfo info{};
    for (int i = 0; i < 16 && ::read(fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info); i++) {
        if (info.ssi_signo == SIGUSR1) {
            for (const std::string& line : status_lines()) std::printf("pinhole agent: %s\n", line.c_str());
        } else {
            log_line("stopping ({})", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            stopping_ = true;
        }
    }
}

int Agent::timeout_ms() {
    std::uint32_t wait_ms = 1000;
    if (const std::optional<std::uint32_t> deadline = device_.next_deadline_ms()) {
        const auto until = static_cast<std::int32_t>(*deadline - clock_.monotonic_ms());
        wait_ms = std::min<std::uint32_t>(wait_ms, until > 0 ? static_cast<std::uint32_t>(until) : 0);
    }
    wait_ms = std::min<std::uint32_t>(wait_ms, sys_timeouts_sleeptime());
    return static_cast<int>(wait_ms);
}

void Agent::run() {
    log_line("running");
    next_floor_raise_ms_ = deadline_after(clock_.monotonic_ms(), wireguard::rekey_after_time_ms);
    while (!stopping_) {
        device_.tick(clock_.monotonic_ms(), wall());
        sys_check_timeouts();
        streams_.tick();
        udp_exit_.tick();
        directory_.tick();
        dns_.tick();
        dns_client_.tick();
        control_.collect();
        streams_.flush_sockets();  // this turn's bytes from the overlay, one write per socket
        overlay_.flush_acks();     // this turn's merged ACKs, before the datagrams leave
        if (relay_ != nullptr) relay_->tick();  // last: it sends what the turn queued for the relay
        const Result<int> ran = platform_.loop().run_once(timeout_ms());
        if (!ran.ok()) {
            log_line("event loop: {}", ran.error());
            return;
        }
        report_peer_events();
        report_rejections();
        report_udp_fallback();
        raise_wall_clock_floor_when_due();
    }
}

// The port stops asking for segmentation offload when the kernel refuses a GSO run (a path
// narrower than a datagram, no checksum offload): said once, as the mode changes.
void Agent::report_udp_fallback() {
    const posix::UdpBatching now = platform_.posix_udp().batching();
    if (now == udp_batching_reported_) return;
    if (udp_batching_reported_ == posix::UdpBatching::offload) {
        log_line("udp batching: the kernel refused a GSO run (a path MTU below a full datagram, or no "
                 "checksum offload): sending batches without segmentation from now on");
    }
    udp_batching_reported_ = now;
}

// DESIGN §1 Clocks: the persisted floor is raised every REKEY_AFTER_TIME, so after a reboot
// without an RTC our TAI64N timestamps still beat the last ones our peers saw.
void Agent::raise_wall_clock_floor_when_due() {
    const std::uint32_t now_ms = clock_.monotonic_ms();
    if (wall_clock_ == nullptr || !time_after_or_equal(now_ms, next_floor_raise_ms_)) return;
    next_floor_raise_ms_ = deadline_after(now_ms, wireguard::rekey_after_time_ms);
    if (const Status raised = wall_clock_->raise_floor(); !raised.ok()) {
        log_line("cannot persist the wall-clock floor: {}", raised.error());
    }
}

void Agent::report_peer_events() {
    for (PeerState& peer : peers_) {
        const wireguard::PeerCounters* counters = device_.peer_counters(peer.id);
        const std::optional<wireguard::Endpoint> endpoint = device_.peer_endpoint(peer.id);
        if (endpoint.has_value() && endpoint != peer.endpoint_reported) {
            log_line("peer {}: endpoint {}", peer.name, endpoint_text(endpoint));
            peer.endpoint_reported = endpoint;
        }
        if (counters != nullptr && counters->handshakes_completed != peer.handshakes_reported) {
            peer.handshakes_reported = counters->handshakes_completed;
            log_line("peer {}: handshake completed (endpoint {})", peer.name, endpoint_text(endpoint));
        }
    }
}

// One line per pass that rejected messages, naming the reasons (a wrong psk shows up as
// decrypt_empty, a stranger's key as unknown_peer), so an operator sees why no session forms.
void Agent::report_rejections() {
    using Counters = wireguard::MessageCounters;
    static constexpr std::pair<const char*, std::uint64_t Counters::*> reasons[] = {
        {"wrong_length", &Counters::wrong_length}, {"unknown_type", &Counters::unknown_type},
        {"nonzero_reserved", &Counters::nonzero_reserved}, {"bad_mac1", &Counters::bad_mac1},
        {"bad_mac2", &Counters::bad_mac2}, {"decrypt_static", &Counters::decrypt_static},
        {"decrypt_timestamp", &Counters::decrypt_timestamp},
        {"decrypt_empty (a different pre-shared key?)", &Counters::decrypt_empty},
        {"decrypt_cookie", &Counters::decrypt_cookie}, {"stale_timestamp", &Counters::stale_timestamp},
        {"flood", &Counters::flood}, {"unknown_peer", &Counters::unknown_peer},
        {"unknown_index", &Counters::unknown_index}, {"unexpected_state", &Counters::unexpected_state},
        {"weak_key", &Counters::weak_key}, {"decrypt_data", &Counters::decrypt_data},
        {"replayed_counter", &Counters::replayed_counter}, {"expired_keypair", &Counters::expired_keypair},
    };
    const Counters& now = device_.counters().messages;
    std::string changed;
    for (const auto& [name, field] : reasons) {
        const std::uint64_t added = now.*field - rejections_reported_.*field;
        if (added != 0) changed += (changed.empty() ? "" : ", ") + std::to_string(added) + " " + name;
    }
    rejections_reported_ = now;
    if (!changed.empty()) log_line("rejected messages: {}", std::string_view(changed));
}

template <typename... Arguments>
std::string formatted(std::string_view format, const Arguments&... arguments) {
    std::array<char, 512> text{};
    return std::string(text.data(), format_to(text, format, arguments...));
}

std::vector<std::string> Agent::status_lines() {
    const wireguard::DeviceCounters& device = device_.counters();
    const overlay::OverlayCounters& overlay = overlay_.counters();
    const overlay::StreamCounters& streams = streams_.counters();
    std::vector<std::string> lines;
    lines.push_back(formatted(
        "status: {} rejected messages, {} handshake messages, {} cookie replies; overlay {} "
        "packets in, {} out ({} pure ACKs merged), {} not routed, echo {} B, discard {} B, {} connections",
        wireguard::total_rejections(device.messages), device.handshake_messages_received,
        device.cookie_replies_sent, overlay.packets_delivered, overlay.packets_sent, overlay_.ack_counters().merged,
        overlay.not_routed_to_peer, overlay.echo_bytes, overlay.discard_bytes, overlay_.open_connections()));
    lines.push_back(formatted(
        "status: streams {} open; exit {} opened, {} refused by the access list, {} connects failed, "
        "{} refused at the stream limit; dial {} opened, {} failed; {} B to sockets, {} B to the overlay; "
        "{} reset by the overlay, {} by sockets, {} idle",
        streams_.open_streams(), streams.exit_opened, streams.exit_refused_by_policy, streams.exit_connect_failed,
        streams.refused_stream_limit, streams.dial_opened, streams.dial_failed, streams.bytes_to_socket,
        streams.bytes_to_overlay, streams.reset_by_overlay, streams.reset_by_socket, streams.idle_timeouts));
    const overlay::DnsServerCounters& dns = dns_.counters();
    lines.push_back(formatted(
        "status: dns {} queries over UDP, {} over TCP; {} own names, {} resolved ({} remembered for domain "
        "rules, {} live); {} NXDOMAIN, {} SERVFAIL, {} REFUSED, {} FORMERR, {} NOTIMP, {} dropped, {} busy",
        dns.queries_udp, dns.queries_tcp, dns.answered_own, dns.answered_resolved, dns.names_remembered,
        dns_.resolved_names().live(clock_.monotonic_ms()), dns.nxdomain, dns.servfail, dns.refused, dns.formerr,
        dns.notimp, dns.dropped, dns.busy));
    const overlay::UdpExitCounters& exit = udp_exit_.counters();
    const overlay::UdpFlowCounters& flows = udp_flows_.counters();
    lines.push_back(formatted(
        "status: udp exit {} flows open, {} opened, {} refused by the access list, {} datagrams out, {} back, "
        "{} dropped (no flow slot), {} expired; udp flows {} opened, {} sent, {} received",
        udp_exit_.open_flows(), exit.flows_opened, exit.refused_by_policy, exit.datagrams_out, exit.datagrams_back,
        exit.dropped_no_flow_slot, exit.flows_expired, flows.opened, flows.datagrams_sent, flows.datagrams_received));
    const posix::UdpCounters& udp = platform_.posix_udp().counters();
    static constexpr const char* batching_names[] = {"single", "mmsg", "offload"};
    lines.push_back(formatted(
        "status: udp batching {}; {} datagrams sent in {} calls ({} GSO messages), {} dropped; {} received "
        "in {} calls ({} GRO buffers), {} truncated",
        batching_names[static_cast<int>(platform_.posix_udp().batching())], udp.datagrams_sent, udp.send_calls,
        udp.offload_messages, udp.send_dropped, udp.datagrams_received, udp.receive_calls, udp.offload_received,
        udp.receive_truncated));
    if (relay_ != nullptr) {
        const relay::RelayCounters& relay = relay_->counters();
        lines.push_back(formatted(
            "status: relay {}; {} connects, {} up, {} failures; {} datagrams sent, {} received; dropped {} "
            "(channel down), {} (queue full); {} errors from the gateway, {} malformed frames",
            relay_->up() ? "up" : "down", relay.connects, relay.established, relay.failures, relay.datagrams_sent,
            relay.datagrams_received, relay.dropped_not_up, relay.dropped_buffer_full, relay.errors_received,
            relay.malformed_frames));
    }
    for (const PeerState& peer : peers_) {
        const wireguard::PeerCounters* counters = device_.peer_counters(peer.id);
        if (counters == nullptr) continue;
        lines.push_back(formatted(
            "status: peer {}: endpoint {}, {} packets sent, {} received, {} handshakes, {} roams, "
            "{} disallowed sources", peer.name, endpoint_text(device_.peer_endpoint(peer.id)),
            counters->packets_sent, counters->packets_received, counters->handshakes_completed, counters->roams,
            counters->disallowed_source));
    }
    return lines;
}

// gateway.ca_file, NUL-terminated for mbedTLS; bounded by the board's budget.
bool read_ca_file(const std::string& path, std::vector<std::uint8_t>& pem) {
    std::ifstream file(path, std::ios::binary);
    pem.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) {
        std::fprintf(stderr, "pinhole agent: gateway.ca_file %s: cannot read it: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    if (pem.size() > PINHOLE_BUDGET_TLS_CA_BYTES) {
        std::fprintf(stderr, "pinhole agent: gateway.ca_file %s: %zu bytes, more than this board takes (%d); "
                             "give only the CA that signs the gateway's certificate\n",
                     path.c_str(), pem.size(), PINHOLE_BUDGET_TLS_CA_BYTES);
        return false;
    }
    if (std::string_view(reinterpret_cast<const char*>(pem.data()), pem.size()).find("-----BEGIN CERTIFICATE-----") ==
        std::string_view::npos) {
        std::fprintf(stderr, "pinhole agent: gateway.ca_file %s: no PEM certificate in it\n", path.c_str());
        return false;
    }
    pem.push_back(0);
    return true;
}

// PINHOLE_UDP_BATCHING: how datagrams cross the kernel (benchmarks compare them; the default,
// offload, falls back by itself where the kernel lacks GSO).
bool choose_udp_batching(posix::PosixUdp& udp) {
    static constexpr std::pair<std::string_view, posix::UdpBatching> modes[] = {
        {"single", posix::UdpBatching::single}, {"mmsg", posix::UdpBatching::mmsg},
        {"offload", posix::UdpBatching::offload}};
    const char* text = std::getenv("PINHOLE_UDP_BATCHING");
    const std::string_view wanted = text != nullptr && *text != '\0' ? text : "offload";
    for (const auto& [name, mode] : modes) {
        if (wanted != name) continue;
        udp.set_batching(mode);
        const bool fell_back = udp.batching() != mode;
        log_line("udp batching: {}{}", wanted, fell_back ? " (no UDP_SEGMENT in this kernel: mmsg)" : "");
        return true;
    }
    log_line("PINHOLE_UDP_BATCHING is '{}': use single, mmsg or offload (the default)", wanted);
    return false;
}

std::optional<keys::KeyPair> load_node_key(const config::NodeConfig& node, posix::PosixPlatform& platform) {
    Result<keys::KeyPair> pair = Errc::not_found;
    std::string source = "key.private_key";
    if (node.key.has_private_key) {
        pair = keys::key_pair_from_private(node.key.private_key);
    } else {
        source = std::string(node.key.data_dir.view()) + "/" + keys::private_key_record;
        pair = keys::load_identity({}, platform.storage(), platform.platform().random, true);
    }
    if (!pair.ok()) {
        explain_identity_error("agent", pair.error(), source.c_str());
        return std::nullopt;
    }
    return pair.value();
}

}  // namespace

// `pinhole agent -c FILE` and `pinhole up -c FILE`: the same node in the foreground.
int agent(Arguments arguments) {
    if (arguments.size() != 2 || std::string_view(arguments[0]) != "-c") {
        complain("agent", "usage: pinhole agent -c FILE   (or: pinhole up -c FILE)");
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // one log line at a time, even into a pipe
    const sigset_t signals = handled_signals();
    if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) return 1;
    const auto node = config::load_node_config(arguments[1]);
    if (!node.ok()) {
        std::fprintf(stderr, "%s\n", node.error().to_string().c_str());
        return 1;
    }
    const config::NodeConfig& config = node.value();
    std::vector<std::uint8_t> ca_pem;
    if (config.has_gateway && config.gateway.ca_file.size() != 0 &&
        !read_ca_file(std::string(config.gateway.ca_file.view()), ca_pem)) {
        return 1;
    }
    const std::optional<wireguard::TimerSettings> timers = timer_settings_from_environment();
    if (!timers.has_value()) return 1;
    std::vector<std::optional<crypto::X25519Key>> psks;
    for (const config::Peer& peer : config.peers) {
        psks.emplace_back();
        if (peer.preshared_key_file.size() == 0) continue;
        psks.back() = read_preshared_key(std::string(peer.preshared_key_file.view()));
        if (!psks.back().has_value()) return 1;
    }
    // Without data_dir the key comes from the config; the storage then holds nothing.
    const std::string data_dir = config.key.data_dir.size() != 0 ? std::string(config.key.data_dir.view()) : ".";
    auto platform = std::make_unique<posix::PosixPlatform>();
    if (const Status opened = platform->open(data_dir); !opened.ok()) {
        std::fprintf(stderr, "pinhole agent: cannot open %s: %s\n", data_dir.c_str(), describe(opened.error()));
        return 1;
    }
    std::optional<keys::KeyPair> pair = load_node_key(config, *platform);
    if (!pair.has_value()) return 1;
    if (!choose_udp_batching(platform->posix_udp())) return 1;
    std::unique_ptr<WallClock> wall_clock;
    if (config.key.data_dir.size() != 0) {
        wall_clock = std::make_unique<WallClock>(platform->platform().clock, platform->storage());
        if (!wall_clock->start().ok()) wall_clock.reset();  // the platform clock alone, then
    }
    log_line("public key {}", key_text(pair->public_key));
    log_line("overlay address {}/128", keys::overlay_address(pair->public_key));
    for (const auto& address : config.address) log_line("address {}/{}", address.address, address.prefix_length);
    log_line("mtu {}", config.mtu_bytes);

    const std::string control_path = node::control_socket_path(keys::overlay_address(pair->public_key));
    lwip_init();
    auto node_agent = std::make_unique<Agent>(*platform, *pair, config, *timers, wall_clock.get(), ca_pem);
    crypto::zeroize_object(*pair);
    const bool configured = node_agent->configure(psks);
    for (auto& psk : psks) crypto::zeroize_object(psk);
    if (!configured || !node_agent->open(config.listen_port, control_path)) return 1;
    node_agent->run();
    return 0;
}

}  // namespace pinhole::cli
