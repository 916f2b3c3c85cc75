// Simulation support for the WireGuard device tests: a node glues one wireguard::Device to a
// simulated UDP socket and drives its timers with an Alarm; synthetic IP packets carry a
// sender tag and a sequence number so tests can see losses, duplicates and replays; a seed
// loop runs a scenario over hundreds of seeds (or only PINHOLE_SIM_SEED when it is set).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/wireguard/device.h"
#include "sim_test_support.h"

namespace pinhole::sim::wireguard_support {

using namespace testing_support;
namespace wg = ::pinhole::wireguard;

inline constexpr std::uint16_t wireguard_port = 51820;

// --- Synthetic IP packets -------------------------------------------------------------------

inline constexpr std::size_t ipv4_header_bytes = 20;
inline constexpr std::size_t ipv6_header_bytes = 40;
// After the IP header: the sender's tag (1 byte) and a big-endian 64-bit sequence number.
inline constexpr std::size_t marker_bytes = 9;

// A minimal IPv4 or IPv6 header with `source` as its source address (the device checks it
// against the sender's allowed sources), then the marker, then `filler_bytes` of payload.
inline std::vector<std::uint8_t> ip_packet(const net::IpAddress& source,
                                           const net::IpAddress& destination, std::uint8_t tag,
                                           std::uint64_t sequence, std::size_t filler_bytes = 23) {
    const bool v4 = source.is_v4();
    const std::size_t header_bytes = v4 ? ipv4_header_bytes : ipv6_header_bytes;
    std::vector<std::uint8_t> packet(header_bytes + marker_bytes + filler_bytes, 0);
    if (v4) {
        packet[0] = 0x45;
        packet[2] = static_cast<std::uint8_t>(packet.size() >> 8);
        packet[3] = static_cast<std::uint8_t>(packet.size());
        packet[8] = 64;  // TTL
        packet[9] = 17;  // UDP
        std::copy_n(source.bytes.begin(), 4, packet.begin() + 12);
        std::copy_n(destination.bytes.begin(), 4, packet.begin() + 16);
    } else {
        const std::size_t payload_bytes = packet.size() - ipv6_header_bytes;
        packet[0] = 0x60;
        packet[4] = static_cast<std::uint8_t>(payload_bytes >> 8);
        packet[5] = static_cast<std::uint8_t>(payload_bytes);
        packet[6] = 17;
        packet[7] = 64;
        std::copy_n(source.bytes.begin(), 16, packet.begin() + 8);
        std::copy_n(destination.bytes.begin(), 16, packet.begin() + 24);
    }
    packet[header_bytes] = tag;
    for (int i = 0; i < 8; ++i) {
        packet[header_bytes + 1 + static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(sequence >> (56 - 8 * i));
    }
    for (std::size_t i = 0; i < filler_bytes; ++i) {
        packet[header_bytes + marker_bytes + i] = static_cast<std::uint8_t>(sequence * 7 + i);
    }
    return packet;
}

struct Marker {
    std::uint8_t tag = 0;
    std::uint64_t sequence = 0;
};

inline std::optional<Marker> read_marker(const std::vector<std::uint8_t>& packet) {
    if (packet.empty()) return std::nullopt;
    const std::size_t header_bytes = (packet[0] >> 4) == 4 ? ipv4_header_bytes : ipv6_header_bytes;
    if (packet.size() < header_bytes + marker_bytes) return std::nullopt;
    Marker marker{packet[header_bytes], 0};
    for (std::size_t i = 0; i < 8; ++i) {
        marker.sequence = marker.sequence << 8 | packet[header_bytes + 1 + i];
    }
    return marker;
}

// --- A node: one Device on one simulated host -------------------------------------------------

struct Delivery {
    std::uint64_t at_ms;
    wg::PeerId peer;
    std::vector<std::uint8_t> packet;
};

class WireGuardNode final : public port::UdpReceiver, public wg::DeviceOutput, public Alarm {
public:
    WireGuardNode(World& world, Host& host, std::uint8_t key_seed,
                  const wg::DeviceSettings& settings = {})
        : world_(world), host_(host) {
        private_key_.fill(key_seed);
        crypto::x25519_clamp(private_key_);
        EXPECT_TRUE(crypto::x25519_public_key(public_key_, private_key_).ok());
        const wg::StaticIdentity identity{private_key_, public_key_};
        device_ = std::make_unique<wg::Device>(identity, host.random(), *this, settings);
        open_socket(wireguard_port);
    }
    WireGuardNode(const WireGuardNode&) = delete;
    WireGuardNode& operator=(const WireGuardNode&) = delete;
    ~WireGuardNode() {
        if (alarm_) world_.cancel_alarm(*alarm_);
    }

    // Roaming: the node moves to another local port (the old socket is closed).
    void open_socket(std::uint16_t port) {
        if (socket_) host_.udp().close(*socket_);
        const Result<port::UdpSocketId> socket = host_.udp().open({{}, port}, *this);
        ASSERT_TRUE(socket.ok());
        socket_ = socket.value();
    }

    wg::PeerId add_peer(const WireGuardNode& other, std::optional<net::Endpoint> endpoint,
                        std::vector<net::Prefix> allowed_sources,
                        std::optional<crypto::X25519Key> preshared_key = std::nullopt,
                        std::uint16_t persistent_keepalive_s = 0) {
        allowed_.push_back(std::move(allowed_sources));
        wg::PeerConfig config;
        config.public_key = other.public_key_;
        config.preshared_key = preshared_key;
        if (endpoint) config.endpoint = wg::Endpoint::direct(*endpoint);
        config.allowed_sources = allowed_.back();
        config.persistent_keepalive_s = persistent_keepalive_s;
        const Result<wg::PeerId> peer = device_->add_peer(config, now_ms());
        EXPECT_TRUE(peer.ok());
        return peer.ok() ? peer.value() : wg::PeerId{};
    }

    Status send(wg::PeerId peer, std::span<const std::uint8_t> packet) {
        const Status status = device_->send(peer, packet, now_ms(), wall());
        reschedule();
        return status;
    }

    void on_datagram(port::UdpSocketId, const net::Endpoint& from,
                     std::span<const std::uint8_t> payload) noexcept override {
        ++datagrams_received;
        if (tap) tap(from, payload);
        device_->receive(wg::Endpoint::direct(from), payload, now_ms(), wall());
        reschedule();
    }
    void send_datagram(const wg::Endpoint& to,
                       std::span<const std::uint8_t> datagram) noexcept override {
        if (to.kind != wg::Endpoint::Kind::udp) return;
        ++datagrams_sent;
        if (!host_.udp().send(*socket_, to.udp, datagram).ok()) ++datagrams_refused_by_port;
    }
    void deliver(wg::PeerId peer, std::span<const std::uint8_t> packet) noexcept override {
        delivered.push_back({world_.now_ms(), peer, {packet.begin(), packet.end()}});
    }
    void on_alarm() noexcept override {
        alarm_.reset();
        device_->tick(now_ms(), wall());
        reschedule();
    }

    // The alarm follows the device's next deadline after every call into it. A cancelled
    // alarm keeps its event until its time, so the alarm is replaced only when the deadline
    // moves earlier; one that fires early finds nothing due and is set again.
    void reschedule() {
        const std::optional<std::uint32_t> deadline = device_->next_deadline_ms();
        if (!deadline) return;
        const std::uint64_t due_ms = world_.now_ms() + remaining_ms(now_ms(), *deadline);
        if (alarm_ && alarm_due_ms_ <= due_ms) return;
        if (alarm_) world_.cancel_alarm(*alarm_);
        const Result<AlarmId> alarm = world_.schedule_alarm(due_ms, *this);
        ASSERT_TRUE(alarm.ok());
        alarm_ = alarm.value();
        alarm_due_ms_ = due_ms;
    }

    std::uint32_t now_ms() { return host_.clock().monotonic_ms(); }
    port::WallTime wall() { return host_.clock().wall_time(); }
    wg::Device& device() { return *device_; }
    Host& host() { return host_; }
    const crypto::X25519Key& public_key() const { return public_key_; }
    net::Endpoint endpoint_on(const net::IpAddress& address, std::uint16_t port = wireguard_port) const {
        return {address, port};
    }

    std::vector<Delivery> delivered;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t datagrams_received = 0;
    std::uint64_t datagrams_refused_by_port = 0;
    // Sees every datagram before the device does (tests capture datagrams to replay them).
    std::function<void(const net::Endpoint&, std::span<const std::uint8_t>)> tap;

private:
    World& world_;
    Host& host_;
    crypto::X25519Key private_key_{};
    crypto::X25519Key public_key_{};
    std::unique_ptr<wg::Device> device_;
    std::optional<port::UdpSocketId> socket_;
    std::optional<AlarmId> alarm_;
    std::uint64_t alarm_due_ms_ = 0;
    std::vector<std::vector<net::Prefix>> allowed_;
};

// --- Traffic: numbered packets from one node to a peer, at a fixed interval -----------------

class Traffic final : public Alarm {
public:
    Traffic(World& world, WireGuardNode& from, wg::PeerId to_peer, net::IpAddress source,
            net::IpAddress destination, std::uint8_t tag, std::uint32_t interval_ms)
        : world_(world), from_(from), to_peer_(to_peer), source_(source),
          destination_(destination), tag_(tag), interval_ms_(interval_ms) {}
    ~Traffic() { stop(); }

    void start() { schedule(); }
    void stop() {
        if (alarm_) world_.cancel_alarm(*alarm_);
        alarm_.reset();
    }
    void on_alarm() noexcept override {
        alarm_.reset();
        const std::vector<std::uint8_t> packet = ip_packet(source_, destination_, tag_, next_sequence);
        if (from_.send(to_peer_, packet).ok()) ++accepted;
        ++next_sequence;
        schedule();
    }
    void set_source(net::IpAddress source) { source_ = source; }

    std::uint64_t next_sequence = 0;
    std::uint64_t accepted = 0;

private:
    void schedule() {
        const Result<AlarmId> alarm = world_.schedule_alarm(world_.now_ms() + interval_ms_, *this);
        ASSERT_TRUE(alarm.ok());
        alarm_ = alarm.value();
    }
    World& world_;
    WireGuardNode& from_;
    wg::PeerId to_peer_;
    net::IpAddress source_;
    net::IpAddress destination_;
    std::uint8_t tag_;
    std::uint32_t interval_ms_;
    std::optional<AlarmId> alarm_;
};

// The sequence numbers `node` received with `tag`, and whether any came twice.
struct Received {
    std::set<std::uint64_t> sequences;
    std::uint64_t duplicates = 0;
};

inline Received received_with_tag(const WireGuardNode& node, std::uint8_t tag) {
    Received received;
    for (const Delivery& delivery : node.delivered) {
        const std::optional<Marker> marker = read_marker(delivery.packet);
        if (!marker || marker->tag != tag) continue;
        if (!received.sequences.insert(marker->sequence).second) ++received.duplicates;
    }
    return received;
}

// The device's and its peers' counters, for failure messages.
inline std::string describe_counters(WireGuardNode& node) {
    const wg::DeviceCounters& c = node.device().counters();
    const wg::MessageCounters& m = c.messages;
    std::string text = node.host().label().data() + std::string(": sent ") +
        std::to_string(node.datagrams_sent) + " received " + std::to_string(node.datagrams_received) +
        " refused by port " + std::to_string(node.datagrams_refused_by_port);
    const auto add = [&](const char* name, std::uint64_t value) {
        if (value != 0) text += std::string(" ") + name + "=" + std::to_string(value);
    };
    add("wrong_length", m.wrong_length); add("unknown_type", m.unknown_type);
    add("nonzero_reserved", m.nonzero_reserved); add("bad_mac1", m.bad_mac1);
    add("bad_mac2", m.bad_mac2); add("decrypt_static", m.decrypt_static);
    add("decrypt_timestamp", m.decrypt_timestamp); add("decrypt_empty", m.decrypt_empty);
    add("decrypt_cookie", m.decrypt_cookie); add("stale_timestamp", m.stale_timestamp);
    add("flood", m.flood); add("unknown_peer", m.unknown_peer); add("unknown_index", m.unknown_index);
    add("unexpected_state", m.unexpected_state); add("weak_key", m.weak_key);
    add("decrypt_data", m.decrypt_data); add("replayed_counter", m.replayed_counter);
    add("cookie_replies_sent", c.cookie_replies_sent); add("index_table_full", c.index_table_full);
    add("random_failed", c.random_failed);
    for (wg::PeerId id = 0; node.device().peer_counters(id) != nullptr; ++id) {
        const wg::PeerCounters& p = *node.device().peer_counters(id);
        text += " | peer " + std::to_string(id) + ":";
        add("sent", p.packets_sent); add("received", p.packets_received);
        add("keepalives_sent", p.keepalives_sent); add("keepalives_received", p.keepalives_received);
        add("initiations", p.initiations_sent); add("responses", p.responses_sent);
        add("handshakes", p.handshakes_completed); add("cookies", p.cookies_received);
        add("disallowed", p.disallowed_source); add("malformed_ip", p.malformed_ip_packet);
        add("staged_dropped", p.staged_dropped_oldest); add("gave_up", p.staged_dropped_gave_up);
        add("no_endpoint", p.no_endpoint); add("roams", p.roams);
    }
    return text;
}

// --- Seeds ----------------------------------------------------------------------------------

// The seeds a scenario runs: only PINHOLE_SIM_SEED when it is set (a replay), else `count`
// seeds from `first`.
inline std::vector<std::uint64_t> seeds_to_run(std::uint64_t first, std::size_t count) {
    if (const char* replay = std::getenv("PINHOLE_SIM_SEED")) {
        return {std::strtoull(replay, nullptr, 10)};
    }
    std::vector<std::uint64_t> seeds;
    for (std::size_t i = 0; i < count; ++i) seeds.push_back(first + i);
    return seeds;
}

inline WorldOptions world_options(std::uint64_t seed, const LinkFaults& faults) {
    WorldOptions options;
    options.seed = seed;
    options.seed_source = SeedSource::given_only;  // seeds_to_run already honoured the replay
    options.faults = faults;
    return options;
}

// Runs `scenario` once per seed, stopping at the first seed that fails and naming it.
inline void for_each_seed(std::uint64_t first, std::size_t count,
                          const std::function<void(std::uint64_t)>& scenario) {
    for (const std::uint64_t seed : seeds_to_run(first, count)) {
        SCOPED_TRACE(seed_message(seed));
        scenario(seed);
        if (::testing::Test::HasFailure()) {
            ADD_FAILURE() << "failing " << seed_message(seed);
            return;
        }
    }
}

}  // namespace pinhole::sim::wireguard_support
