// lwIP's platform hooks on Linux: its millisecond clock, random numbers, and assertion exit.
#include <lwip/arch.h>
#include <lwip/sys.h>

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

extern "C" u32_t sys_now(void) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    // lwIP's clock is a wrapping 32-bit millisecond counter; it compares times modulo 2^32.
    const auto milliseconds = static_cast<unsigned long long>(now.tv_sec) * 1000ULL +
                              static_cast<unsigned long long>(now.tv_nsec) / 1000000ULL;
    return static_cast<u32_t>(milliseconds);
}

extern "C" uint32_t pinhole_lwip_rand(void) {
    uint32_t value = 0;
    // getrandom of 4 bytes from the initialised pool never returns short; loop on EINTR only.
    for (int attempt = 0; attempt < 8; attempt++) {
        if (getrandom(&value, sizeof value, 0) == static_cast<ssize_t>(sizeof value)) return value;
    }
    pinhole_lwip_assert("getrandom failed", __FILE__, __LINE__);
    return 0;
}

extern "C" void pinhole_lwip_assert(const char* message, const char* file, int line) {
    char text[256];
    const int length = std::snprintf(text, sizeof text, "lwIP assertion failed: %s at %s:%d\n",
                                     message, file, line);
    if (length > 0) {
        const auto bytes = static_cast<size_t>(length) < sizeof text ? static_cast<size_t>(length)
                                                                     : sizeof text - 1;
        (void)!write(STDERR_FILENO, text, bytes);
    }
    std::abort();
}
