#include "core/util/endian.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace pinhole {
namespace {

constexpr std::array<std::uint8_t, 9> sample{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

// Usable in constant expressions (e.g. for test vectors and wire constants).
static_assert(load_le16(sample) == 0x0201);
static_assert(load_be16(sample) == 0x0102);
static_assert(load_le32(sample) == 0x04030201u);
static_assert(load_be32(sample) == 0x01020304u);
static_assert(load_le64(sample) == 0x0807060504030201ull);
static_assert(load_be64(sample) == 0x0102030405060708ull);
static_assert([] {
    std::array<std::uint8_t, 8> out{};
    store_be32(out, 0xA1B2C3D4u);
    return out[0] == 0xA1 && out[3] == 0xD4 && load_be32(out) == 0xA1B2C3D4u;
}());

TEST(Endian, LoadsFromUnalignedAddresses) {
    // Offset 1 of a byte array is misaligned for every wider type: byte-wise access has no UB.
    EXPECT_EQ(load_le16(sample.data() + 1), 0x0302);
    EXPECT_EQ(load_be16(sample.data() + 1), 0x0203);
    EXPECT_EQ(load_le32(sample.data() + 1), 0x05040302u);
    EXPECT_EQ(load_be32(sample.data() + 1), 0x02030405u);
    EXPECT_EQ(load_le64(sample.data() + 1), 0x0908070605040302ull);
    EXPECT_EQ(load_be64(sample.data() + 1), 0x0203040506070809ull);
}

TEST(Endian, StoresAndLoadsRoundTripAtEveryWidth) {
    std::array<std::uint8_t, 9> out{};
    store_le16(out.data() + 1, 0xBEEF);
    EXPECT_EQ(out[1], 0xEF);
    EXPECT_EQ(out[2], 0xBE);
    EXPECT_EQ(load_le16(out.data() + 1), 0xBEEF);
    store_be16(std::span(out).subspan(1), 0xBEEF);
    EXPECT_EQ(out[1], 0xBE);
    EXPECT_EQ(load_be16(std::span<const std::uint8_t>(out).subspan(1)), 0xBEEF);

    store_le32(out.data() + 1, 0xDEADBEEFu);
    EXPECT_EQ(out[1], 0xEF);
    EXPECT_EQ(out[4], 0xDE);
    EXPECT_EQ(load_le32(out.data() + 1), 0xDEADBEEFu);
    store_be32(out, 0xDEADBEEFu);
    EXPECT_EQ(out[0], 0xDE);
    EXPECT_EQ(load_be32(out), 0xDEADBEEFu);

    const std::uint64_t value = 0x0123456789ABCDEFull;
    store_le64(std::span(out).subspan(1), value);
    EXPECT_EQ(out[1], 0xEF);
    EXPECT_EQ(out[8], 0x01);
    EXPECT_EQ(load_le64(out.data() + 1), value);
    store_be64(out.data() + 1, value);
    EXPECT_EQ(out[1], 0x01);
    EXPECT_EQ(out[8], 0xEF);
    EXPECT_EQ(load_be64(std::span<const std::uint8_t>(out).subspan(1)), value);
    EXPECT_EQ(load_be64(out.data() + 1), value);
}

TEST(EndianDeathTest, AShortSpanIsABug) {
    const std::array<std::uint8_t, 3> three{};
    std::array<std::uint8_t, 7> seven{};
    EXPECT_DEATH((void)load_le32(std::span<const std::uint8_t>(three)), "assertion failed");
    EXPECT_DEATH((void)load_be64(std::span<const std::uint8_t>(seven)), "assertion failed");
    EXPECT_DEATH(store_le64(seven, 1), "assertion failed");
    EXPECT_DEATH(store_be16(std::span(seven).first(1), 1), "assertion failed");
}

}  // namespace
}  // namespace pinhole
