// Transport keypairs and their rotation (whitepaper section 5.4.5 and 6, the kernel's noise.c).
// A `Keypair` holds the two ChaCha20-Poly1305 keys of one session, the sending counter and
// the replay window. A `KeypairSet` keeps a peer's previous, current and next keypair:
//   - the initiator's new keypair is usable at once: it becomes current, the old current
//     becomes previous (so packets still in flight under it decrypt);
//   - the responder's new keypair waits in next until the first data packet from the
//     initiator arrives under it (received_with), which proves the initiator has it; only
//     then is it promoted to current.
// Every keypair that is dropped is wiped, and its local index is reported to the caller so it
// can leave the index table.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/crypto/chacha20poly1305.h"
#include "core/util/fixed_vector.h"
#include "core/wireguard/handshake.h"
#include "core/wireguard/replay.h"

namespace pinhole::wireguard {

struct Keypair {
    crypto::ChaCha20Poly1305Key sending_key{};
    crypto::ChaCha20Poly1305Key receiving_key{};
    std::uint64_t sending_counter = 0;  // the counter of the next message sent
    ReplayWindow receiving_window;
    std::uint32_t local_index = 0;   // ours: the receiver index peers put in data to us
    std::uint32_t remote_index = 0;  // theirs: the receiver index we put in data to them
    std::uint32_t birth_ms = 0;      // when the handshake derived it
    bool initiator = false;          // we sent the initiation of its handshake
    bool valid = false;              // holds keys; false once wiped

    // At least `lifetime_ms` old (REJECT_AFTER_TIME): neither sends nor receives.
    [[nodiscard]] bool expired(std::uint32_t now_ms, std::uint32_t lifetime_ms) const noexcept;
    // Zeroes the keys and marks the keypair invalid.
    void wipe() noexcept;
};

// The local indices of the keypairs an operation dropped: remove them from the index table.
using DroppedIndices = FixedVector<std::uint32_t, 3>;

class KeypairSet {
public:
    KeypairSet() noexcept = default;
    KeypairSet(const KeypairSet&) = delete;
    KeypairSet& operator=(const KeypairSet&) = delete;
    ~KeypairSet() { clear_all(); }

    // Installs the keypair of a handshake that just completed, built from `session` (whose
    // keys are wiped here), and rotates as described above. Returns the indices it dropped.
    [[nodiscard]] DroppedIndices install(SessionKeys& session, std::uint32_t now_ms) noexcept;

    // Call after a data packet was authenticated under `keypair` (one of this set). When it is
    // next, next becomes current and current previous: returns true (the handshake is then
    // complete for the responder). The dropped index, if any, goes to `dropped`.
    [[nodiscard]] bool received_with(const Keypair& keypair, DroppedIndices& dropped) noexcept;

    // Drops (and wipes) every keypair at least `lifetime_ms` old (REJECT_AFTER_TIME) or whose
    // sending counter reached REJECT_AFTER_MESSAGES.
    [[nodiscard]] DroppedIndices expire(std::uint32_t now_ms, std::uint32_t lifetime_ms) noexcept;

    // Drops everything (the zero-key-material timer, a removed peer).
    [[nodiscard]] DroppedIndices clear() noexcept;

    // The keypair with this local index, or nullptr.
    [[nodiscard]] Keypair* find(std::uint32_t local_index) noexcept;

    // Each slot, or nullptr when it holds no keypair.
    [[nodiscard]] Keypair* current() noexcept { return usable(current_); }
    [[nodiscard]] Keypair* previous() noexcept { return usable(previous_); }
    [[nodiscard]] Keypair* next() noexcept { return usable(next_); }
    [[nodiscard]] const Keypair* current() const noexcept { return usable(current_); }
    [[nodiscard]] const Keypair* previous() const noexcept { return usable(previous_); }
    [[nodiscard]] const Keypair* next() const noexcept { return usable(next_); }

private:
    [[nodiscard]] static Keypair* usable(Keypair& keypair) noexcept {
        return keypair.valid ? &keypair : nullptr;
    }
    [[nodiscard]] static const Keypair* usable(const Keypair& keypair) noexcept {
        return keypair.valid ? &keypair : nullptr;
    }
    static void drop(Keypair& keypair, DroppedIndices& dropped) noexcept;
    // to ← from (wiping the old `to`), then wipes `from` without reporting it.
    static void move_into(Keypair& to, Keypair& from, DroppedIndices& dropped) noexcept;
    void clear_all() noexcept;

    Keypair previous_;
    Keypair current_;
    Keypair next_;
};

}  // namespace pinhole::wireguard
