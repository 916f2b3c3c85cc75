// The crypto seam agrees with independent implementations on random inputs (host only: the
// oracles are not cross-installed): libsodium for X25519, ChaCha20-Poly1305, HChaCha20 and
// XChaCha20-Poly1305; libb2 (the BLAKE2 reference code) for BLAKE2s, and HMAC built on it.
#include <blake2.h>
#include <sodium.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "core/crypto/blake2s.h"
#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/hmac_blake2s.h"
#include "core/crypto/kdf.h"
#include "core/crypto/x25519.h"
#include "core/crypto/xchacha20poly1305.h"

namespace pinhole::crypto {
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
    std::vector<std::uint8_t> random_bytes(std::size_t count) {
        std::vector<std::uint8_t> bytes(count);
        fill(bytes);
        return bytes;
    }

    const std::uint64_t seed_ = std::random_device{}();
    std::mt19937_64 random_{seed_};
};

TEST_F(CryptoOracle, X25519MatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        X25519Key private_key, peer_private, ours, theirs, peer_public;
        fill(private_key);
        fill(peer_private);
        ASSERT_TRUE(x25519_public_key(ours, private_key).ok());
        ASSERT_EQ(crypto_scalarmult_base(theirs.data(), private_key.data()), 0);
        ASSERT_EQ(ours, theirs) << "public key, trial " << trial;

        crypto_scalarmult_base(peer_public.data(), peer_private.data());
        ASSERT_TRUE(x25519(ours, private_key, peer_public).ok());
        ASSERT_EQ(crypto_scalarmult(theirs.data(), private_key.data(), peer_public.data()), 0);
        ASSERT_EQ(ours, theirs) << "shared secret, trial " << trial;
    }
}

TEST_F(CryptoOracle, X25519OnArbitraryPointsMatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        X25519Key private_key, point, ours, theirs;
        fill(private_key);
        fill(point);  // often not on the curve but on its twist: X25519 is defined there too
        const bool ours_ok = x25519(ours, private_key, point).ok();
        const bool theirs_ok =
            crypto_scalarmult(theirs.data(), private_key.data(), point.data()) == 0;
        ASSERT_EQ(ours_ok, theirs_ok) << "trial " << trial;
        ASSERT_EQ(ours, theirs) << "trial " << trial;
    }
}

TEST_F(CryptoOracle, ChaCha20Poly1305MatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        ChaCha20Poly1305Key key;
        ChaCha20Poly1305Nonce nonce;
        fill(key);
        fill(nonce);
        const auto plaintext = random_bytes(below(1500));  // lengths include 0
        const auto aad = random_bytes(below(64));
        std::vector<std::uint8_t> ours(plaintext.size() + 16), theirs(plaintext.size() + 16);
        ASSERT_TRUE(chacha20poly1305_seal(ours, key, nonce, aad, plaintext).ok());
        unsigned long long sealed_bytes = 0;
        crypto_aead_chacha20poly1305_ietf_encrypt(theirs.data(), &sealed_bytes, plaintext.data(),
                                                  plaintext.size(), aad.data(), aad.size(),
                                                  nullptr, nonce.data(), key.data());
        ASSERT_EQ(sealed_bytes, plaintext.size() + 16);
        ASSERT_EQ(ours, theirs) << "trial " << trial << ", " << plaintext.size() << " bytes";

        std::vector<std::uint8_t> opened(plaintext.size());
        ASSERT_TRUE(chacha20poly1305_open(opened, key, nonce, aad, theirs).ok());
        ASSERT_EQ(opened, plaintext) << "trial " << trial;
        theirs[below(theirs.size())] ^= static_cast<std::uint8_t>(1u << below(8));
        ASSERT_EQ(chacha20poly1305_open(opened, key, nonce, aad, theirs).error(),
                  Errc::authentication)
            << "trial " << trial;
    }
}

TEST_F(CryptoOracle, HChaCha20MatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        ChaCha20Poly1305Key key, ours, theirs;
        HChaCha20Nonce nonce;
        fill(key);
        fill(nonce);
        hchacha20(ours, key, nonce);
        ASSERT_EQ(crypto_core_hchacha20(theirs.data(), nonce.data(), key.data(), nullptr), 0);
        ASSERT_EQ(ours, theirs) << "trial " << trial;
    }
}

TEST_F(CryptoOracle, XChaCha20Poly1305MatchesLibsodium) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        ChaCha20Poly1305Key key;
        XChaCha20Poly1305Nonce nonce;
        fill(key);
        fill(nonce);
        const auto plaintext = random_bytes(below(300));
        const auto aad = random_bytes(below(64));
        std::vector<std::uint8_t> ours(plaintext.size() + 16), theirs(plaintext.size() + 16);
        ASSERT_TRUE(xchacha20poly1305_seal(ours, key, nonce, aad, plaintext).ok());
        unsigned long long sealed_bytes = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(theirs.data(), &sealed_bytes, plaintext.data(),
                                                   plaintext.size(), aad.data(), aad.size(),
                                                   nullptr, nonce.data(), key.data());
        ASSERT_EQ(ours, theirs) << "trial " << trial << ", " << plaintext.size() << " bytes";
        std::vector<std::uint8_t> opened(plaintext.size());
        ASSERT_TRUE(xchacha20poly1305_open(opened, key, nonce, aad, theirs).ok());
        ASSERT_EQ(opened, plaintext) << "trial " << trial;
    }
}

TEST_F(CryptoOracle, Blake2sMatchesLibb2) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        for (const std::size_t digest_bytes : {1, 16, 20, 31, 32}) {
            const auto message = random_bytes(below(600));
            const auto key = random_bytes(trial % 2 == 0 ? 0 : 1 + below(32));
            std::vector<std::uint8_t> ours(digest_bytes), theirs(digest_bytes);
            ASSERT_TRUE(blake2s(ours, message, key).ok());
            ASSERT_EQ(::blake2s(theirs.data(), message.data(), key.data(), digest_bytes,
                                message.size(), key.size()),
                      0);
            ASSERT_EQ(ours, theirs) << "trial " << trial << ", " << message.size() << " bytes, "
                                    << key.size() << "-byte key, " << digest_bytes << " out";
        }
    }
}

TEST_F(CryptoOracle, Blake2sInRandomPiecesMatchesLibb2) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        const auto message = random_bytes(below(2000));
        const auto key = random_bytes(below(33));
        Blake2s hash;
        ASSERT_TRUE(hash.init(32, key).ok());
        for (std::size_t offset = 0; offset < message.size();) {
            const std::size_t piece = std::min(message.size() - offset, below(150));
            hash.update(std::span(message).subspan(offset, piece));
            offset += piece;
        }
        Blake2s256 ours, theirs;
        ASSERT_TRUE(hash.final(ours).ok());
        ASSERT_EQ(::blake2s(theirs.data(), message.data(), key.data(), 32, message.size(),
                            key.size()),
                  0);
        ASSERT_EQ(ours, theirs) << "trial " << trial;
    }
}

// RFC 2104 HMAC over libb2's BLAKE2s, written here independently of core/crypto.
Blake2s256 reference_hmac(std::vector<std::uint8_t> key, const std::vector<std::uint8_t>& data) {
    if (key.size() > 64) {
        std::vector<std::uint8_t> hashed(32);
        ::blake2s(hashed.data(), key.data(), nullptr, 32, key.size(), 0);
        key = hashed;
    }
    key.resize(64, 0);
    std::vector<std::uint8_t> inner_message, outer_message;
    for (const std::uint8_t byte : key) inner_message.push_back(byte ^ 0x36);
    inner_message.insert(inner_message.end(), data.begin(), data.end());
    std::array<std::uint8_t, 32> inner;
    ::blake2s(inner.data(), inner_message.data(), nullptr, 32, inner_message.size(), 0);
    for (const std::uint8_t byte : key) outer_message.push_back(byte ^ 0x5c);
    outer_message.insert(outer_message.end(), inner.begin(), inner.end());
    Blake2s256 mac;
    ::blake2s(mac.data(), outer_message.data(), nullptr, 32, outer_message.size(), 0);
    return mac;
}

TEST_F(CryptoOracle, HmacBlake2sAndKdfMatchHmacOverLibb2) {
    SCOPED_TRACE(testing::Message() << "seed " << seed_);
    for (int trial = 0; trial < trials; trial++) {
        const auto key = random_bytes(below(100));
        const auto data = random_bytes(below(200));
        Blake2s256 mac;
        hmac_blake2s(mac, key, data);
        ASSERT_EQ(mac, reference_hmac(key, data)) << "trial " << trial;

        Blake2s256 chaining_key, tau1, tau2, tau3;
        fill(chaining_key);
        kdf3(tau1, tau2, tau3, chaining_key, data);
        const Blake2s256 tau0 = reference_hmac({chaining_key.begin(), chaining_key.end()}, data);
        const std::vector<std::uint8_t> tau0_key(tau0.begin(), tau0.end());
        const Blake2s256 expected1 = reference_hmac(tau0_key, {1});
        std::vector<std::uint8_t> message(expected1.begin(), expected1.end());
        message.push_back(2);
        const Blake2s256 expected2 = reference_hmac(tau0_key, message);
        message.assign(expected2.begin(), expected2.end());
        message.push_back(3);
        ASSERT_EQ(tau1, expected1) << "trial " << trial;
        ASSERT_EQ(tau2, expected2) << "trial " << trial;
        ASSERT_EQ(tau3, reference_hmac(tau0_key, message)) << "trial " << trial;
    }
}

}  // namespace
}  // namespace pinhole::crypto
