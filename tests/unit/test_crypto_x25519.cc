// X25519 through the seam against RFC 7748 (section 5.2 vectors and iterations, section 6.1
// Diffie-Hellman) and the all-zero rule for low-order points.
#include "core/crypto/x25519.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "tests/unit/test_crypto_hex.h"

namespace pinhole::crypto {
namespace {

using test::hex_array;

X25519Key key(std::string_view text) { return hex_array<32>(text); }

TEST(X25519, Rfc7748Section52Vectors) {
    X25519Key shared;
    ASSERT_TRUE(x25519(shared,
                       key("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                       key("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
                    .ok());
    EXPECT_EQ(shared, key("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));
    // This u-coordinate has its top bit set: it must be ignored.
    ASSERT_TRUE(x25519(shared,
                       key("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                       key("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"))
                    .ok());
    EXPECT_EQ(shared, key("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"));
}

// Section 5.2's iteration: k = X25519(k, u), u = the previous k, both starting at 9.
X25519Key iterate(int iterations) {
    X25519Key k = {9};
    X25519Key u = {9};
    for (int i = 0; i < iterations; i++) {
        X25519Key next;
        EXPECT_TRUE(x25519(next, k, u).ok()) << "iteration " << i;
        u = k;
        k = next;
    }
    return k;
}

TEST(X25519, Rfc7748OneIteration) {
    EXPECT_EQ(iterate(1), key("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"));
}

TEST(X25519, Rfc7748ThousandIterations) {
    EXPECT_EQ(iterate(1000),
              key("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"));
}

// About a minute in a release build, far longer under sanitizers or qemu: run only when asked
// (label `long`, scripts/test --long).
TEST(X25519Long, Rfc7748MillionIterations) {
    const char* wanted = std::getenv("PINHOLE_LONG");
    if (wanted == nullptr || std::strcmp(wanted, "1") != 0) {
        GTEST_SKIP() << "set PINHOLE_LONG=1 to run (ctest -L long, scripts/test --long)";
    }
    EXPECT_EQ(iterate(1'000'000),
              key("7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424"));
}

TEST(X25519, Rfc7748Section61DiffieHellman) {
    const X25519Key alice_private =
        key("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const X25519Key bob_private =
        key("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    X25519Key alice_public, bob_public, alice_shared, bob_shared;
    ASSERT_TRUE(x25519_public_key(alice_public, alice_private).ok());
    ASSERT_TRUE(x25519_public_key(bob_public, bob_private).ok());
    EXPECT_EQ(alice_public,
              key("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    EXPECT_EQ(bob_public, key("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
    ASSERT_TRUE(x25519(alice_shared, alice_private, bob_public).ok());
    ASSERT_TRUE(x25519(bob_shared, bob_private, alice_public).ok());
    const X25519Key expected =
        key("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    EXPECT_EQ(alice_shared, expected);
    EXPECT_EQ(bob_shared, expected);
}

// Points of order 1, 2, 4 and 8 (and non-canonical encodings of them): every clamped scalar is
// a multiple of 8, so the result is all zeros and must be refused.
TEST(X25519, RejectsLowOrderPoints) {
    const std::string_view low_order_points[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",  // 0
        "0100000000000000000000000000000000000000000000000000000000000000",  // 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p (= 0)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 (= 1)
        "0000000000000000000000000000000000000000000000000000000000000080",  // 0, top bit set
        "0100000000000000000000000000000000000000000000000000000000000080",  // 1, top bit set
    };
    const X25519Key private_key =
        key("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    for (const std::string_view point : low_order_points) {
        X25519Key shared;
        shared.fill(0xee);
        EXPECT_EQ(x25519(shared, private_key, key(point)).error(), Errc::weak_key) << point;
        EXPECT_EQ(shared, X25519Key{}) << point;
    }
}

TEST(X25519, ClampsThePrivateKeyItself) {
    X25519Key unclamped;
    unclamped.fill(0xff);
    X25519Key clamped = unclamped;
    x25519_clamp(clamped);
    EXPECT_EQ(clamped[0], 0xf8);
    EXPECT_EQ(clamped[31], 0x7f);
    X25519Key from_unclamped, from_clamped;
    ASSERT_TRUE(x25519_public_key(from_unclamped, unclamped).ok());
    ASSERT_TRUE(x25519_public_key(from_clamped, clamped).ok());
    EXPECT_EQ(from_unclamped, from_clamped);
}

TEST(X25519, SharedMayAliasAnInput) {
    const X25519Key alice_private =
        key("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const X25519Key bob_public =
        key("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    X25519Key in_place = alice_private;
    ASSERT_TRUE(x25519(in_place, in_place, bob_public).ok());
    EXPECT_EQ(in_place, key("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
}

class FixedRandom final : public port::Random {
public:
    explicit FixedRandom(bool works) : works_(works) {}
    Status fill(std::span<std::uint8_t> out) noexcept override {
        std::fill(out.begin(), out.end(), 0xff);
        return works_ ? Status() : Status(Errc::io);
    }

private:
    bool works_;
};

TEST(X25519, GenerateClampsWhatTheRandomSourceGives) {
    FixedRandom random(true);
    X25519Key private_key{};
    ASSERT_TRUE(x25519_generate(private_key, random).ok());
    X25519Key expected;
    expected.fill(0xff);
    x25519_clamp(expected);
    EXPECT_EQ(private_key, expected);
}

TEST(X25519, GenerateLeavesNoPartialKeyWhenRandomFails) {
    FixedRandom random(false);
    X25519Key private_key;
    private_key.fill(0x11);
    EXPECT_EQ(x25519_generate(private_key, random).error(), Errc::io);
    EXPECT_EQ(private_key, X25519Key{});
}

}  // namespace
}  // namespace pinhole::crypto
