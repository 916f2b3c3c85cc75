// Arm CMSDK APB UART (the console of the mps2 boards): polled transmit only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pinhole::drivers {

class CmsdkUart {
public:
    constexpr explicit CmsdkUart(std::uintptr_t base_address) noexcept : base_(base_address) {}

    // Sets the baud divider (clock / baud, at least 16) and enables the transmitter.
    void enable_transmit(std::uint32_t baud_divider) const noexcept;
    void write(const char* bytes, std::size_t length) const noexcept;

private:
    std::uintptr_t base_;
};

}  // namespace pinhole::drivers
