// HChaCha20 and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03): the AEAD with a 24-byte
// random nonce that WireGuard's cookie replies use. HChaCha20 is our own ChaCha20 core; the
// AEAD after it is the ChaCha20-Poly1305 backend (core/crypto/chacha20poly1305.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/chacha20poly1305.h"
#include "core/util/result.h"

namespace pinhole::crypto {

inline constexpr std::size_t hchacha20_nonce_bytes = 16;
inline constexpr std::size_t xchacha20poly1305_nonce_bytes = 24;
using HChaCha20Nonce = std::array<std::uint8_t, hchacha20_nonce_bytes>;
using XChaCha20Poly1305Nonce = std::array<std::uint8_t, xchacha20poly1305_nonce_bytes>;

// subkey = HChaCha20(key, nonce) (section 2.2). `subkey` may alias `key`.
void hchacha20(ChaCha20Poly1305Key& subkey, const ChaCha20Poly1305Key& key,
               const HChaCha20Nonce& nonce) noexcept;

// Same contracts as chacha20poly1305_seal/open, with a 24-byte nonce (section 2.3).
[[nodiscard]] Status xchacha20poly1305_seal(std::span<std::uint8_t> sealed,
                                            const ChaCha20Poly1305Key& key,
                                            const XChaCha20Poly1305Nonce& nonce,
                                            std::span<const std::uint8_t> aad,
                                            std::span<const std::uint8_t> plaintext) noexcept;
[[nodiscard]] Status xchacha20poly1305_open(std::span<std::uint8_t> plaintext,
                                            const ChaCha20Poly1305Key& key,
                                            const XChaCha20Poly1305Nonce& nonce,
                                            std::span<const std::uint8_t> aad,
                                            std::span<const std::uint8_t> sealed) noexcept;

}  // namespace pinhole::crypto
