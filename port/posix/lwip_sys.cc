// lwIP's platform hooks on Linux: its millisecond clock and random numbers. (Its assertion
// hook is in panic.cc.)
#include <lwip/arch.h>
#include <lwip/sys.h>

#include <sys/random.h>
#include <time.h>

#include "port/panic.h"

extern "C" u32_t sys_now(void) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // as PosixClock: millisecond timers, cheap reads
    // lwIP's clock is a wrapping 32-bit millisecond counter; it compares times modulo 2^32.
    const auto milliseconds = static_cast<unsigned long long>(now.tv_sec) * 1000ULL +
                              static_cast<unsigned long long>(now.tv_nsec) / 1000000ULL;
    return static_cast<u32_t>(milliseconds);
}

extern "C" uint32_t pinhole_lwip_rand(void) {
    uint32_t value = 0;
    // getrandom of 4 bytes never returns short once the pool is initialised; retry EINTR only.
    for (int attempt = 0; attempt < 8; attempt++) {
        if (getrandom(&value, sizeof value, 0) == static_cast<ssize_t>(sizeof value)) return value;
    }
    pinhole::port::panic("getrandom failed", __FILE__, __LINE__);
}
