// The X25519 and ChaCha20-Poly1305 we build from mbedTLS agree with libsodium, an independent
// implementation, on random inputs (host only: libsodium is not cross-installed).
#include <mbedtls/chachapoly.h>
#include <sodium.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

extern "C" void Hacl_Curve25519_crypto_scalarmult(std::uint8_t* out, std::uint8_t* scalar,
                                                  std::uint8_t* point);

namespace {

constexpr int trials = 64;

class CryptoOracle : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

TEST_F(CryptoOracle, X25519MatchesLibsodium) {
    for (int trial = 0; trial < trials; trial++) {
        std::array<std::uint8_t, 32> scalar{}, base{}, ours{}, theirs{};
        randombytes_buf(scalar.data(), scalar.size());
        crypto_scalarmult_base(base.data(), scalar.data());  // a valid public point
        randombytes_buf(scalar.data(), scalar.size());
        Hacl_Curve25519_crypto_scalarmult(ours.data(), scalar.data(), base.data());
        ASSERT_EQ(crypto_scalarmult(theirs.data(), scalar.data(), base.data()), 0);
        ASSERT_EQ(ours, theirs) << "trial " << trial;
    }
}

TEST_F(CryptoOracle, ChaChaPolyMatchesLibsodium) {
    for (int trial = 0; trial < trials; trial++) {
        std::array<std::uint8_t, 32> key{};
        std::array<std::uint8_t, 12> nonce{};
        randombytes_buf(key.data(), key.size());
        randombytes_buf(nonce.data(), nonce.size());
        const std::size_t length = randombytes_uniform(1500);
        std::vector<std::uint8_t> plaintext(length), aad(randombytes_uniform(64));
        randombytes_buf(plaintext.data(), plaintext.size());
        randombytes_buf(aad.data(), aad.size());

        std::vector<std::uint8_t> ours(length + 16), theirs(length + 16);
        mbedtls_chachapoly_context context;
        mbedtls_chachapoly_init(&context);
        ASSERT_EQ(mbedtls_chachapoly_setkey(&context, key.data()), 0);
        ASSERT_EQ(mbedtls_chachapoly_encrypt_and_tag(&context, length, nonce.data(), aad.data(),
                                                     aad.size(), plaintext.data(), ours.data(),
                                                     ours.data() + length), 0);
        mbedtls_chachapoly_free(&context);
        unsigned long long sealed_bytes = 0;
        crypto_aead_chacha20poly1305_ietf_encrypt(theirs.data(), &sealed_bytes, plaintext.data(),
                                                  length, aad.data(), aad.size(), nullptr,
                                                  nonce.data(), key.data());
        ASSERT_EQ(sealed_bytes, length + 16);
        ASSERT_EQ(ours, theirs) << "trial " << trial << ", " << length << " bytes";
    }
}

}  // namespace
