// BLAKE2s against RFC 7693 (appendix B and the appendix E self-test over digest lengths 16-32,
// keyed and unkeyed) and the keyed known answers of the BLAKE2 reference (blake2s-kat.txt:
// key 00..1f, message 00..n-1).
#include "core/crypto/blake2s.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/test_crypto_hex.h"

namespace pinhole::crypto {
namespace {

using test::as_bytes;
using test::hex;
using test::to_hex;

std::vector<std::uint8_t> counting_bytes(std::size_t count) {
    std::vector<std::uint8_t> bytes(count);
    for (std::size_t i = 0; i < count; i++) bytes[i] = static_cast<std::uint8_t>(i);
    return bytes;
}

TEST(Blake2s, Rfc7693AppendixB) {
    Blake2s256 digest;
    ASSERT_TRUE(blake2s(digest, as_bytes("abc")).ok());
    EXPECT_EQ(to_hex(digest), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

TEST(Blake2s, EmptyMessageAnd128BitOutput) {
    Blake2s256 digest;
    ASSERT_TRUE(blake2s(digest, {}).ok());
    EXPECT_EQ(to_hex(digest), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
    Blake2s128 short_digest;  // a 16-byte digest is its own hash, not a truncation
    ASSERT_TRUE(blake2s(short_digest, as_bytes("abc")).ok());
    EXPECT_EQ(to_hex(short_digest), "aa4938119b1dc7b87cbad0ffd200d0ae");
}

// RFC 7693 appendix E's deterministic input generator (a Fibonacci-like sequence).
std::vector<std::uint8_t> self_test_sequence(std::size_t length, std::uint32_t seed) {
    std::vector<std::uint8_t> out(length);
    std::uint32_t a = 0xDEAD4BAD * seed;
    std::uint32_t b = 1;
    for (std::size_t i = 0; i < length; i++) {
        const std::uint32_t t = a + b;
        a = b;
        b = t;
        out[i] = static_cast<std::uint8_t>(t >> 24);
    }
    return out;
}

TEST(Blake2s, Rfc7693AppendixESelfTest) {
    Blake2s grand;
    ASSERT_TRUE(grand.init(32).ok());
    for (const std::size_t digest_bytes : {16, 20, 28, 32}) {
        for (const std::size_t input_bytes : {0, 3, 64, 65, 255, 1024}) {
            const auto input =
                self_test_sequence(input_bytes, static_cast<std::uint32_t>(input_bytes));
            std::vector<std::uint8_t> digest(digest_bytes);
            ASSERT_TRUE(blake2s(digest, input).ok());
            grand.update(digest);
            const auto key =
                self_test_sequence(digest_bytes, static_cast<std::uint32_t>(digest_bytes));
            ASSERT_TRUE(blake2s(digest, input, key).ok());
            grand.update(digest);
        }
    }
    Blake2s256 result;
    ASSERT_TRUE(grand.final(result).ok());
    EXPECT_EQ(to_hex(result), "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
}

TEST(Blake2s, KeyedKnownAnswers) {
    struct Vector {
        std::size_t message_bytes;
        std::string_view digest;
    };
    const Vector vectors[] = {
        {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
        {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
        {2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
        {3, "1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b"},
        {63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"},
        {64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
        {65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"},
        {127, "ddbfea75cc467882eb3483ce5e2e756a4f4701b76b445519e89f22d60fa86e06"},
        {128, "0c311f38c35a4fb90d651c289d486856cd1413df9b0677f53ece2cd9e477c60a"},
        {255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"},
    };
    const auto key = counting_bytes(32);
    for (const Vector& vector : vectors) {
        Blake2s256 digest;
        ASSERT_TRUE(blake2s(digest, counting_bytes(vector.message_bytes), key).ok());
        EXPECT_EQ(to_hex(digest), vector.digest) << vector.message_bytes << " bytes";
    }
}

TEST(Blake2s, IncrementalEqualsOneShotForEverySplit) {
    const auto key = counting_bytes(32);
    for (const bool keyed : {false, true}) {
        for (std::size_t length = 0; length <= 200; length += 7) {
            const auto message = counting_bytes(length);
            const auto key_used = std::span<const std::uint8_t>(key).first(keyed ? 32 : 0);
            Blake2s256 expected;
            ASSERT_TRUE(blake2s(expected, message, key_used).ok());
            for (std::size_t split = 0; split <= length; split++) {
                Blake2s hash;
                ASSERT_TRUE(hash.init(32, key_used).ok());
                hash.update(std::span(message).first(split));
                hash.update({});
                hash.update(std::span(message).subspan(split));
                Blake2s256 digest;
                ASSERT_TRUE(hash.final(digest).ok());
                ASSERT_EQ(digest, expected) << length << " bytes split at " << split;
            }
        }
    }
}

TEST(Blake2s, ObjectIsReusableAfterFinal) {
    Blake2s hash;
    Blake2s256 first, second;
    for (Blake2s256* digest : {&first, &second}) {
        ASSERT_TRUE(hash.init(32).ok());
        hash.update(as_bytes("abc"));
        ASSERT_TRUE(hash.final(*digest).ok());
    }
    EXPECT_EQ(first, second);
}

TEST(Blake2s, RefusesLengthsOutOfContract) {
    Blake2s hash;
    EXPECT_EQ(hash.init(0).error(), Errc::invalid_argument);
    EXPECT_EQ(hash.init(33).error(), Errc::invalid_argument);
    EXPECT_EQ(hash.init(32, counting_bytes(33)).error(), Errc::invalid_argument);
    ASSERT_TRUE(hash.init(16).ok());
    Blake2s256 wrong_size;
    EXPECT_EQ(hash.final(wrong_size).error(), Errc::invalid_argument);
    std::array<std::uint8_t, 33> too_long{};
    EXPECT_EQ(blake2s(too_long, {}).error(), Errc::invalid_argument);
    EXPECT_EQ(blake2s(std::span<std::uint8_t>(), {}).error(), Errc::invalid_argument);
}

}  // namespace
}  // namespace pinhole::crypto
