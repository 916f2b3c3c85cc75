// The WireGuard device (the kernel's device.c, send.c, receive.c and timers.c glue): one
// static identity, a table of peers, and three entry points the node calls with the time:
//   receive(source, datagram)  a UDP or relayed datagram arrived: handshake messages, cookie
//                              replies and data, dispatched by type;
//   send(peer, ip_packet)      encrypt for a peer, or stage the packet and start a handshake;
//   tick()                     run the timers (rekey, keepalive, retransmit, expiry) when
//                              next_deadline_ms() says so.
// What leaves the device goes through `DeviceOutput`: datagrams to endpoints, decrypted IP
// packets to the node. Every dropped datagram or packet is counted by reason (counters()).
//
// Under load. A responder answers an initiation with two X25519 and a response with one
// more: a flood of handshake messages with valid mac1 (anyone who knows our public key can
// make one) would eat the CPU of a small board. The device counts handshake messages per
// `load_window_ms` window; from the message that brings a window's count to
// `under_load_handshakes_per_window`, and for `under_load_hold_ms` after the last such
// window, it is "under load": a handshake message must then carry a valid mac2 (the cookie
// for its source), and one without gets a cookie reply (one XChaCha20-Poly1305, no DH) and
// nothing else. The kernel decides the same from its handshake queue depth (≥ 1/8 full) and
// holds for 1 s; the device has no queue (it runs each message to completion), so a count per
// window bounds the DH work per window instead. Under load, messages with a valid mac2 are
// also limited per source (HandshakeRateLimiter).
//
// Not reentrant, except that DeviceOutput::deliver may call send().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "board_budget.h"
#include "core/util/result.h"
#include "core/wireguard/allowed_ips.h"
#include "core/wireguard/cookie.h"
#include "core/wireguard/endpoint.h"
#include "core/wireguard/handshake.h"
#include "core/wireguard/index_table.h"
#include "core/wireguard/messages.h"
#include "core/wireguard/peer.h"
#include "core/wireguard/peer_table.h"
#include "core/wireguard/timers.h"
#include "core/wireguard/transport.h"
#include "port/clock.h"
#include "port/random.h"

namespace pinhole::wireguard {

class DeviceOutput {
public:
    // One datagram to an endpoint (UDP, or the relay channel). The span is valid only during
    // the call. Best effort: a datagram the output cannot take is dropped, as UDP would.
    virtual void send_datagram(const Endpoint& to, std::span<const std::uint8_t> datagram) noexcept = 0;
    // A decrypted IP packet from `peer`, its source already checked against the peer's
    // allowed sources. The span is valid only during the call.
    virtual void deliver(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept = 0;
    // Cryptokey routing with one widening: a source outside the peer's allowed IPs is still
    // accepted when the node expects it from that peer (the far end of a connection the node
    // opened through it, to a host behind an agent). Plain WireGuard: never.
    [[nodiscard]] virtual bool expects_source(PeerId /*peer*/, const net::IpAddress& /*source*/) noexcept {
        return false;
    }

protected:
    ~DeviceOutput() = default;
};

struct DeviceSettings {
    TimerSettings timers;
    // The largest IP packet sent or received (WireGuard pads up to it).
    std::size_t mtu_bytes = max_ip_packet_bytes;
    // See "Under load" above.
    std::uint32_t load_window_ms = 1'000;
    std::uint32_t under_load_handshakes_per_window = 64;
    std::uint32_t under_load_hold_ms = 1'000;
};

// Device-wide counters; the per-message reasons (MAC, decryption, replay...) are in `messages`,
// per-peer ones in PeerCounters.
struct DeviceCounters {
    MessageCounters messages;
    std::uint64_t cookie_replies_sent = 0;
    std::uint64_t handshake_messages_received = 0;  // types 1 and 2, before any check
    std::uint64_t under_load_windows = 0;           // windows that reached the threshold
    std::uint64_t index_table_full = 0;             // a handshake could not get an index
    std::uint64_t random_failed = 0;                // the random source failed
    std::uint64_t packet_too_large = 0;             // send() above the MTU
    std::uint64_t datagram_too_large = 0;           // a data message above the MTU
    std::uint64_t unknown_peer_id = 0;              // send() for an id never handed out
    std::uint64_t crossed_initiations_ignored = 0;  // see yields_to_own_initiation
    std::uint64_t rate_limited = 0;                 // under load, over the source's rate
};

// Handshake messages per source while under load (the kernel's ratelimiter.c): even with a
// valid mac2 (a sender that receives at its address), each source gets a token bucket of
// `per_second` messages with bursts of `burst`. A source is an IPv4 address, an IPv6 /64 or a
// relayed sender's key. The table has a fixed capacity; a bucket idle for a second is reused,
// and when every bucket is busy a new source is refused (as the kernel does when its table is
// full): under attack the CPU is protected first.
class HandshakeRateLimiter {
public:
    static constexpr std::size_t capacity = std::size_t{4} * PINHOLE_BUDGET_MAX_PEERS;
    static constexpr std::uint32_t per_second = 20;
    static constexpr std::uint32_t burst = 5;
    static constexpr std::uint32_t idle_ms = 1'000;

    // Whether one more handshake message from `source` may be processed at `now_ms`.
    [[nodiscard]] bool allow(const Endpoint& source, std::uint32_t now_ms) noexcept;

private:
    static constexpr std::uint32_t cost_ms = 1'000 / per_second;
    struct Bucket {
        std::array<std::uint8_t, 32> key{};
        std::uint8_t key_bytes = 0;
        std::uint32_t last_ms = 0;
        std::uint32_t tokens_ms = 0;  // time credit: one message costs cost_ms
        bool used = false;
    };
    [[nodiscard]] Bucket* bucket_for(const Bucket& wanted, std::uint32_t now_ms) noexcept;

    std::array<Bucket, capacity> buckets_{};
};

class Device final : private KeypairLookup {
public:
    Device(const StaticIdentity& identity, port::Random& random, DeviceOutput& output,
           const DeviceSettings& settings = {}) noexcept;
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    ~Device();

    // Adds a peer with its allowed sources. Errc::no_space when the peer table, the allowed
    // sources or the index table is full, Errc::already_exists for a known public key or a
    // public key equal to ours, Errc::weak_key for a low-order public key,
    // Errc::invalid_argument for a bad prefix. Nothing is added on failure.
    [[nodiscard]] Result<PeerId> add_peer(const PeerConfig& config, std::uint32_t now_ms) noexcept;

    // A datagram from `source`. Never fails: what is dropped is counted.
    void receive(const Endpoint& source, std::span<const std::uint8_t> datagram,
                 std::uint32_t now_ms, const port::WallTime& wall) noexcept;

    // Encrypts `ip_packet` for `peer` under the current session; without one, stages it
    // (dropping the oldest staged packet when full, counted) and starts a handshake.
    // Errc::invalid_argument above the MTU or for an unknown peer id, Errc::unreachable when
    // the peer has no endpoint yet (counted).
    [[nodiscard]] Status send(PeerId peer, std::span<const std::uint8_t> ip_packet,
                              std::uint32_t now_ms, const port::WallTime& wall) noexcept;

    // Starts a handshake now (a node bringing a session up before it has data, benchmarks).
    [[nodiscard]] Status initiate_handshake(PeerId peer, std::uint32_t now_ms,
                                            const port::WallTime& wall) noexcept;

    // The path to `peer` has just come up (its relay channel, or the peer's at the gateway): an
    // initiation still waiting for its answer was probably dropped on the way, so its bytes go
    // again now rather than after REKEY_TIMEOUT. Nothing happens without one outstanding.
    void resend_pending_initiation(PeerId peer) noexcept;

    // Runs every timer due at `now_ms`.
    void tick(std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    // When tick() must next be called, if any timer is armed.
    [[nodiscard]] std::optional<std::uint32_t> next_deadline_ms() const noexcept;

    [[nodiscard]] const DeviceCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] const PeerCounters* peer_counters(PeerId peer) const noexcept;
    [[nodiscard]] std::optional<Endpoint> peer_endpoint(PeerId peer) const noexcept;
    // Whether the peer has a session it can send with now.
    [[nodiscard]] bool has_session(PeerId peer, std::uint32_t now_ms) const noexcept;
    [[nodiscard]] std::optional<PeerId> find_peer(const crypto::X25519Key& public_key) noexcept;
    [[nodiscard]] bool under_load(std::uint32_t now_ms) const noexcept;

private:
    // Receiving, by message type.
    void receive_handshake(const Endpoint& source, std::span<const std::uint8_t> datagram,
                           MessageType type, std::uint32_t now_ms,
                           const port::WallTime& wall) noexcept;
    void receive_initiation(const Endpoint& source, std::span<const std::uint8_t> datagram,
                            std::uint32_t now_ms) noexcept;
    [[nodiscard]] bool yields_to_own_initiation(const Peer& peer, std::uint32_t now_ms) const noexcept;
    void receive_response(const Endpoint& source, std::span<const std::uint8_t> datagram,
                          std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    void receive_cookie_reply(std::span<const std::uint8_t> datagram, std::uint32_t now_ms) noexcept;
    void receive_data(const Endpoint& source, std::span<const std::uint8_t> datagram,
                      std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    void deliver_packet(Peer& peer, std::span<const std::uint8_t> padded_packet) noexcept;
    void send_cookie_reply(const Endpoint& source, std::span<const std::uint8_t> datagram,
                           std::uint32_t now_ms) noexcept;
    // Counts a handshake message and says whether the device is under load.
    [[nodiscard]] bool note_handshake_message(std::uint32_t now_ms) noexcept;

    // Sessions.
    void install_session(Peer& peer, SessionKeys& session, std::uint32_t now_ms) noexcept;
    void forget_handshake_index(Peer& peer) noexcept;
    void remove_indices(const DroppedIndices& dropped) noexcept;
    void zero_keys(Peer& peer) noexcept;
    void authenticated_from(Peer& peer, const Endpoint& source, std::uint32_t now_ms) noexcept;

    // Sending.
    [[nodiscard]] Status send_initiation(Peer& peer, bool is_retry, std::uint32_t now_ms,
                                         const port::WallTime& wall) noexcept;
    void start_handshake_if_idle(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    // Seals `packet` (empty: a keepalive) under the current keypair. Errc::refused without a
    // usable one.
    [[nodiscard]] Status seal_and_send(Peer& peer, std::span<const std::uint8_t> packet,
                                       std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    void send_keepalive(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    void flush_staged(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept;
    void send_to_peer(Peer& peer, std::span<const std::uint8_t> datagram) noexcept;
    void tick_peer(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept;

    [[nodiscard]] Keypair* find_keypair(std::uint32_t local_index) noexcept override;
    [[nodiscard]] Peer* peer_of_index(std::uint32_t local_index) noexcept;

    StaticIdentity identity_;
    port::Random& random_;
    DeviceOutput& output_;
    DeviceSettings settings_;
    CookieChecker cookie_checker_;
    HandshakeRateLimiter rate_limiter_;
    IndexTable indices_;
    AllowedIps allowed_sources_;
    PeerTable peers_;
    DeviceCounters counters_;

    std::uint32_t load_window_start_ms_ = 0;
    std::uint32_t handshakes_in_window_ = 0;
    std::optional<std::uint32_t> under_load_until_ms_;

    // Outgoing data messages are written here; received plaintext goes to its own buffer so
    // deliver() may call send().
    std::array<std::uint8_t, data_header_bytes + max_ip_packet_bytes + data_tag_bytes> sealed_{};
    std::array<std::uint8_t, max_ip_packet_bytes> opened_{};
};

}  // namespace pinhole::wireguard
