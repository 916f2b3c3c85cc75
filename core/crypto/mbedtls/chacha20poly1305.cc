// ChaCha20-Poly1305 from mbedTLS (portable C, every target). The context lives on the stack and
// mbedtls_chachapoly_free wipes it (mbedtls_platform_zeroize) at the single exit.
#include "core/crypto/backend/chacha20poly1305.h"

#include <mbedtls/chachapoly.h>

namespace pinhole::crypto::backend {

Status chacha20poly1305_seal(std::span<std::uint8_t> ciphertext,
                             std::span<std::uint8_t, chacha20poly1305_tag_bytes> tag,
                             const ChaCha20Poly1305Key& key, const ChaCha20Poly1305Nonce& nonce,
                             std::span<const std::uint8_t> aad,
                             std::span<const std::uint8_t> plaintext) noexcept {
    mbedtls_chachapoly_context context;
    mbedtls_chachapoly_init(&context);
    Status status;
    if (mbedtls_chachapoly_setkey(&context, key.data()) != 0 ||
        mbedtls_chachapoly_encrypt_and_tag(&context, plaintext.size(), nonce.data(), aad.data(),
                                           aad.size(), plaintext.data(), ciphertext.data(),
                                           tag.data()) != 0) {
        status = Errc::invalid_argument;
    }
    mbedtls_chachapoly_free(&context);
    return status;
}

Status chacha20poly1305_open(
    std::span<std::uint8_t> plaintext, const ChaCha20Poly1305Key& key,
    const ChaCha20Poly1305Nonce& nonce, std::span<const std::uint8_t> aad,
    std::span<const std::uint8_t> ciphertext,
    std::span<const std::uint8_t, chacha20poly1305_tag_bytes> tag) noexcept {
    mbedtls_chachapoly_context context;
    mbedtls_chachapoly_init(&context);
    Status status;
    if (mbedtls_chachapoly_setkey(&context, key.data()) != 0) {
        status = Errc::invalid_argument;
    } else {
        // mbedTLS compares the tag in constant time and wipes the output when it differs.
        const int opened = mbedtls_chachapoly_auth_decrypt(
            &context, ciphertext.size(), nonce.data(), aad.data(), aad.size(), tag.data(),
            ciphertext.data(), plaintext.data());
        if (opened == MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED) {
            status = Errc::authentication;
        } else if (opened != 0) {
            status = Errc::invalid_argument;
        }
    }
    mbedtls_chachapoly_free(&context);
    return status;
}

}  // namespace pinhole::crypto::backend
