// Constant-time compare and zeroize: results only (timing is not asserted anywhere).
#include "core/crypto/ct.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace pinhole::crypto {
namespace {

TEST(ConstantTime, EqualBytesCompareEqual) {
    const std::array<std::uint8_t, 16> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const std::array<std::uint8_t, 16> b = a;
    EXPECT_TRUE(constant_time_equal(a, b));
    EXPECT_TRUE(constant_time_equal({}, {}));
}

TEST(ConstantTime, AnyDifferingBitMakesThemUnequal) {
    const std::array<std::uint8_t, 32> a{};
    for (std::size_t position = 0; position < a.size(); position++) {
        for (int bit = 0; bit < 8; bit++) {
            std::array<std::uint8_t, 32> b = a;
            b[position] ^= static_cast<std::uint8_t>(1u << bit);
            EXPECT_FALSE(constant_time_equal(a, b)) << "byte " << position << " bit " << bit;
        }
    }
}

TEST(ConstantTime, DifferentSizesAreUnequal) {
    const std::array<std::uint8_t, 16> a{};
    const std::array<std::uint8_t, 15> b{};
    EXPECT_FALSE(constant_time_equal(a, b));
    EXPECT_FALSE(constant_time_equal(b, a));
    EXPECT_FALSE(constant_time_equal(a, {}));
}

TEST(ConstantTime, IsZeroSeesEveryByte) {
    std::array<std::uint8_t, 32> bytes{};
    EXPECT_TRUE(constant_time_is_zero(bytes));
    EXPECT_TRUE(constant_time_is_zero({}));
    for (std::size_t position = 0; position < bytes.size(); position++) {
        bytes = {};
        bytes[position] = 0x80;
        EXPECT_FALSE(constant_time_is_zero(bytes)) << "byte " << position;
    }
}

TEST(Zeroize, ClearsBytesAndObjects) {
    std::array<std::uint8_t, 40> bytes;
    bytes.fill(0xa5);
    zeroize(std::span(bytes).subspan(8, 16));
    for (std::size_t i = 0; i < bytes.size(); i++) {
        EXPECT_EQ(bytes[i], (i >= 8 && i < 24) ? 0 : 0xa5) << "byte " << i;
    }
    struct Secret {
        std::uint32_t counter;
        std::array<std::uint8_t, 32> key;
    } secret{0xdeadbeef, {}};
    secret.key.fill(0x5a);
    zeroize_object(secret);
    EXPECT_EQ(secret.counter, 0u);
    EXPECT_TRUE(constant_time_is_zero(secret.key));
    zeroize({});  // an empty span is fine
}

}  // namespace
}  // namespace pinhole::crypto
