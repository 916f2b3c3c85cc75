// ChaCha20-Poly1305 AEAD (RFC 8439): WireGuard's transport and handshake cipher. The AEAD
// itself comes from the backend chosen at configure time (PINHOLE_CRYPTO_CHACHA20POLY1305, see
// README.md); the length checks and the wipe on failure live here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/result.h"

namespace pinhole::crypto {

inline constexpr std::size_t chacha20poly1305_key_bytes = 32;
inline constexpr std::size_t chacha20poly1305_nonce_bytes = 12;
inline constexpr std::size_t chacha20poly1305_tag_bytes = 16;
using ChaCha20Poly1305Key = std::array<std::uint8_t, chacha20poly1305_key_bytes>;
using ChaCha20Poly1305Nonce = std::array<std::uint8_t, chacha20poly1305_nonce_bytes>;

// sealed = ciphertext ‖ tag; sealed.size() must be plaintext.size() + 16 (else
// Errc::invalid_argument). `sealed` and `plaintext` may start at the same address (in place)
// but must not overlap otherwise.
[[nodiscard]] Status chacha20poly1305_seal(std::span<std::uint8_t> sealed,
                                           const ChaCha20Poly1305Key& key,
                                           const ChaCha20Poly1305Nonce& nonce,
                                           std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> plaintext) noexcept;

// Verifies and decrypts sealed = ciphertext ‖ tag into plaintext (sealed.size() - 16 bytes,
// else Errc::invalid_argument). Errc::authentication when the tag does not verify or `sealed`
// is shorter than a tag; `plaintext` is then all zeros. In place as for seal.
[[nodiscard]] Status chacha20poly1305_open(std::span<std::uint8_t> plaintext,
                                           const ChaCha20Poly1305Key& key,
                                           const ChaCha20Poly1305Nonce& nonce,
                                           std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> sealed) noexcept;

// WireGuard's nonce for a message counter: 32 zero bits ‖ the counter, little-endian.
[[nodiscard]] ChaCha20Poly1305Nonce chacha20poly1305_counter_nonce(std::uint64_t counter) noexcept;

}  // namespace pinhole::crypto
