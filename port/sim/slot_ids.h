// Ids handed to the core (socket, connection and resolution ids) carry their slot and the
// slot's generation, so an id used after close is refused instead of reaching whoever took
// the slot next — a bug the simulation should catch, not hide.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace pinhole::sim {

template <std::size_t SlotCount>
class SlotIds {
    static_assert(SlotCount >= 2 && SlotCount <= 256);
    static constexpr unsigned slot_bits = std::bit_width(SlotCount - 1);
    static constexpr std::uint16_t slot_mask = static_cast<std::uint16_t>((1u << slot_bits) - 1);
    static constexpr std::uint16_t generation_mask = static_cast<std::uint16_t>(0xFFFFu >> slot_bits);

public:
    [[nodiscard]] static constexpr std::uint16_t next_generation(std::uint16_t generation) noexcept {
        return static_cast<std::uint16_t>((generation + 1) & generation_mask);
    }
    [[nodiscard]] static constexpr std::uint16_t make(std::size_t slot,
                                                      std::uint16_t generation) noexcept {
        return static_cast<std::uint16_t>((generation << slot_bits) | slot);
    }
    [[nodiscard]] static constexpr std::size_t slot_of(std::uint16_t id) noexcept {
        return id & slot_mask;
    }
    [[nodiscard]] static constexpr std::uint16_t generation_of(std::uint16_t id) noexcept {
        return static_cast<std::uint16_t>(id >> slot_bits);
    }
};

}  // namespace pinhole::sim
