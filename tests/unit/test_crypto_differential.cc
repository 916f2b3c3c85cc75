// The seam's ChaCha20-Poly1305 (whichever backend the build selected) against mbedTLS's
// mbedtls_chachapoly called directly and, on the host, libsodium: seeded random keys, nonces,
// AAD and lengths 0..2048, in place and not, and tampering refused by all of them. Then the
// backend's promise to the data path: no allocation per packet once started.
//
// A failure prints the seed; PINHOLE_TEST_SEED=<seed> replays it.
#include <gtest/gtest.h>
#include <mbedtls/chachapoly.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <span>
#include <vector>

#include "core/crypto/chacha20poly1305.h"

#ifdef PINHOLE_TEST_WITH_LIBSODIUM
#include <sodium.h>
#endif
#ifdef PINHOLE_TEST_OPENSSL_BACKEND
#include <openssl/crypto.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PINHOLE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PINHOLE_TEST_ASAN 1
#endif
#endif
#ifdef PINHOLE_TEST_ASAN
// ASan's allocator interface (sanitizer/allocator_interface.h, which GCC does not install).
extern "C" {
std::size_t __sanitizer_get_current_allocated_bytes();
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                  std::size_t),
                                              void (*free_hook)(const volatile void*));
}
#else
#include <malloc.h>
#endif

namespace pinhole::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t tag_bytes = chacha20poly1305_tag_bytes;

// Allocation counters, installed before main so that they see OpenSSL's very first allocation:
// OpenSSL's own allocator hooks (the openssl backend), and under ASan every malloc of the
// process; without ASan, glibc's count of bytes in use stands in for the latter.
std::atomic<std::uint64_t> openssl_allocations{0};
std::atomic<std::uint64_t> process_allocations{0};

#ifdef PINHOLE_TEST_OPENSSL_BACKEND
void* counting_malloc(std::size_t bytes, const char*, int) {
    openssl_allocations++;
    return std::malloc(bytes);
}
void* counting_realloc(void* block, std::size_t bytes, const char*, int) {
    openssl_allocations++;
    return std::realloc(block, bytes);
}
void counting_free(void* block, const char*, int) { std::free(block); }
#endif
#ifdef PINHOLE_TEST_ASAN
void count_malloc(const volatile void*, std::size_t) { process_allocations++; }
void count_free(const volatile void*) {}
#endif

// False if OpenSSL had allocated before (then it refuses new allocator hooks).
const bool counters_installed = [] {
    bool installed = true;
#ifdef PINHOLE_TEST_OPENSSL_BACKEND
    installed = CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;
#endif
#ifdef PINHOLE_TEST_ASAN
    installed = __sanitizer_install_malloc_and_free_hooks(count_malloc, count_free) != 0 &&
                installed;
#endif
    return installed;
}();

std::size_t bytes_in_use() {
#ifdef PINHOLE_TEST_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}


Bytes mbedtls_seal(const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                   const Bytes& aad, const Bytes& plaintext) {
    Bytes sealed(plaintext.size() + tag_bytes);
    mbedtls_chachapoly_context context;
    mbedtls_chachapoly_init(&context);
    EXPECT_EQ(mbedtls_chachapoly_setkey(&context, key.data()), 0);
    EXPECT_EQ(mbedtls_chachapoly_encrypt_and_tag(&context, plaintext.size(), nonce.data(),
                                                 aad.data(), aad.size(), plaintext.data(),
                                                 sealed.data(), sealed.data() + plaintext.size()),
              0);
    mbedtls_chachapoly_free(&context);
    return sealed;
}

// mbedTLS's verdict: 0, or MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED.
int mbedtls_open(const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                 const Bytes& aad, const Bytes& sealed, Bytes& plaintext) {
    plaintext.assign(sealed.size() - tag_bytes, 0xee);
    mbedtls_chachapoly_context context;
    mbedtls_chachapoly_init(&context);
    EXPECT_EQ(mbedtls_chachapoly_setkey(&context, key.data()), 0);
    const int result = mbedtls_chachapoly_auth_decrypt(
        &context, plaintext.size(), nonce.data(), aad.data(), aad.size(),
        sealed.data() + plaintext.size(), sealed.data(), plaintext.data());
    mbedtls_chachapoly_free(&context);
    return result;
}

std::uint64_t test_seed() {
    const char* replay = std::getenv("PINHOLE_TEST_SEED");
    return replay != nullptr ? std::strtoull(replay, nullptr, 0) : std::random_device{}();
}

class ChaCha20Poly1305Differential : public ::testing::Test {
protected:
    void SetUp() override {
#ifdef PINHOLE_TEST_WITH_LIBSODIUM
        ASSERT_GE(sodium_init(), 0);
#endif
    }

    Bytes random_bytes(std::size_t count) {
        Bytes bytes(count);
        for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random_());
        return bytes;
    }
    template <std::size_t N>
    std::array<std::uint8_t, N> random_array() {
        std::array<std::uint8_t, N> bytes;
        for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random_());
        return bytes;
    }
    std::size_t below(std::size_t limit) { return random_() % limit; }

    // Edge lengths first (block and Poly1305 boundaries, WireGuard's MTU), then random ones.
    std::size_t length_of_trial(int trial) {
        static constexpr std::size_t edges[] = {0,  1,   15,  16,   17,   63,  64,
                                                65, 127, 128, 1420, 2047, 2048};
        constexpr int edge_count = sizeof(edges) / sizeof(edges[0]);
        return trial < edge_count ? edges[trial] : below(2049);
    }

    const std::uint64_t seed_ = test_seed();
    std::mt19937_64 random_{seed_};
    const ::testing::ScopedTrace trace_{__FILE__, __LINE__,
                                        ::testing::Message() << "PINHOLE_TEST_SEED=" << seed_};
};

constexpr int trials = 200;

// The seam seals into a fresh buffer and in place; both must equal mbedTLS's (and libsodium's).
void expect_same_seal(const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                      const Bytes& aad, const Bytes& plaintext) {
    const Bytes expected = mbedtls_seal(key, nonce, aad, plaintext);
    Bytes sealed(plaintext.size() + tag_bytes);
    ASSERT_TRUE(chacha20poly1305_seal(sealed, key, nonce, aad, plaintext).ok());
    EXPECT_EQ(sealed, expected) << plaintext.size() << " bytes, " << aad.size() << " AAD";

    Bytes in_place = plaintext;
    in_place.resize(plaintext.size() + tag_bytes);
    const std::span<std::uint8_t> whole(in_place);
    ASSERT_TRUE(
        chacha20poly1305_seal(whole, key, nonce, aad, whole.first(plaintext.size())).ok());
    EXPECT_EQ(in_place, expected) << "in place, " << plaintext.size() << " bytes";
#ifdef PINHOLE_TEST_WITH_LIBSODIUM
    Bytes sodium(plaintext.size() + tag_bytes);
    unsigned long long sodium_bytes = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(sodium.data(), &sodium_bytes, plaintext.data(),
                                              plaintext.size(), aad.data(), aad.size(), nullptr,
                                              nonce.data(), key.data());
    EXPECT_EQ(sodium, expected) << "libsodium, " << plaintext.size() << " bytes";
#endif
}

// The seam opens mbedTLS's seal into a fresh buffer and in place.
void expect_opens(const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                  const Bytes& aad, const Bytes& plaintext) {
    const Bytes sealed = mbedtls_seal(key, nonce, aad, plaintext);
    Bytes opened(plaintext.size(), 0xee);
    ASSERT_TRUE(chacha20poly1305_open(opened, key, nonce, aad, sealed).ok());
    EXPECT_EQ(opened, plaintext) << plaintext.size() << " bytes";

    Bytes in_place = sealed;
    const std::span<std::uint8_t> whole(in_place);
    ASSERT_TRUE(chacha20poly1305_open(whole.first(plaintext.size()), key, nonce, aad, whole).ok());
    EXPECT_TRUE(std::equal(plaintext.begin(), plaintext.end(), in_place.begin()))
        << "in place, " << plaintext.size() << " bytes";
}

TEST_F(ChaCha20Poly1305Differential, SealsAsMbedtlsAndLibsodiumDo) {
    for (int trial = 0; trial < trials && !HasFatalFailure(); trial++) {
        const Bytes plaintext = random_bytes(length_of_trial(trial));
        const Bytes aad = random_bytes(trial % 4 == 0 ? 0 : below(80));
        expect_same_seal(random_array<32>(), random_array<12>(), aad, plaintext);
    }
}

TEST_F(ChaCha20Poly1305Differential, OpensWhatMbedtlsSealed) {
    for (int trial = 0; trial < trials && !HasFatalFailure(); trial++) {
        const Bytes plaintext = random_bytes(length_of_trial(trial));
        const Bytes aad = random_bytes(trial % 4 == 0 ? 0 : below(80));
        expect_opens(random_array<32>(), random_array<12>(), aad, plaintext);
    }
}

// One bit of the tag, the ciphertext or the AAD flipped: the seam, mbedTLS and libsodium all
// refuse it, and the seam's plaintext (a fresh buffer or the packet itself) is all zeros.
void expect_all_refuse(const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                       const Bytes& aad, const Bytes& sealed, const char* what) {
    const std::size_t plaintext_bytes = sealed.size() - tag_bytes;
    const Bytes zeros(plaintext_bytes, 0);
    Bytes opened(plaintext_bytes, 0xee);
    EXPECT_EQ(chacha20poly1305_open(opened, key, nonce, aad, sealed).error(),
              Errc::authentication) << what;
    EXPECT_EQ(opened, zeros) << what;

    Bytes in_place = sealed;
    const std::span<std::uint8_t> whole(in_place);
    EXPECT_EQ(chacha20poly1305_open(whole.first(plaintext_bytes), key, nonce, aad, whole).error(),
              Errc::authentication) << what << ", in place";
    EXPECT_TRUE(std::equal(zeros.begin(), zeros.end(), in_place.begin())) << what << ", in place";

    Bytes theirs;
    EXPECT_EQ(mbedtls_open(key, nonce, aad, sealed, theirs), MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED)
        << what << ", mbedTLS";
#ifdef PINHOLE_TEST_WITH_LIBSODIUM
    EXPECT_EQ(crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                  opened.data(), nullptr, sealed.data(), plaintext_bytes,
                  sealed.data() + plaintext_bytes, aad.data(), aad.size(), nonce.data(),
                  key.data()),
              -1)
        << what << ", libsodium";
#endif
}

TEST_F(ChaCha20Poly1305Differential, EveryBackendRefusesTampering) {
    for (int trial = 0; trial < trials && !HasFatalFailure(); trial++) {
        const auto key = random_array<32>();
        const auto nonce = random_array<12>();
        Bytes aad = random_bytes(1 + below(64));
        const Bytes plaintext = random_bytes(length_of_trial(trial));
        const Bytes sealed = mbedtls_seal(key, nonce, aad, plaintext);
        const auto flip = [&](Bytes& bytes, std::size_t at) { bytes[at] ^= 1 << below(8); };

        Bytes bad_tag = sealed;
        flip(bad_tag, plaintext.size() + below(tag_bytes));
        expect_all_refuse(key, nonce, aad, bad_tag, "tag");
        if (!plaintext.empty()) {
            Bytes bad_ciphertext = sealed;
            flip(bad_ciphertext, below(plaintext.size()));
            expect_all_refuse(key, nonce, aad, bad_ciphertext, "ciphertext");
        }
        flip(aad, below(aad.size()));
        expect_all_refuse(key, nonce, aad, sealed, "AAD");
    }
}

// What the data path relies on: once the first call has made the backend's contexts (in the
// programs, the start-up self-test), 1,000 packets sealed and opened allocate nothing.
TEST(ChaCha20Poly1305Allocation, NoneAfterTheFirstCall) {
    ASSERT_TRUE(counters_installed) << "something allocated through OpenSSL before the test";
    constexpr std::size_t packet_bytes = 1420;
    const ChaCha20Poly1305Key key{1, 2, 3};
    const Bytes aad(16, 0xaa), plaintext(packet_bytes, 0x55);
    Bytes sealed(packet_bytes + tag_bytes), opened(packet_bytes);
    const std::span<std::uint8_t> in_place(sealed);
    ASSERT_TRUE(chacha20poly1305_seal(sealed, key, {}, aad, plaintext).ok());
    ASSERT_TRUE(chacha20poly1305_open(opened, key, {}, aad, sealed).ok());

    const std::uint64_t openssl_before = openssl_allocations;
    const std::uint64_t process_before = process_allocations;
    const std::size_t in_use_before = bytes_in_use();
    int failures = 0;
    for (std::uint64_t counter = 0; counter < 1000; counter++) {
        const ChaCha20Poly1305Nonce nonce = chacha20poly1305_counter_nonce(counter);
        failures += !chacha20poly1305_seal(sealed, key, nonce, aad, plaintext).ok();
        if (counter % 10 == 0) sealed[counter % packet_bytes] ^= 1;  // a forgery, refused
        const bool opens = chacha20poly1305_open(opened, key, nonce, aad, sealed).ok();
        failures += opens != (counter % 10 != 0);
        // In place, as the WireGuard device does it.
        failures += !chacha20poly1305_seal(in_place, key, nonce, aad,
                                           in_place.first(packet_bytes)).ok();
        failures += !chacha20poly1305_open(in_place.first(packet_bytes), key, nonce, aad,
                                           in_place).ok();
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(openssl_allocations - openssl_before, 0u) << "OpenSSL allocated per packet";
    EXPECT_EQ(process_allocations - process_before, 0u) << "malloc called per packet";
    EXPECT_EQ(bytes_in_use(), in_use_before) << "heap grew over 1,000 packets";
}

}  // namespace
}  // namespace pinhole::crypto
