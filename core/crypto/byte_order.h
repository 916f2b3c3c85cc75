// Byte-wise loads and stores for the primitives' fixed wire orders: no alignment assumptions
// (Cortex-M3 faults on some unaligned accesses) and no dependence on the host's byte order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pinhole::crypto::detail {

constexpr std::uint32_t load32_le(const std::uint8_t* bytes) noexcept {
    return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
           static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

constexpr void store32_le(std::uint8_t* bytes, std::uint32_t value) noexcept {
    for (std::size_t i = 0; i < 4; i++) bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

constexpr void store64_le(std::uint8_t* bytes, std::uint64_t value) noexcept {
    for (std::size_t i = 0; i < 8; i++) bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

constexpr void store32_be(std::uint8_t* bytes, std::uint32_t value) noexcept {
    for (std::size_t i = 0; i < 4; i++) bytes[i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

constexpr void store64_be(std::uint8_t* bytes, std::uint64_t value) noexcept {
    for (std::size_t i = 0; i < 8; i++) bytes[i] = static_cast<std::uint8_t>(value >> (56 - 8 * i));
}

}  // namespace pinhole::crypto::detail
