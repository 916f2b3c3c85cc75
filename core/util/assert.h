// Assertions are for our own bugs, never for input from the network or a file: those are
// checked, counted and answered with an error. A failed assertion ends in the port's panic
// (port/panic.h), which logs and stops the process or board. They stay on in release builds.
#pragma once

#include "port/panic.h"

#define PINHOLE_ASSERT(condition)                                                \
    do {                                                                         \
        if (!(condition)) [[unlikely]]                                           \
            ::pinhole::port::panic("assertion failed: " #condition, __FILE__, __LINE__); \
    } while (0)
