#include "core/wireguard/index_table.h"

#include <span>

#include "core/util/endian.h"

namespace pinhole::wireguard {
namespace {

constexpr std::size_t slot_mask = IndexTable::slot_count - 1;
static_assert((IndexTable::slot_count & slot_mask) == 0, "slot_count must be a power of two");

}  // namespace

// Indices are random, but lookups come from the network: mixing (a multiplicative hash) keeps
// indices that share low bits from piling into one run of slots.
std::size_t IndexTable::home_of(std::uint32_t index) noexcept {
    return static_cast<std::size_t>((index * 0x9E37'79B1u) >> 8) & slot_mask;
}

std::size_t IndexTable::find(std::uint32_t index) const noexcept {
    std::size_t position = home_of(index);
    // The table is never full (slot_count >= 2 × capacity), so an empty slot ends every probe.
    for (std::size_t probes = 0; probes < slot_count; ++probes) {
        const Slot& slot = slots_[position];
        if (!slot.used) return slot_count;
        if (slot.entry.index == index) return position;
        position = (position + 1) & slot_mask;
    }
    return slot_count;
}

Result<std::uint32_t> IndexTable::insert(std::uint16_t peer_slot, IndexKind kind) noexcept {
    if (size_ == capacity) return Errc::no_space;
    for (std::size_t draw = 0; draw < max_draws; ++draw) {
        std::array<std::uint8_t, 4> bytes{};
        if (!random_.fill(bytes).ok()) return Errc::io;
        const std::uint32_t index = load_le32(bytes.data());
        if (find(index) != slot_count) continue;  // taken: draw again
        std::size_t position = home_of(index);
        for (std::size_t probes = 0; probes < slot_count && slots_[position].used; ++probes) {
            position = (position + 1) & slot_mask;
        }
        slots_[position] = Slot{IndexEntry{index, peer_slot, kind}, true};
        ++size_;
        return index;
    }
    return Errc::already_exists;
}

std::optional<IndexEntry> IndexTable::lookup(std::uint32_t index) const noexcept {
    const std::size_t position = find(index);
    if (position == slot_count) return std::nullopt;
    return slots_[position].entry;
}

Status IndexTable::retarget(std::uint32_t index, IndexKind kind) noexcept {
    const std::size_t position = find(index);
    if (position == slot_count) return Errc::not_found;
    slots_[position].entry.kind = kind;
    return {};
}

void IndexTable::remove(std::uint32_t index) noexcept {
    const std::size_t position = find(index);
    if (position != slot_count) remove_at(position);
}

void IndexTable::remove_peer(std::uint16_t peer_slot) noexcept {
    // Removal shifts later entries back into the freed slot, so re-examine it before moving on.
    std::size_t position = 0;
    for (std::size_t steps = 0; steps < 2 * slot_count && position < slot_count; ++steps) {
        const Slot& slot = slots_[position];
        if (slot.used && slot.entry.peer_slot == peer_slot) {
            remove_at(position);
        } else {
            ++position;
        }
    }
}

// Backward-shift deletion for linear probing: each following entry whose home lies at or
// before the hole (cyclically) moves into it, so every probe sequence stays unbroken.
void IndexTable::remove_at(std::size_t position) noexcept {
    std::size_t hole = position;
    std::size_t next = (hole + 1) & slot_mask;
    for (std::size_t probes = 0; probes < slot_count && slots_[next].used; ++probes) {
        const std::size_t home = home_of(slots_[next].entry.index);
        const std::size_t distance_from_home = (next - home) & slot_mask;
        const std::size_t distance_to_hole = (next - hole) & slot_mask;
        if (distance_from_home >= distance_to_hole) {
            slots_[hole] = slots_[next];
            hole = next;
        }
        next = (next + 1) & slot_mask;
    }
    slots_[hole] = Slot{};
    --size_;
}

}  // namespace pinhole::wireguard
