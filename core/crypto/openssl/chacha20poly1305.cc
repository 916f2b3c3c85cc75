// ChaCha20-Poly1305 from OpenSSL's libcrypto (the Linux boards): OpenSSL picks its fastest code
// for the CPU at run time (AVX2/AVX-512 on x86-64, NEON on ARM). Each call takes this thread's
// ready context (contexts.h) and only sets key and nonce on it, so no packet allocates.
//
// The tag goes through a prepared OSSL_PARAM rather than EVP_CIPHER_CTX_ctrl, which builds one
// itself: the cheapest of the variants measured (README.md). OpenSSL checks the tag with
// CRYPTO_memcmp, in constant time.
#include "core/crypto/backend/chacha20poly1305.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <climits>

#include "core/crypto/openssl/contexts.h"

namespace pinhole::crypto::backend {
namespace {

using openssl::AeadDirection;

constexpr ChaCha20Poly1305Key no_key{};

// EVP counts bytes in an int.
bool fits_evp(std::span<const std::uint8_t> bytes) noexcept { return bytes.size() <= INT_MAX; }

bool start(EVP_CIPHER_CTX* context, const ChaCha20Poly1305Key& key,
           const ChaCha20Poly1305Nonce& nonce) noexcept {
    // A null cipher keeps the one fetched at start-up: no provider lookup, no allocation.
    return EVP_CipherInit_ex2(context, nullptr, key.data(), nonce.data(), -1, nullptr) == 1;
}

// AAD when `out` is null. Empty input is skipped: a stream cipher has nothing to do for it.
bool update(EVP_CIPHER_CTX* context, std::uint8_t* out,
            std::span<const std::uint8_t> in) noexcept {
    int written = 0;
    return in.empty() ||
           EVP_CipherUpdate(context, out, &written, in.data(), static_cast<int>(in.size())) == 1;
}

// Computes the tag or, when opening, checks it; writes no bytes (ChaCha20 has no padding).
bool finish(EVP_CIPHER_CTX* context, std::uint8_t* out_end) noexcept {
    int written = 0;
    return EVP_CipherFinal_ex(context, out_end, &written) == 1;
}

// The caller may erase its key right after this call (WireGuard drops session keys for forward
// secrecy), so the context's copy is overwritten before returning. OpenSSL wipes the Poly1305
// state when it finishes but may keep one keystream block of the last packet (its Poly1305
// one-time key, or its last partial block) until the next call: it reveals neither the key nor
// another packet, and a nonce is never used twice.
void forget_key(EVP_CIPHER_CTX* context) noexcept {
    (void)EVP_CipherInit_ex2(context, nullptr, no_key.data(), nullptr, -1, nullptr);
}

OSSL_PARAM tag_param(std::uint8_t* tag) noexcept {
    return OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
                                             chacha20poly1305_tag_bytes);
}

}  // namespace

Status chacha20poly1305_seal(std::span<std::uint8_t> ciphertext,
                             std::span<std::uint8_t, chacha20poly1305_tag_bytes> tag,
                             const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                             std::span<const std::uint8_t> aad,
                             std::span<const std::uint8_t> plaintext) noexcept {
    EVP_CIPHER_CTX* context = openssl::chacha20poly1305_context(AeadDirection::seal);
    OSSL_PARAM get_tag[] = {tag_param(tag.data()), OSSL_PARAM_construct_end()};
    Status status;
    if (context == nullptr) {
        status = Errc::unsupported;
    } else {
        if (!fits_evp(aad) || !fits_evp(plaintext) || !start(context, key, nonce) ||
            !update(context, nullptr, aad) || !update(context, ciphertext.data(), plaintext) ||
            !finish(context, ciphertext.data() + ciphertext.size()) ||
            EVP_CIPHER_CTX_get_params(context, get_tag) != 1) {
            status = Errc::invalid_argument;
        }
        forget_key(context);
    }
    return status;
}

Status chacha20poly1305_open(
    std::span<std::uint8_t> plaintext, const ChaCha20Poly1305Key& key,
    const ChaCha20Poly1305Nonce& nonce, std::span<const std::uint8_t> aad,
    std::span<const std::uint8_t> ciphertext,
    std::span<const std::uint8_t, chacha20poly1305_tag_bytes> tag) noexcept {
    EVP_CIPHER_CTX* context = openssl::chacha20poly1305_context(AeadDirection::open);
    // OpenSSL only reads the expected tag (OSSL_PARAM has no const form).
    OSSL_PARAM set_tag[] = {tag_param(const_cast<std::uint8_t*>(tag.data())),
                            OSSL_PARAM_construct_end()};
    Status status;
    if (context == nullptr) {
        status = Errc::unsupported;
    } else {
        if (!fits_evp(aad) || !fits_evp(ciphertext) || !start(context, key, nonce) ||
            EVP_CIPHER_CTX_set_params(context, set_tag) != 1 ||
            !update(context, nullptr, aad) || !update(context, plaintext.data(), ciphertext)) {
            status = Errc::invalid_argument;
        } else if (!finish(context, plaintext.data() + plaintext.size())) {
            status = Errc::authentication;  // the front end wipes the plaintext
        }
        forget_key(context);
    }
    return status;
}

}  // namespace pinhole::crypto::backend
