// Local indices (whitepaper section 5.4.2): each handshake and keypair gets a random 32-bit
// index, unique in the device, which peers put in their messages to us as "receiver". The
// table maps an index to the peer slot and to what it names, with a fixed capacity (one
// handshake and three keypairs per peer) and open addressing with linear probing: lookups
// touch a few adjacent slots, removal shifts the following entries back (no tombstones).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "board_budget.h"
#include "core/util/result.h"
#include "port/random.h"

namespace pinhole::wireguard {

enum class IndexKind : std::uint8_t { handshake, keypair };

struct IndexEntry {
    std::uint32_t index = 0;
    std::uint16_t peer_slot = 0;
    IndexKind kind = IndexKind::handshake;
};

class IndexTable {
public:
    static constexpr std::size_t capacity = std::size_t{PINHOLE_BUDGET_MAX_PEERS} * 4;
    // A power of two at least twice the capacity keeps probe sequences short.
    static constexpr std::size_t slot_count = [] {
        std::size_t slots = 1;
        while (slots < 2 * capacity) slots *= 2;
        return slots;
    }();
    // Fresh random draws tried before giving up (each collides with probability <= 1/2^22).
    static constexpr std::size_t max_draws = 16;

    explicit IndexTable(port::Random& random) noexcept : random_(random) {}
    IndexTable(const IndexTable&) = delete;
    IndexTable& operator=(const IndexTable&) = delete;

    // A new random index, unused in the table, for `peer_slot`. Errc::no_space when full,
    // Errc::io when the random source fails, Errc::already_exists when max_draws draws all
    // collided (a broken random source).
    [[nodiscard]] Result<std::uint32_t> insert(std::uint16_t peer_slot, IndexKind kind) noexcept;
    // The entry for `index` (from the network: any value), if present.
    [[nodiscard]] std::optional<IndexEntry> lookup(std::uint32_t index) const noexcept;
    // Changes what an existing index names (a handshake's index becomes its keypair's, as the
    // kernel does); Errc::not_found if absent.
    [[nodiscard]] Status retarget(std::uint32_t index, IndexKind kind) noexcept;
    // Forgets `index` if present.
    void remove(std::uint32_t index) noexcept;
    // Forgets every index of a peer.
    void remove_peer(std::uint16_t peer_slot) noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    struct Slot {
        IndexEntry entry;
        bool used = false;
    };
    [[nodiscard]] static std::size_t home_of(std::uint32_t index) noexcept;
    [[nodiscard]] std::size_t find(std::uint32_t index) const noexcept;  // slot_count if absent
    void remove_at(std::size_t position) noexcept;

    port::Random& random_;
    std::array<Slot, slot_count> slots_{};
    std::size_t size_ = 0;
};

}  // namespace pinhole::wireguard
