// Data messages (whitepaper section 5.4.6): type 4 ‖ 3 zero bytes ‖ receiver index (LE32) ‖
// counter (LE64) ‖ ChaCha20-Poly1305(packet padded to a multiple of 16) ‖ 16-byte tag, nonce
// = 32 zero bits ‖ counter (LE64), no associated data. An empty packet is a keepalive.
//
// Receiving verifies the tag BEFORE the counter goes through the replay window: a forged
// packet never moves the window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/result.h"
#include "core/wireguard/constants.h"
#include "core/wireguard/keypair.h"
#include "core/wireguard/messages.h"
#include "core/wireguard/timers.h"

namespace pinhole::wireguard {

// The size of the data message carrying `packet_bytes` of plaintext under `mtu_bytes`.
[[nodiscard]] std::size_t data_message_bytes(std::size_t packet_bytes,
                                             std::size_t mtu_bytes) noexcept;

struct SealedData {
    std::size_t message_bytes = 0;  // written to the front of `out`
    // REKEY_AFTER_MESSAGES reached, or (initiator only, as the kernel) the keypair is older
    // than REKEY_AFTER_TIME: start a new handshake.
    bool rekey_due = false;
};

// Encrypts `packet` (an IP packet, or empty for a keepalive) under `keypair` and writes the
// data message to `out` (at least data_message_bytes(packet.size(), mtu_bytes)). Padding goes
// up to a multiple of 16 but not past the MTU. Errc::refused when the keypair may no longer
// send (REJECT_AFTER_TIME or REJECT_AFTER_MESSAGES: a handshake is needed), Errc::
// invalid_argument for an invalid keypair or a short `out`. Each success uses one counter.
[[nodiscard]] Result<SealedData> seal_data(Keypair& keypair, std::span<const std::uint8_t> packet,
                                           std::size_t mtu_bytes, std::span<std::uint8_t> out,
                                           std::uint32_t now_ms,
                                           const TimerSettings& settings) noexcept;

// Finds the keypair a data message is addressed to (the device: index table, then the peer's
// KeypairSet). nullptr when the index is unknown or not a keypair.
class KeypairLookup {
public:
    [[nodiscard]] virtual Keypair* find_keypair(std::uint32_t local_index) noexcept = 0;

protected:
    ~KeypairLookup() = default;
};

struct OpenedData {
    Keypair* keypair = nullptr;            // the keypair it was received with
    std::span<const std::uint8_t> packet;  // the padded plaintext in `out`; empty: keepalive
    std::uint64_t counter = 0;
    // Initiator only (as the kernel): the keypair is older than REJECT_AFTER_TIME −
    // KEEPALIVE_TIMEOUT − REKEY_TIMEOUT, so a new handshake must start now to be done in time.
    bool rekey_due = false;
};

// Parses, authenticates and replay-checks a datagram of type 4; the plaintext goes to `out`
// (at least datagram.size() − 32 bytes; must not overlap `datagram`). On failure returns
// Errc::malformed (length, type, reserved bytes), Errc::not_found (unknown index), Errc::
// refused (expired keypair), Errc::authentication (bad tag) or Errc::already_exists (replayed
// counter), each counted in `counters`. The plaintext
// keeps its padding: the IP header's length says where the packet ends.
[[nodiscard]] Result<OpenedData> open_data(std::span<const std::uint8_t> datagram,
                                           std::span<std::uint8_t> out, KeypairLookup& lookup,
                                           std::uint32_t now_ms, const TimerSettings& settings,
                                           MessageCounters& counters) noexcept;

}  // namespace pinhole::wireguard
