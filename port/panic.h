// The one way out for our own bugs: every port defines it (posix: log and abort; lwip: print
// on the console and stop the board; sim: print the seed and abort). It is a function, not
// state, so the core can call it without holding a port instance.
#pragma once

namespace pinhole::port {

[[noreturn]] void panic(const char* what, const char* file, int line) noexcept;

}  // namespace pinhole::port
