// Arithmetic on the 32-bit millisecond clock (port::Clock::monotonic_ms), which wraps every
// ~49.7 days. Times are compared by the sign of their difference, so the answers are right
// across the wrap as long as the two times are less than 2^31 ms (~24.8 days) apart: every
// timeout in pinhole is far shorter. Never compare raw values with < or >.
#pragma once

#include <cstdint>

#include "core/util/assert.h"

namespace pinhole {

// The longest interval these functions can reason about.
inline constexpr std::uint32_t max_interval_ms = 0x7FFF'FFFFu;

// a comes strictly before b.
[[nodiscard]] constexpr bool time_before(std::uint32_t a, std::uint32_t b) noexcept {
    return static_cast<std::int32_t>(a - b) < 0;  // C++20: conversion is modular
}

// a comes strictly after b.
[[nodiscard]] constexpr bool time_after(std::uint32_t a, std::uint32_t b) noexcept {
    return time_before(b, a);
}

// a is b or later: "has the deadline b been reached at time a?".
[[nodiscard]] constexpr bool time_after_or_equal(std::uint32_t a, std::uint32_t b) noexcept {
    return !time_before(a, b);
}

// Milliseconds from `since` to `now` (now must not be before since).
[[nodiscard]] constexpr std::uint32_t elapsed_ms(std::uint32_t now_ms,
                                                 std::uint32_t since_ms) noexcept {
    return now_ms - since_ms;
}

[[nodiscard]] constexpr std::uint32_t deadline_after(std::uint32_t now_ms,
                                                     std::uint32_t duration_ms) noexcept {
    PINHOLE_ASSERT(duration_ms <= max_interval_ms);
    return now_ms + duration_ms;
}

// Milliseconds left until `deadline`, 0 once it has passed: a poll timeout.
[[nodiscard]] constexpr std::uint32_t remaining_ms(std::uint32_t now_ms,
                                                   std::uint32_t deadline_ms) noexcept {
    return time_before(now_ms, deadline_ms) ? deadline_ms - now_ms : 0;
}

}  // namespace pinhole
