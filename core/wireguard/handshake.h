// WireGuard's handshake (whitepaper section 5.4) on core/noise: Noise_IKpsk2 with WireGuard's
// construction and identifier (the Noise prologue), a TAI64N timestamp as the payload of the
// initiation, an empty payload in the response, and Split into a `KeyMaterial` at the end.
// The MACs (mac1, mac2) are not in here: core/wireguard/cookie.h adds and checks them on the
// wire bytes.
//
// How a device drives it (one `Handshake` per peer, one `StaticIdentity` per device):
//
//   initiator                                   responder
//   ---------                                   ---------
//   handshake.create_initiation(msg, ...)
//   write_initiation(bytes, msg); maker.add_macs
//                  ─────────── initiation ──────────►
//                                               checker.validate_macs(bytes, ...)
//                                               parse_initiation(bytes)
//                                               seen = consume_initiation(msg, identity)
//                                               peer = look up seen.remote_static (unknown:
//                                                 count Rejection::unknown_peer, wipe seen)
//                                               keys = peer.handshake.create_response(msg2,
//                                                 seen, ...)  (timestamp replay + flood checks)
//                  ◄─────────── response ───────────
//   parse_response; validate_macs;
//   peer = index table (msg.receiver_index)
//   keys = handshake.consume_response(msg, counters)
//
// Every function that fails leaves no secret behind (the handshake returns to `zeroed`, or
// for a rejected initiation keeps its previous state) and counts its reason in the
// MessageCounters passed in.
#pragma once

#include <cstdint>

#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/tai64n.h"
#include "core/crypto/x25519.h"
#include "core/noise/handshake_state.h"
#include "core/util/result.h"
#include "core/wireguard/messages.h"
#include "port/clock.h"
#include "port/random.h"

namespace pinhole::wireguard {

// The device's own key pair.
struct StaticIdentity {
    crypto::X25519Key private_key{};
    crypto::X25519Key public_key{};
};

// What a handshake needs to know about a peer. Build it with `make_peer_keys`, once per peer
// (and again when the device's key changes); wipe it when the peer is removed.
struct HandshakePeerKeys {
    crypto::X25519Key remote_static{};
    crypto::X25519Key preshared_key{};               // all zeros when there is none
    crypto::X25519Key precomputed_static_static{};   // DH(our private, their public)
};

// Errc::weak_key when DH(identity, remote_static) is all zeros (a low-order public key):
// such a peer must be refused at configuration time. `psk` may be all zeros.
[[nodiscard]] Status make_peer_keys(HandshakePeerKeys& out, const StaticIdentity& identity,
                                    const crypto::X25519Key& remote_static,
                                    const crypto::X25519Key& preshared_key) noexcept;

// The transport keys a finished handshake yields (the whitepaper's T_send, T_recv). Whoever
// receives it wipes it (crypto::zeroize_object) once it has built its keypair.
struct KeyMaterial {
    crypto::ChaCha20Poly1305Key sending_key{};
    crypto::ChaCha20Poly1305Key receiving_key{};
};

// A finished handshake: the keys and both indices (ours is the receiver index of incoming
// data, theirs the receiver index we write on outgoing data).
struct SessionKeys {
    KeyMaterial keys;
    std::uint32_t local_index = 0;
    std::uint32_t remote_index = 0;
    bool initiator = false;
};

// An initiation that decrypted: who sent it and the Noise state to answer it with. Holds
// secrets (the chaining key): pass it to Handshake::create_response, which wipes it, or wipe
// it with `forget()`.
struct InitiationSeen {
    crypto::X25519Key remote_static{};
    crypto::Tai64n timestamp{};
    std::uint32_t remote_index = 0;
    noise::HandshakeState noise;

    void forget() noexcept;
};

// Responder, step 1: decrypts an initiation's static key and timestamp with the device's own
// key, before the peer is known. Counts decrypt_static, decrypt_timestamp or weak_key.
// Costs two X25519 (es, ss): check mac1 (and mac2 under load) first.
[[nodiscard]] Result<InitiationSeen> consume_initiation(const InitiationMessage& message,
                                                        const StaticIdentity& identity,
                                                        MessageCounters& counters) noexcept;

enum class HandshakeStage : std::uint8_t {
    zeroed,
    created_initiation,  // initiator: waiting for the response
    created_response,    // responder: answered (the initiator confirms with its first data)
    consumed_response,   // initiator: finished
};

class Handshake {
public:
    Handshake() noexcept = default;
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;
    ~Handshake() { clear(); }

    // Initiator: a new initiation to the peer, with a fresh ephemeral key from `random` and the
    // TAI64N of `now`. Replaces any handshake in progress. Errc::io from `random`.
    [[nodiscard]] Status create_initiation(InitiationMessage& out, const StaticIdentity& identity,
                                           const HandshakePeerKeys& peer,
                                           const port::WallTime& now, port::Random& random,
                                           std::uint32_t local_index) noexcept;
    // The same with the ephemeral private key given (tests, vectors).
    [[nodiscard]] Status create_initiation_with_ephemeral(
        InitiationMessage& out, const StaticIdentity& identity, const HandshakePeerKeys& peer,
        const port::WallTime& now, const crypto::X25519Key& ephemeral_private,
        std::uint32_t local_index) noexcept;

    // Initiator: the response to our initiation. Errc::invalid_argument (counted
    // unexpected_state) without an initiation outstanding or for another receiver index;
    // Errc::authentication (decrypt_empty) or Errc::weak_key otherwise. On success the
    // handshake is `consumed_response` and its secrets wiped.
    // A response that fails leaves the initiation outstanding (a forged response must not end
    // it).
    [[nodiscard]] Result<SessionKeys> consume_response(const ResponseMessage& message,
                                                       MessageCounters& counters) noexcept;

    // Responder, step 2 (after consume_initiation and the peer lookup): checks that the
    // timestamp is later than any this peer sent before (stale_timestamp) and that the last
    // initiation consumed is at least initiation_min_interval_ms old (flood), then writes
    // the response. Wipes `seen` either way. Errc::refused for a replay or a flood. `peer` must
    // be the keys of seen.remote_static (asserted).
    [[nodiscard]] Result<SessionKeys> create_response(ResponseMessage& out, InitiationSeen& seen,
                                                      const HandshakePeerKeys& peer,
                                                      std::uint32_t now_ms, port::Random& random,
                                                      std::uint32_t local_index,
                                                      MessageCounters& counters) noexcept;
    [[nodiscard]] Result<SessionKeys> create_response_with_ephemeral(
        ResponseMessage& out, InitiationSeen& seen, const HandshakePeerKeys& peer,
        std::uint32_t now_ms, const crypto::X25519Key& ephemeral_private,
        std::uint32_t local_index, MessageCounters& counters) noexcept;

    [[nodiscard]] HandshakeStage stage() const noexcept { return stage_; }
    [[nodiscard]] std::uint32_t local_index() const noexcept { return local_index_; }
    // The greatest TAI64N timestamp accepted from this peer (all zeros: none yet).
    [[nodiscard]] const crypto::Tai64n& latest_timestamp() const noexcept { return latest_timestamp_; }

    // Wipes the handshake in progress (back to `zeroed`). The replay and flood state (latest
    // timestamp, time of the last initiation) stays: it belongs to the peer, not the attempt.
    void clear() noexcept;

private:
    // Replay and flood checks of an initiation (counted); records it when accepted.
    [[nodiscard]] Status accept_initiation_time(const crypto::Tai64n& timestamp,
                                                std::uint32_t now_ms,
                                                MessageCounters& counters) noexcept;

    noise::HandshakeState noise_;
    crypto::Tai64n latest_timestamp_{};
    std::uint32_t last_initiation_ms_ = 0;
    bool has_consumed_initiation_ = false;
    std::uint32_t local_index_ = 0;
    HandshakeStage stage_ = HandshakeStage::zeroed;
};

}  // namespace pinhole::wireguard
