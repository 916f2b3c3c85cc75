// Time as the core sees it. The core never reads a clock itself: it is handed the time.
#pragma once

#include <cstdint>

namespace pinhole::port {

// Wall-clock time for TAI64N timestamps: seconds since the Unix epoch and nanoseconds.
struct WallTime {
    std::uint64_t seconds = 0;
    std::uint32_t nanoseconds = 0;
};

class Clock {
public:
    // Milliseconds from an arbitrary origin; never goes backwards; wraps at 2^32 (~49.7 days):
    // compare with core/util/time.h, never with < on raw values.
    [[nodiscard]] virtual std::uint32_t monotonic_ms() noexcept = 0;
    // The platform's wall clock as it is (it may be wrong or step back: core/util/wall_clock.h
    // keeps a persisted floor under it).
    [[nodiscard]] virtual WallTime wall_time() noexcept = 0;

protected:
    ~Clock() = default;
};

}  // namespace pinhole::port
