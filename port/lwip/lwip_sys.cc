// lwIP's platform hooks on bare metal, on top of the board interface. (Its assertion hook is
// in panic.cc.)
#include <lwip/arch.h>
#include <lwip/sys.h>

#include <cstring>

#include "port/lwip/board.h"
#include "port/panic.h"

extern "C" u32_t sys_now(void) { return pinhole::board::uptime_ms(); }

extern "C" uint32_t pinhole_lwip_rand(void) {
    std::uint8_t bytes[4];
    if (!pinhole::board::random_bytes(bytes, sizeof bytes)) {
        pinhole::port::panic("the board's random source failed", __FILE__, __LINE__);
    }
    uint32_t value = 0;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}
