// Our own bugs end here on bare metal: a line on the console, then the board stops.
#include "port/panic.h"

#include <cstring>

#include "port/lwip/board.h"

namespace pinhole::port {

void panic(const char* what, const char* file, int line) noexcept {
    char digits[12];
    std::size_t length = 0;
    unsigned value = line > 0 ? static_cast<unsigned>(line) : 0u;
    do {  // at most 10 digits for a 32-bit line number
        digits[sizeof digits - 1 - length++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0 && length < sizeof digits);
    constexpr char prefix[] = "pinhole: fatal: ";
    board::console_write(prefix, sizeof prefix - 1);
    board::console_write(what, std::strlen(what));
    board::console_write(" at ", 4);
    board::console_write(file, std::strlen(file));
    board::console_write(":", 1);
    board::console_write(digits + sizeof digits - length, length);
    board::console_write("\n", 1);
    board::exit(1);
}

}  // namespace pinhole::port

extern "C" void pinhole_lwip_assert(const char* message, const char* file, int line) {
    pinhole::port::panic(message, file, line);
}
