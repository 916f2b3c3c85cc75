// The device's peers, in fixed storage with a compile-time capacity (the board's
// PINHOLE_BUDGET_MAX_PEERS). A peer's id is its slot: stable for the table's lifetime (peers
// are added at configuration time and never moved).
#pragma once

#include <cstddef>

#include "board_budget.h"
#include "core/util/fixed_vector.h"
#include "core/util/result.h"
#include "core/wireguard/peer.h"

namespace pinhole::wireguard {

class PeerTable {
public:
    static constexpr std::size_t capacity = PINHOLE_BUDGET_MAX_PEERS;

    PeerTable() noexcept = default;
    PeerTable(const PeerTable&) = delete;
    PeerTable& operator=(const PeerTable&) = delete;

    // A new, unconfigured peer. Errc::no_space when the table is full, Errc::already_exists
    // when a peer has this public key.
    [[nodiscard]] Result<Peer*> add(const crypto::X25519Key& public_key,
                                    const TimerSettings& timer_settings,
                                    port::Random& random) noexcept;
    // Drops the peer added last (its configuration failed).
    void remove_last() noexcept { peers_.pop_back(); }

    // The peer with this public key (keys are public: a plain comparison), or nullptr.
    [[nodiscard]] Peer* find(const crypto::X25519Key& public_key) noexcept;
    // The peer in `id`'s slot, or nullptr for an id never handed out (from the network or a
    // stale caller: never asserted).
    [[nodiscard]] Peer* at(PeerId id) noexcept;
    [[nodiscard]] const Peer* at(PeerId id) const noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return peers_.size(); }
    [[nodiscard]] Peer* begin() noexcept { return peers_.begin(); }
    [[nodiscard]] Peer* end() noexcept { return peers_.end(); }

private:
    FixedVector<Peer, capacity> peers_;
    // The public key of each slot, set before the peer is configured (find() during add).
    std::array<crypto::X25519Key, capacity> public_keys_{};
};

}  // namespace pinhole::wireguard
