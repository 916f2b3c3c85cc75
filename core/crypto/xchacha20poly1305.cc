// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 section 2.3): HChaCha20 turns the key and the
// nonce's first 16 bytes into a subkey; ChaCha20-Poly1305 then runs with that subkey and the
// nonce 0x00000000 ‖ the last 8 bytes.
#include "core/crypto/xchacha20poly1305.h"

#include <algorithm>

#include "core/crypto/ct.h"

namespace pinhole::crypto {
namespace {

void derive(ChaCha20Poly1305Key& subkey, ChaCha20Poly1305Nonce& inner_nonce,
            const ChaCha20Poly1305Key& key, const XChaCha20Poly1305Nonce& nonce) noexcept {
    HChaCha20Nonce hchacha_nonce;
    std::copy_n(nonce.begin(), hchacha_nonce.size(), hchacha_nonce.begin());
    hchacha20(subkey, key, hchacha_nonce);
    inner_nonce.fill(0);
    std::copy(nonce.begin() + hchacha20_nonce_bytes, nonce.end(), inner_nonce.begin() + 4);
}

}  // namespace

Status xchacha20poly1305_seal(std::span<std::uint8_t> sealed, const ChaCha20Poly1305Key& key,
                              const XChaCha20Poly1305Nonce& nonce,
                              std::span<const std::uint8_t> aad,
                              std::span<const std::uint8_t> plaintext) noexcept {
    ChaCha20Poly1305Key subkey;
    ChaCha20Poly1305Nonce inner_nonce;
    derive(subkey, inner_nonce, key, nonce);
    const Status sealed_status = chacha20poly1305_seal(sealed, subkey, inner_nonce, aad, plaintext);
    zeroize_object(subkey);
    return sealed_status;
}

Status xchacha20poly1305_open(std::span<std::uint8_t> plaintext, const ChaCha20Poly1305Key& key,
                              const XChaCha20Poly1305Nonce& nonce,
                              std::span<const std::uint8_t> aad,
                              std::span<const std::uint8_t> sealed) noexcept {
    ChaCha20Poly1305Key subkey;
    ChaCha20Poly1305Nonce inner_nonce;
    derive(subkey, inner_nonce, key, nonce);
    const Status opened = chacha20poly1305_open(plaintext, subkey, inner_nonce, aad, sealed);
    zeroize_object(subkey);
    return opened;
}

}  // namespace pinhole::crypto
