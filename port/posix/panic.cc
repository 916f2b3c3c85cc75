// Our own bugs end here on Linux: one line on stderr, then abort (a core dump if enabled).
#include "port/panic.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace pinhole::port {

void panic(const char* what, const char* file, int line) noexcept {
    char text[512];
    const int length = std::snprintf(text, sizeof text, "pinhole: fatal: %s at %s:%d\n", what,
                                     file, line);
    if (length > 0) {
        const auto bytes = static_cast<std::size_t>(length) < sizeof text
                               ? static_cast<std::size_t>(length)
                               : sizeof text - 1;
        (void)!write(STDERR_FILENO, text, bytes);
    }
    std::abort();
}

}  // namespace pinhole::port

extern "C" void pinhole_lwip_assert(const char* message, const char* file, int line) {
    pinhole::port::panic(message, file, line);
}
