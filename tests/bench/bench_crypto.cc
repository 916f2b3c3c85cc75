// Throughput of the crypto seam next to libsodium, libb2 and OpenSSL, measured in one process
// on one core: ChaCha20-Poly1305 seal at WireGuard's 1420-byte MTU and at 16 KiB, X25519
// shared secrets, BLAKE2s-256. Each library is first checked to agree with the seam, so the
// figures compare the same work. Then the AEAD per packet (1420 and 64 bytes, seal and open)
// through the seam's selected backend next to mbedTLS called directly, the portable fallback.
// Run by `scripts/bench crypto`.
#include <blake2.h>
#include <mbedtls/chachapoly.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "core/crypto/blake2s.h"
#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/x25519.h"

namespace {

using namespace pinhole::crypto;

constexpr int rounds = 7;
constexpr double seconds_per_run = 0.1;

// Calls per second of `operation` in one run: doubling batches until the time is spent.
double calls_per_second(const std::function<void()>& operation) {
    using Clock = std::chrono::steady_clock;
    std::uint64_t calls = 0;
    std::uint64_t batch = 1;
    const Clock::time_point start = Clock::now();
    double elapsed_seconds = 0;
    while (elapsed_seconds < seconds_per_run) {
        for (std::uint64_t i = 0; i < batch; i++) operation();
        calls += batch;
        elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (elapsed_seconds < seconds_per_run / 8) batch *= 2;
    }
    return static_cast<double>(calls) / elapsed_seconds;
}

// The best of several runs of each operation, the operations taking turns: load from other
// processes on a shared machine then slows every library alike and rarely the best run.
std::vector<double> best_calls_per_second(const std::vector<std::function<void()>>& operations) {
    std::vector<double> best(operations.size(), 0.0);
    for (int round = 0; round < rounds; round++) {
        for (std::size_t i = 0; i < operations.size(); i++) {
            best[i] = std::max(best[i], calls_per_second(operations[i]));
        }
    }
    return best;
}

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "bench_crypto: %s\n", what);
        std::exit(1);
    }
}

// One line: the seam's figure, then each other library's with the ratio seam/other.
void print_row(const char* label, const char* unit, const std::vector<const char*>& libraries,
               const std::vector<std::function<void()>>& operations, double units_per_call) {
    const std::vector<double> rates = best_calls_per_second(operations);
    const double ours = rates[0] * units_per_call;
    std::printf("%-32s %9.0f %-5s", label, ours, unit);
    for (std::size_t i = 1; i < rates.size(); i++) {
        const double theirs = rates[i] * units_per_call;
        std::printf("   %-9s %9.0f (%.2fx)", libraries[i - 1], theirs, ours / theirs);
    }
    std::printf("\n");
}

void bench_chacha20poly1305(std::size_t message_bytes, const char* label) {
    ChaCha20Poly1305Key key;
    ChaCha20Poly1305Nonce nonce = chacha20poly1305_counter_nonce(1);
    randombytes_buf(key.data(), key.size());
    std::vector<std::uint8_t> plaintext(message_bytes), ours(message_bytes + 16),
        sodium(message_bytes + 16), openssl(message_bytes + 16);
    randombytes_buf(plaintext.data(), plaintext.size());

    auto seal_ours = [&] {
        require(chacha20poly1305_seal(ours, key, nonce, {}, plaintext).ok(), "seal failed");
    };
    auto seal_sodium = [&] {
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            sodium.data(), sodium.data() + message_bytes, nullptr, plaintext.data(), message_bytes,
            nullptr, 0, nullptr, nonce.data(), key.data());
    };
    EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
    require(EVP_EncryptInit_ex(context, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) == 1,
            "OpenSSL ChaCha20-Poly1305 unavailable");
    auto seal_openssl = [&] {
        int written = 0, final_written = 0;
        EVP_EncryptInit_ex(context, nullptr, nullptr, nullptr, nonce.data());
        EVP_EncryptUpdate(context, openssl.data(), &written, plaintext.data(),
                          static_cast<int>(message_bytes));
        EVP_EncryptFinal_ex(context, openssl.data() + written, &final_written);
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, openssl.data() + message_bytes);
    };
    seal_ours();
    seal_sodium();
    seal_openssl();
    require(ours == sodium && ours == openssl, "ChaCha20-Poly1305 outputs differ");

    print_row(label, "MB/s", {"libsodium", "OpenSSL"}, {seal_ours, seal_sodium, seal_openssl},
              static_cast<double>(message_bytes) / 1e6);
    EVP_CIPHER_CTX_free(context);
}

void bench_x25519() {
    X25519Key private_key, peer_private, peer_public, ours, sodium, openssl;
    randombytes_buf(private_key.data(), private_key.size());
    randombytes_buf(peer_private.data(), peer_private.size());
    require(x25519_public_key(peer_public, peer_private).ok(), "public key failed");

    auto shared_ours = [&] {
        require(x25519(ours, private_key, peer_public).ok(), "X25519 failed");
    };
    auto shared_sodium = [&] {
        require(crypto_scalarmult(sodium.data(), private_key.data(), peer_public.data()) == 0,
                "libsodium X25519 failed");
    };
    EVP_PKEY* own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), 32);
    EVP_PKEY* peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(), 32);
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new(own, nullptr);
    require(context != nullptr && EVP_PKEY_derive_init(context) == 1 &&
                EVP_PKEY_derive_set_peer(context, peer) == 1,
            "OpenSSL X25519 unavailable");
    auto shared_openssl = [&] {
        std::size_t length = openssl.size();
        EVP_PKEY_derive(context, openssl.data(), &length);
    };
    shared_ours();
    shared_sodium();
    shared_openssl();
    require(ours == sodium && ours == openssl, "X25519 outputs differ");

    print_row("X25519 shared secret", "ops/s", {"libsodium", "OpenSSL"},
              {shared_ours, shared_sodium, shared_openssl}, 1.0);
    EVP_PKEY_CTX_free(context);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(own);
}

void bench_blake2s(std::size_t message_bytes, const char* label) {
    std::vector<std::uint8_t> message(message_bytes);
    randombytes_buf(message.data(), message.size());
    Blake2s256 ours, libb2, openssl;

    auto hash_ours = [&] { require(blake2s(ours, message).ok(), "BLAKE2s failed"); };
    auto hash_libb2 = [&] {
        ::blake2s(libb2.data(), message.data(), nullptr, libb2.size(), message.size(), 0);
    };
    EVP_MD* md = EVP_MD_fetch(nullptr, "BLAKE2S-256", nullptr);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    require(md != nullptr && context != nullptr, "OpenSSL BLAKE2s-256 unavailable");
    auto hash_openssl = [&] {
        unsigned int length = 0;
        EVP_DigestInit_ex(context, md, nullptr);
        EVP_DigestUpdate(context, message.data(), message.size());
        EVP_DigestFinal_ex(context, openssl.data(), &length);
    };
    hash_ours();
    hash_libb2();
    hash_openssl();
    require(ours == libb2 && ours == openssl, "BLAKE2s outputs differ");

    print_row(label, "MB/s", {"libb2", "OpenSSL"}, {hash_ours, hash_libb2, hash_openssl},
              static_cast<double>(message_bytes) / 1e6);
    EVP_MD_CTX_free(context);
    EVP_MD_free(md);
}

// mbedTLS's ChaCha20-Poly1305 as its backend calls it: a context per packet, keyed and freed.
bool mbedtls_chachapoly_once(bool seal, const ChaCha20Poly1305Key& key,
                             const ChaCha20Poly1305Nonce& nonce, const std::uint8_t* in,
                             std::size_t bytes, std::uint8_t* out, std::uint8_t* tag) {
    mbedtls_chachapoly_context context;
    mbedtls_chachapoly_init(&context);
    int result = mbedtls_chachapoly_setkey(&context, key.data());
    if (result == 0 && seal) {
        result = mbedtls_chachapoly_encrypt_and_tag(&context, bytes, nonce.data(), nullptr, 0, in,
                                                    out, tag);
    } else if (result == 0) {
        result = mbedtls_chachapoly_auth_decrypt(&context, bytes, nonce.data(), nullptr, 0, tag,
                                                 in, out);
    }
    mbedtls_chachapoly_free(&context);
    return result == 0;
}

// One line per direction: ns per packet and Gbit/s through the seam and through mbedTLS, and
// how many times faster the seam's backend is.
void print_packet_row(const char* what, std::size_t packet_bytes,
                      const std::vector<std::function<void()>>& seam_then_mbedtls) {
    const std::vector<double> rates = best_calls_per_second(seam_then_mbedtls);
    const auto gbits = [&](double rate) { return rate * packet_bytes * 8 / 1e9; };
    std::printf("%-5s %4zu B %10.0f ns %6.2f Gbit/s %10.0f ns %6.2f Gbit/s %8.2fx\n", what,
                packet_bytes, 1e9 / rates[0], gbits(rates[0]), 1e9 / rates[1], gbits(rates[1]),
                rates[0] / rates[1]);
}

void bench_aead_per_packet(std::size_t packet_bytes) {
    ChaCha20Poly1305Key key;
    const ChaCha20Poly1305Nonce nonce = chacha20poly1305_counter_nonce(7);
    randombytes_buf(key.data(), key.size());
    std::vector<std::uint8_t> plaintext(packet_bytes), sealed(packet_bytes + 16),
        theirs(packet_bytes + 16), opened(packet_bytes);
    randombytes_buf(plaintext.data(), plaintext.size());

    auto seal_seam = [&] {
        require(chacha20poly1305_seal(sealed, key, nonce, {}, plaintext).ok(), "seal failed");
    };
    auto seal_mbedtls = [&] {
        require(mbedtls_chachapoly_once(true, key, nonce, plaintext.data(), packet_bytes,
                                        theirs.data(), theirs.data() + packet_bytes),
                "mbedTLS seal failed");
    };
    auto open_seam = [&] {
        require(chacha20poly1305_open(opened, key, nonce, {}, sealed).ok(), "open failed");
    };
    auto open_mbedtls = [&] {
        require(mbedtls_chachapoly_once(false, key, nonce, theirs.data(), packet_bytes,
                                        opened.data(), theirs.data() + packet_bytes),
                "mbedTLS open failed");
    };
    seal_seam();
    seal_mbedtls();
    require(sealed == theirs, "the seam and mbedTLS seal differently");
    print_packet_row("seal", packet_bytes, {seal_seam, seal_mbedtls});
    print_packet_row("open", packet_bytes, {open_seam, open_mbedtls});
}

}  // namespace

int main() {
    require(sodium_init() >= 0, "libsodium failed to initialise");
    std::printf("pinhole crypto seam (%s build; %s) vs libsodium %s, libb2, %s\n",
                PINHOLE_BENCH_BUILD_TYPE, PINHOLE_BENCH_BACKENDS, sodium_version_string(),
                OpenSSL_version(OPENSSL_VERSION));
    std::printf(
        "one core; best of %d runs of %.2f s each, libraries taking turns; "
        "(x) = pinhole / other\n\n",
        rounds, seconds_per_run);
    std::printf("%-32s %15s\n", "", "pinhole");
    bench_chacha20poly1305(1420, "ChaCha20-Poly1305 seal 1420 B");
    bench_chacha20poly1305(16384, "ChaCha20-Poly1305 seal 16 KiB");
    bench_x25519();
    bench_blake2s(1420, "BLAKE2s-256 1420 B");
    bench_blake2s(16384, "BLAKE2s-256 16 KiB");

    std::printf(
        "\nChaCha20-Poly1305 per packet: the seam (its chacha20poly1305 backend, above) vs "
        "mbedTLS called directly\n");
    std::printf("%-12s %28s %28s %9s\n", "", "seam", "mbedTLS", "seam/mbedTLS");
    for (const std::size_t packet_bytes : {std::size_t{1420}, std::size_t{64}}) {
        bench_aead_per_packet(packet_bytes);
    }
    return 0;
}
