// What a bare-metal board gives the lwip port: a small, flat interface, one implementation per
// board family (boards/mps2/board.cc). Nothing here allocates or blocks for long.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pinhole::board {

// Milliseconds since reset, wrapping at 2^32.
[[nodiscard]] std::uint32_t uptime_ms() noexcept;

// Fills `out` with bytes from the board's entropy source (a TRNG, or the host's /dev/urandom
// through semihosting under QEMU). False if the source failed: callers must not go on.
[[nodiscard]] bool random_bytes(std::uint8_t* out, std::size_t length) noexcept;

// Writes to the console (the UART); blocks until the bytes are in the transmitter.
void console_write(const char* text, std::size_t length) noexcept;

// Stops the board: under QEMU, exits the emulator with this status.
[[noreturn]] void exit(int status) noexcept;

}  // namespace pinhole::board
