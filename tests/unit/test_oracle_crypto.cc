// The X25519 and ChaCha20-Poly1305 we build from mbedTLS agree with libsodium, an independent
// implementation, on random inputs (host only: libsodium is not cross-installed).
#include <mbedtls/chachapoly.h>
#include <sodium.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

extern "C" void Hacl_Curve25519_crypto_scalarmult(std::uint8_t* out, std::uint8_t* scalar,
                                                  std::uint8_t* point);

namespace {

constexpr int trials = 64;

// Inputs come from a seeded generator; the seed is printed with any failure to replay it.
class CryptoOracle : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }

    template <typename Bytes>
    void fill(Bytes& bytes) {
        for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random_());
    }
    std::size_t below(std::size_t limit) { return random_() % limit; }

    const std::uint64_t seed_ = std::random_device{}();
    std::mt19937_64 random_{seed_};
};

TEST_F(CryptoOracle, X25519MatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        std::array<std::uint8_t, 32> scalar{}, base{}, ours{}, theirs{};
        fill(scalar);
        crypto_scalarmult_base(base.data(), scalar.data());  // a valid public point
        fill(scalar);
        Hacl_Curve25519_crypto_scalarmult(ours.data(), scalar.data(), base.data());
        ASSERT_EQ(crypto_scalarmult(theirs.data(), scalar.data(), base.data()), 0);
        ASSERT_EQ(ours, theirs) << "trial " << trial;
    }
}

TEST_F(CryptoOracle, ChaChaPolyMatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        std::array<std::uint8_t, 32> key{};
        std::array<std::uint8_t, 12> nonce{};
        fill(key);
        fill(nonce);
        // Lengths include 0; sizes of at least 1 keep every data() pointer non-null.
        const std::size_t length = below(1500);
        std::vector<std::uint8_t> plaintext(length + 1), aad(below(64) + 1);
        fill(plaintext);
        fill(aad);
        const std::size_t aad_bytes = below(aad.size());

        std::vector<std::uint8_t> ours(length + 16), theirs(length + 16);
        mbedtls_chachapoly_context context;
        mbedtls_chachapoly_init(&context);
        ASSERT_EQ(mbedtls_chachapoly_setkey(&context, key.data()), 0);
        ASSERT_EQ(mbedtls_chachapoly_encrypt_and_tag(&context, length, nonce.data(), aad.data(),
                                                     aad_bytes, plaintext.data(), ours.data(),
                                                     ours.data() + length), 0);
        mbedtls_chachapoly_free(&context);
        unsigned long long sealed_bytes = 0;
        crypto_aead_chacha20poly1305_ietf_encrypt(theirs.data(), &sealed_bytes, plaintext.data(),
                                                  length, aad.data(), aad_bytes, nullptr,
                                                  nonce.data(), key.data());
        ASSERT_EQ(sealed_bytes, length + 16);
        ASSERT_EQ(ours, theirs) << "trial " << trial << ", " << length << " bytes";
    }
}

}  // namespace
