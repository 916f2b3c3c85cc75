// What a ChaCha20-Poly1305 backend provides (core/crypto/<backend>/chacha20poly1305.cc). The
// front end (core/crypto/chacha20poly1305.cc) has checked the lengths: ciphertext and plaintext
// have the same size and are either the same memory or disjoint. A backend wipes every copy of
// the key and key schedule it made before returning, and compares tags in constant time.
#pragma once

#include <cstdint>
#include <span>

#include "core/crypto/chacha20poly1305.h"

namespace pinhole::crypto::backend {

// Errc::invalid_argument if the backend refuses its input (it should not).
[[nodiscard]] Status chacha20poly1305_seal(std::span<std::uint8_t> ciphertext,
                                           std::span<std::uint8_t, chacha20poly1305_tag_bytes> tag,
                                           const ChaCha20Poly1305Key& key,
                                           const ChaCha20Poly1305Nonce& nonce,
                                           std::span<const std::uint8_t> aad,
                                           std::span<const std::uint8_t> plaintext) noexcept;

// Errc::authentication on a bad tag; the front end wipes the plaintext then.
[[nodiscard]] Status chacha20poly1305_open(
    std::span<std::uint8_t> plaintext, const ChaCha20Poly1305Key& key,
    const ChaCha20Poly1305Nonce& nonce, std::span<const std::uint8_t> aad,
    std::span<const std::uint8_t> ciphertext,
    std::span<const std::uint8_t, chacha20poly1305_tag_bytes> tag) noexcept;

}  // namespace pinhole::crypto::backend
