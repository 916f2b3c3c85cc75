#include "drivers/cmsdk-uart/cmsdk_uart.h"

namespace pinhole::drivers {
namespace {

// Register offsets and bits from the CMSDK APB UART's technical reference.
constexpr std::uintptr_t data_offset = 0x00;
constexpr std::uintptr_t state_offset = 0x04;
constexpr std::uintptr_t control_offset = 0x08;
constexpr std::uintptr_t baud_divider_offset = 0x10;
constexpr std::uint32_t state_transmit_full = 1u << 0;
constexpr std::uint32_t control_transmit_enable = 1u << 0;
constexpr std::uint32_t minimum_baud_divider = 16;

volatile std::uint32_t& reg(std::uintptr_t base, std::uintptr_t offset) noexcept {
    return *reinterpret_cast<volatile std::uint32_t*>(base + offset);
}

}  // namespace

void CmsdkUart::enable_transmit(std::uint32_t baud_divider) const noexcept {
    reg(base_, baud_divider_offset) =
        baud_divider < minimum_baud_divider ? minimum_baud_divider : baud_divider;
    reg(base_, control_offset) = reg(base_, control_offset) | control_transmit_enable;
}

void CmsdkUart::write(const char* bytes, std::size_t length) const noexcept {
    for (std::size_t i = 0; i < length; i++) {
        while ((reg(base_, state_offset) & state_transmit_full) != 0) {
        }
        reg(base_, data_offset) = static_cast<std::uint8_t>(bytes[i]);
    }
}

}  // namespace pinhole::drivers
