// Wall time that never goes backwards, even across reboots of a board without an RTC (a
// Raspberry Pi, the mps2 boards). WireGuard's responders reject an initiation whose TAI64N
// timestamp is not newer than the last one they saw from us, so a node whose clock restarts at
// 1970 after a reboot would be locked out until its clock caught up.
//
// The clock is max(platform wall time, floor + time since start), where the floor is persisted
// at start and whenever raise_floor() is called (every REKEY_AFTER_TIME by the node).
#pragma once

#include <cstdint>

#include "core/util/result.h"
#include "port/clock.h"
#include "port/storage.h"

namespace pinhole {

class WallClock {
public:
    static constexpr char floor_record[] = "wall_clock_floor";

    WallClock(port::Clock& clock, port::Storage& storage) noexcept
        : clock_(clock), storage_(storage) {}

    // Reads the persisted floor (absent on first start), then persists now() as the new floor.
    [[nodiscard]] Status start() noexcept;
    // Never less than any value returned before, in this run or an earlier one.
    [[nodiscard]] port::WallTime now() noexcept;
    // Persists now() as the floor.
    [[nodiscard]] Status raise_floor() noexcept;

private:
    port::Clock& clock_;
    port::Storage& storage_;
    std::uint64_t floor_ns_ = 0;          // the floor read at start, in ns since the epoch
    std::uint64_t elapsed_ms_ = 0;        // monotonic time since start, summed across wraps
    std::uint32_t last_monotonic_ms_ = 0;
    std::uint64_t last_returned_ns_ = 0;
};

}  // namespace pinhole
