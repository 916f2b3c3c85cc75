#include "core/crypto/ct.h"

#include <cstring>

namespace pinhole::crypto {
namespace {

// Maps 0 to true and 1..255 to false without a branch on the value.
bool is_zero_byte(std::uint8_t accumulated) noexcept {
    std::uint32_t widened = accumulated;
    // Hide the value from the optimiser so it cannot turn the loop into an early exit.
    __asm__("" : "+r"(widened));
    return ((widened - 1u) >> 8) & 1u;
}

}  // namespace

bool constant_time_equal(std::span<const std::uint8_t> a,
                         std::span<const std::uint8_t> b) noexcept {
    if (a.size() != b.size()) return false;
    std::uint8_t difference = 0;
    for (std::size_t i = 0; i < a.size(); i++) difference |= a[i] ^ b[i];
    return is_zero_byte(difference);
}

bool constant_time_is_zero(std::span<const std::uint8_t> bytes) noexcept {
    std::uint8_t accumulated = 0;
    for (const std::uint8_t byte : bytes) accumulated |= byte;
    return is_zero_byte(accumulated);
}

void zeroize(std::span<std::uint8_t> bytes) noexcept {
    if (bytes.empty()) return;  // memset on a null pointer is undefined even for 0 bytes
    std::memset(bytes.data(), 0, bytes.size());
    // The barrier claims to read the memory, so the stores above are not dead (even with LTO).
    __asm__ __volatile__("" : : "r"(bytes.data()) : "memory");
}

}  // namespace pinhole::crypto
