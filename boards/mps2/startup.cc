// Reset and exception vectors of the mps2 boards (Armv7-M): set up C/C++ state, start the board,
// run the firmware's main, and exit through semihosting with its status.
#include <cstdint>

#include "boards/mps2/mps2.h"

extern "C" {
extern std::uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top;
extern void (*__init_array_start[])(), (*__init_array_end[])();
[[noreturn]] void reset_handler();
void fault_handler();
}

namespace {

void copy_data_and_zero_bss() {
    const std::uint32_t* from = &__data_load;
    for (std::uint32_t* to = &__data_start; to < &__data_end;) *to++ = *from++;
    for (std::uint32_t* to = &__bss_start; to < &__bss_end;) *to++ = 0;
}

void enable_fpu() {
#if defined(__ARM_FP)
    // Full access to coprocessors 10 and 11 (the FPU) before any floating-point instruction.
    volatile std::uint32_t& cpacr = *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u);
    cpacr = cpacr | (0xFu << 20);
    asm volatile("dsb\n isb" ::: "memory");
#endif
}

}  // namespace

extern "C" void reset_handler() {
    enable_fpu();
    copy_data_and_zero_bss();
    for (auto* init = __init_array_start; init < __init_array_end; init++) (*init)();
    pinhole::mps2::start();
    pinhole::mps2::exit_qemu(pinhole::mps2::firmware_main());
}

extern "C" void fault_handler() {
    constexpr char message[] = "\nfatal: processor fault\n";
    pinhole::mps2::console_write_raw(message, sizeof message - 1);
    pinhole::mps2::exit_qemu(1);
}

using Vector = void (*)();
constexpr int exception_vectors = 16;

// Initial stack pointer, then the Armv7-M exceptions; interrupts of the board are unused.
__attribute__((section(".vectors"), used)) const Vector vector_table[exception_vectors] = {
    reinterpret_cast<Vector>(&__stack_top),
    reset_handler,
    fault_handler,  // NMI
    fault_handler,  // HardFault
    fault_handler,  // MemManage
    fault_handler,  // BusFault
    fault_handler,  // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    fault_handler,  // SVCall
    fault_handler,  // DebugMonitor
    nullptr,
    fault_handler,  // PendSV
    pinhole::mps2::systick_handler,
};
