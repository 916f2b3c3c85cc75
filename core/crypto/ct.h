// Constant-time comparison and wiping. Comparisons of secrets (tags, MACs, shared secrets) take
// time that depends only on the lengths, never on the contents; wipes survive the optimiser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace pinhole::crypto {

// True when both spans hold the same bytes. Different sizes are unequal (sizes are public).
[[nodiscard]] bool constant_time_equal(std::span<const std::uint8_t> a,
                                       std::span<const std::uint8_t> b) noexcept;

// True when every byte is zero (an all-zero X25519 result, an unset key).
[[nodiscard]] bool constant_time_is_zero(std::span<const std::uint8_t> bytes) noexcept;

// Overwrites with zeros in a way the compiler may not drop as a dead store.
void zeroize(std::span<std::uint8_t> bytes) noexcept;

template <typename T>
void zeroize_object(T& object) noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "wipe the members of non-trivial types");
    zeroize(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&object), sizeof(T)));
}

}  // namespace pinhole::crypto
