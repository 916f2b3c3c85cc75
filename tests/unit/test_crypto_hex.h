// Hex for the crypto tests: published vectors are typed in as the documents print them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace pinhole::test {

// Decodes hex digits, skipping spaces, colons and newlines as found in RFC figures.
inline std::vector<std::uint8_t> hex(std::string_view text) {
    std::vector<std::uint8_t> bytes;
    int high = -1;
    for (const char c : text) {
        int nibble = -1;
        if (c >= '0' && c <= '9') nibble = c - '0';
        if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
        if (nibble < 0) continue;
        if (high < 0) {
            high = nibble;
        } else {
            bytes.push_back(static_cast<std::uint8_t>(high << 4 | nibble));
            high = -1;
        }
    }
    EXPECT_EQ(high, -1) << "odd number of hex digits in: " << text;
    return bytes;
}

template <std::size_t N>
std::array<std::uint8_t, N> hex_array(std::string_view text) {
    const std::vector<std::uint8_t> bytes = hex(text);
    std::array<std::uint8_t, N> out{};
    EXPECT_EQ(bytes.size(), N) << "wrong length for: " << text;
    for (std::size_t i = 0; i < N && i < bytes.size(); i++) out[i] = bytes[i];
    return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (const std::uint8_t byte : bytes) {
        text.push_back(digits[byte >> 4]);
        text.push_back(digits[byte & 15]);
    }
    return text;
}

inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::vector<std::uint8_t> bytes_of(std::string_view text) {
    const auto bytes = as_bytes(text);
    return {bytes.begin(), bytes.end()};
}

}  // namespace pinhole::test
