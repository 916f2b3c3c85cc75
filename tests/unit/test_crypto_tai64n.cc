// TAI64N as wireguard-go writes it: 2^62 + 10 + Unix seconds, nanoseconds rounded down to a
// multiple of 2^24, both big-endian; later means a byte-wise greater encoding.
#include "core/crypto/tai64n.h"

#include <gtest/gtest.h>

#include "tests/unit/test_crypto_hex.h"

namespace pinhole::crypto {
namespace {

using test::hex_array;

TEST(Tai64n, EncodesTheUnixEpoch) {
    EXPECT_EQ(tai64n_encode({0, 0}), hex_array<12>("400000000000000a 00000000"));
}

TEST(Tai64n, EncodesSecondsAndWhitenedNanosecondsBigEndian) {
    // 1700000000 = 0x6553f100; 123456789 ns = 0x075bcd15, rounded down to 0x07000000.
    EXPECT_EQ(tai64n_encode({1'700'000'000, 123'456'789}),
              hex_array<12>("400000006553f10a 07000000"));
    EXPECT_EQ(tai64n_encode({1'700'000'000, 999'999'999}),
              hex_array<12>("400000006553f10a 3b000000"));
}

TEST(Tai64n, LaterMeansStrictlyGreater) {
    const Tai64n earlier = tai64n_encode({1'700'000'000, 0});
    EXPECT_TRUE(tai64n_after(tai64n_encode({1'700'000'001, 0}), earlier));
    EXPECT_TRUE(tai64n_after(tai64n_encode({1'700'000'000, 20'000'000}), earlier));
    EXPECT_FALSE(tai64n_after(earlier, earlier));
    EXPECT_FALSE(tai64n_after(earlier, tai64n_encode({1'700'000'001, 0})));
    // Within one 2^24 ns step the timestamps are equal, so not later.
    EXPECT_FALSE(tai64n_after(tai64n_encode({1'700'000'000, 16'000'000}), earlier));
    // A carry into a higher byte of the seconds still orders correctly.
    EXPECT_TRUE(tai64n_after(tai64n_encode({0x100000000, 0}),
                             tai64n_encode({0xffffffff, 999'999'999})));
}

}  // namespace
}  // namespace pinhole::crypto
