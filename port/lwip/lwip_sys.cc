// lwIP's platform hooks on bare metal, on top of the board interface.
#include <lwip/arch.h>
#include <lwip/sys.h>

#include <cstring>

#include "port/lwip/board.h"

extern "C" u32_t sys_now(void) { return pinhole::board::uptime_ms(); }

extern "C" uint32_t pinhole_lwip_rand(void) {
    std::uint8_t bytes[4];
    if (!pinhole::board::random_bytes(bytes, sizeof bytes)) {
        pinhole_lwip_assert("the board's random source failed", __FILE__, __LINE__);
    }
    uint32_t value = 0;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}

extern "C" void pinhole_lwip_assert(const char* message, const char* file, int line) {
    (void)line;
    constexpr char prefix[] = "lwIP assertion failed: ";
    pinhole::board::console_write(prefix, sizeof prefix - 1);
    pinhole::board::console_write(message, std::strlen(message));
    pinhole::board::console_write(" at ", 4);
    pinhole::board::console_write(file, std::strlen(file));
    pinhole::board::console_write("\n", 1);
    pinhole::board::exit(1);
}
