// The mps2 board family's internals, shared by startup.cc, board.cc and the firmware's main.
#pragma once

#include <cstddef>

namespace pinhole::mps2 {

void start() noexcept;             // console and millisecond tick, before main
int firmware_main() noexcept;      // the image's application; returns the exit status
void systick_handler() noexcept;
void console_write_raw(const char* text, std::size_t length) noexcept;
[[noreturn]] void exit_qemu(int status) noexcept;

}  // namespace pinhole::mps2
