// One WireGuard peer as the device keeps it (the kernel's peer.h): its keys (public, optional
// pre-shared, the precomputed static-static DH), where it is (EndpointTracker), its sessions
// (KeypairSet), the handshake in progress, the cookie it holds from its responder, its timers,
// the packets staged while no session exists, and counters. Its allowed sources live in the
// device's AllowedIps under its slot.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "board_budget.h"
#include "core/crypto/ct.h"
#include "core/crypto/x25519.h"
#include "core/net/address.h"
#include "core/wireguard/cookie.h"
#include "core/wireguard/endpoint.h"
#include "core/wireguard/handshake.h"
#include "core/wireguard/keypair.h"
#include "core/wireguard/timers.h"

namespace pinhole::wireguard {

// A peer's place in the device's table; stable for the device's lifetime.
using PeerId = std::uint16_t;

// The largest IP packet a device carries (the overlay MTU).
inline constexpr std::size_t max_ip_packet_bytes = PINHOLE_BUDGET_OVERLAY_MTU_BYTES;
// Packets held per peer while its handshake runs (the kernel holds 128; a few cover a TCP
// SYN and its retries on a small board). When full, the oldest is dropped.
inline constexpr std::size_t staged_packets_per_peer = 8;

struct PeerConfig {
    crypto::X25519Key public_key{};
    std::optional<crypto::X25519Key> preshared_key;
    std::optional<Endpoint> endpoint;          // none: wait until the peer is heard from
    std::span<const net::Prefix> allowed_sources;
    std::uint16_t persistent_keepalive_s = 0;  // 0: off
};

struct PeerCounters {
    std::uint64_t packets_sent = 0;           // IP packets encrypted and handed to the output
    std::uint64_t packets_received = 0;       // IP packets delivered
    std::uint64_t keepalives_sent = 0;
    std::uint64_t keepalives_received = 0;
    std::uint64_t initiations_sent = 0;       // including retries
    std::uint64_t responses_sent = 0;
    std::uint64_t handshakes_completed = 0;   // sessions derived, either role
    std::uint64_t cookies_received = 0;
    std::uint64_t disallowed_source = 0;      // decrypted, but the source is not this peer's
    std::uint64_t malformed_ip_packet = 0;    // decrypted, but no valid IPv4/IPv6 header
    std::uint64_t staged_dropped_oldest = 0;  // staging queue full
    std::uint64_t staged_dropped_gave_up = 0; // the handshake failed for REKEY_ATTEMPT_TIME
    std::uint64_t no_endpoint = 0;            // something to send but nowhere to send it
    std::uint64_t roams = 0;                  // the endpoint moved
};

// A bounded FIFO of IP packets in fixed storage; wiped as they leave (they are plaintext).
class StagedPackets {
public:
    StagedPackets() noexcept = default;
    StagedPackets(const StagedPackets&) = delete;
    StagedPackets& operator=(const StagedPackets&) = delete;
    ~StagedPackets() { clear(); }

    // Appends a copy of `packet` (at most max_ip_packet_bytes: asserted). Returns true when
    // the oldest packet was dropped to make room.
    bool push(std::span<const std::uint8_t> packet) noexcept;
    [[nodiscard]] std::span<const std::uint8_t> front() const noexcept;
    void pop_front() noexcept;
    void clear() noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }

private:
    struct Slot {
        std::array<std::uint8_t, max_ip_packet_bytes> bytes;
        std::uint16_t size_bytes = 0;
    };
    std::array<Slot, staged_packets_per_peer> slots_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

struct Peer {
    Peer(PeerId peer_id, const TimerSettings& timer_settings, port::Random& random) noexcept
        : id(peer_id), timers(timer_settings, random) {}
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    ~Peer() { crypto::zeroize_object(keys); }

    // Keys, endpoint, cookie maker and persistent keepalive from `config`. Errc::weak_key for
    // a public key whose DH with ours is all zeros.
    [[nodiscard]] Status configure(const PeerConfig& config, const StaticIdentity& identity,
                                   std::uint32_t now_ms) noexcept;

    PeerId id;
    HandshakePeerKeys keys;  // public key, psk, precomputed static-static
    EndpointTracker endpoint;
    KeypairSet keypairs;
    Handshake handshake;
    // The index table entry naming the handshake in progress, until it becomes a keypair's.
    std::optional<std::uint32_t> handshake_index;
    std::optional<std::uint32_t> last_initiation_sent_ms;
    InitiationBytes last_initiation{};  // the wire bytes, repeated when initiations cross
    CookieMaker cookie_maker;
    Timers timers;
    StagedPackets staged;
    PeerCounters counters;
};

}  // namespace pinhole::wireguard
