// The board interface (port/lwip/board.h) on QEMU's mps2 boards: CMSDK UART0 console, SysTick
// millisecond clock, and semihosting for entropy and exit. QEMU's mps2 has no TRNG, so random
// bytes are the host's /dev/urandom read through semihosting (see boards/mps2/README.md).
#include <cstdint>

#include "boards/mps2/mps2.h"
#include "drivers/cmsdk-uart/cmsdk_uart.h"
#include "port/lwip/board.h"

namespace pinhole::mps2 {
namespace {

constexpr std::uint32_t cpu_clock_hz = 25'000'000;
constexpr std::uint32_t console_baud = 115'200;
constexpr drivers::CmsdkUart console{0x40004000u};  // UART0

// SysTick registers (Armv7-M architecture reference).
volatile std::uint32_t& systick_control = *reinterpret_cast<volatile std::uint32_t*>(0xE000E010u);
volatile std::uint32_t& systick_reload = *reinterpret_cast<volatile std::uint32_t*>(0xE000E014u);
volatile std::uint32_t& systick_current = *reinterpret_cast<volatile std::uint32_t*>(0xE000E018u);
constexpr std::uint32_t systick_enable_with_interrupt_on_cpu_clock = 0x7;

// Board state lives here, not in the core: the tick counter and the entropy file's handle.
volatile std::uint32_t milliseconds_since_reset = 0;
int urandom_handle = -1;

// Semihosting operations (Arm's semihosting specification, version 2).
constexpr int sys_open = 0x01;
constexpr int sys_read = 0x06;
constexpr int sys_exit = 0x18;
constexpr int open_mode_read_binary = 1;
constexpr std::uint32_t adp_stopped_application_exit = 0x20026;
constexpr std::uint32_t adp_stopped_run_time_error = 0x20023;

int semihost(int operation, const void* argument) noexcept {
    register int r0 asm("r0") = operation;
    register const void* r1 asm("r1") = argument;
    asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

}  // namespace

void start() noexcept {
    console.enable_transmit(cpu_clock_hz / console_baud);
    systick_reload = cpu_clock_hz / 1000 - 1;
    systick_current = 0;
    systick_control = systick_enable_with_interrupt_on_cpu_clock;
}

void systick_handler() noexcept { milliseconds_since_reset = milliseconds_since_reset + 1; }

void console_write_raw(const char* text, std::size_t length) noexcept { console.write(text, length); }

void exit_qemu(int status) noexcept {
    // On 32-bit Arm, SYS_EXIT takes the reason itself; QEMU exits 0 for "application exit".
    const std::uint32_t reason = status == 0 ? adp_stopped_application_exit : adp_stopped_run_time_error;
    semihost(sys_exit, reinterpret_cast<const void*>(reason));
    for (;;) {
    }
}

}  // namespace pinhole::mps2

namespace pinhole::board {

std::uint32_t uptime_ms() noexcept { return mps2::milliseconds_since_reset; }

bool random_bytes(std::uint8_t* out, std::size_t length) noexcept {
    using namespace mps2;
    if (urandom_handle < 0) {
        static constexpr char path[] = "/dev/urandom";
        const std::uint32_t open_arguments[3] = {reinterpret_cast<std::uint32_t>(path),
                                                 open_mode_read_binary, sizeof path - 1};
        urandom_handle = semihost(sys_open, open_arguments);
        if (urandom_handle < 0) return false;
    }
    const std::uint32_t read_arguments[3] = {static_cast<std::uint32_t>(urandom_handle),
                                             reinterpret_cast<std::uint32_t>(out), length};
    return semihost(sys_read, read_arguments) == 0;  // the count of bytes *not* read
}

void console_write(const char* text, std::size_t length) noexcept {
    mps2::console_write_raw(text, length);
}

void exit(int status) noexcept { mps2::exit_qemu(status); }

}  // namespace pinhole::board
