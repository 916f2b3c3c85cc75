// HMAC-BLAKE2s and WireGuard's KDF. Expected values come from an independent computation:
// Python's hmac module over hashlib.blake2s (the BLAKE2 reference code), e.g.
//   hmac.new(key, data, hashlib.blake2s).hexdigest()
// The oracle test (test_oracle_crypto.cc) also checks random inputs against libb2.
#include "core/crypto/hmac_blake2s.h"
#include "core/crypto/kdf.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/test_crypto_hex.h"

namespace pinhole::crypto {
namespace {

using test::as_bytes;
using test::bytes_of;
using test::hex_array;
using test::to_hex;

std::vector<std::uint8_t> counting_bytes(std::size_t count) {
    std::vector<std::uint8_t> bytes(count);
    for (std::size_t i = 0; i < count; i++) bytes[i] = static_cast<std::uint8_t>(i);
    return bytes;
}

TEST(HmacBlake2s, MatchesAnIndependentComputation) {
    struct Vector {
        std::size_t key_bytes;
        std::vector<std::uint8_t> data;
        std::string_view mac;
    };
    const Vector vectors[] = {
        {32, bytes_of("WireGuard v1 zx2c4 Jason@zx2c4.com"),
         "b9f2e5767a6cdfa821d56eb9a1d60bd7604e1f6eaa167773dd4580ccb475d570"},
        {64, {}, "4a4f8f181c931253202b2d7a77e2a612f65580f4b0d56108f7f275f22b63ae00"},
        // A key longer than the 64-byte block is hashed first.
        {100, counting_bytes(200),
         "c4c95271905c6f69c1dd7c6fbc0cb3735457a660ccc2c4370f28825e7abef5af"},
        {0, {'a', 'b', 'c'}, "4a79a31b10a8c34b7c89735b8088e6b810b4bad4f36d671b65ca2ea0914952bf"},
    };
    for (const Vector& vector : vectors) {
        Blake2s256 mac;
        hmac_blake2s(mac, counting_bytes(vector.key_bytes), vector.data);
        EXPECT_EQ(to_hex(mac), vector.mac) << vector.key_bytes << "-byte key";
    }
}

TEST(HmacBlake2s, OutputMayAliasTheKey) {
    Blake2s256 key_then_mac = hex_array<32>(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    hmac_blake2s(key_then_mac, key_then_mac, as_bytes("WireGuard v1 zx2c4 Jason@zx2c4.com"));
    EXPECT_EQ(to_hex(key_then_mac),
              "b9f2e5767a6cdfa821d56eb9a1d60bd7604e1f6eaa167773dd4580ccb475d570");
}

// The chaining key WireGuard starts from: HASH("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s").
Blake2s256 initial_chaining_key() {
    Blake2s256 chaining_key;
    EXPECT_TRUE(blake2s(chaining_key, as_bytes("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")).ok());
    EXPECT_EQ(to_hex(chaining_key),
              "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
    return chaining_key;
}

TEST(Kdf, MatchesTheWhitepaperDefinition) {
    const Blake2s256 chaining_key = initial_chaining_key();
    const auto input = counting_bytes(32);
    Blake2s256 tau1, tau2, tau3;
    kdf3(tau1, tau2, tau3, chaining_key, input);
    EXPECT_EQ(to_hex(tau1), "6ff66e10ab4a55ac8144a867fcd9f8ee64d4bd6239223338cb3437cf085ab031");
    EXPECT_EQ(to_hex(tau2), "203b22d63d63e35cebb9e40210cf8c1d7f90879428a4c766cda9ef34bb299398");
    EXPECT_EQ(to_hex(tau3), "35a7b2fc3e4f59db341dbe588e3b75897980c463d5bbb855f8ed8134ff40133a");

    Blake2s256 kdf2_tau1, kdf2_tau2, kdf1_tau1;
    kdf2(kdf2_tau1, kdf2_tau2, chaining_key, input);
    kdf1(kdf1_tau1, chaining_key, input);
    EXPECT_EQ(kdf2_tau1, tau1);
    EXPECT_EQ(kdf2_tau2, tau2);
    EXPECT_EQ(kdf1_tau1, tau1);
}

TEST(Kdf, EmptyInput) {
    Blake2s256 tau1;
    kdf1(tau1, initial_chaining_key(), {});
    EXPECT_EQ(to_hex(tau1), "bd968725a9177942a8c2e4253d1dde31cf7b19ec001b4a3a3d141cd9d998d3ba");
}

TEST(Kdf, OutputMayBeTheChainingKey) {
    const auto input = counting_bytes(32);
    Blake2s256 chaining_key = initial_chaining_key();
    Blake2s256 key;
    kdf2(chaining_key, key, chaining_key, input);  // (C, k) = KDF2(C, input), as Noise does
    EXPECT_EQ(to_hex(chaining_key),
              "6ff66e10ab4a55ac8144a867fcd9f8ee64d4bd6239223338cb3437cf085ab031");
    EXPECT_EQ(to_hex(key), "203b22d63d63e35cebb9e40210cf8c1d7f90879428a4c766cda9ef34bb299398");
}

}  // namespace
}  // namespace pinhole::crypto
