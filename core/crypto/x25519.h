// X25519 (RFC 7748): WireGuard's Diffie-Hellman. The scalar multiplication comes from the
// backend chosen at configure time (PINHOLE_CRYPTO_X25519, see README.md); clamping, masking
// and the all-zero check live here, so every backend gets the same policy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/util/result.h"
#include "port/random.h"

namespace pinhole::crypto {

inline constexpr std::size_t x25519_key_bytes = 32;
using X25519Key = std::array<std::uint8_t, x25519_key_bytes>;

// shared = X25519(private_key, public_key). Errc::weak_key when the result is all zeros (the
// peer sent a low-order point): the caller must drop the handshake. `shared` may alias either
// input.
[[nodiscard]] Status x25519(X25519Key& shared, const X25519Key& private_key,
                            const X25519Key& public_key) noexcept;

// public_key = X25519(private_key, 9). Errc::weak_key only for a scalar that is a multiple of
// the group order (probability 2^-252 for a random key).
[[nodiscard]] Status x25519_public_key(X25519Key& public_key,
                                       const X25519Key& private_key) noexcept;

// Clears bits 0-2 and 255, sets bit 254 (RFC 7748 section 5), as `wg genkey` stores keys.
void x25519_clamp(X25519Key& private_key) noexcept;

// A new clamped private key from the port's random source; on failure the key is zeroed.
[[nodiscard]] Status x25519_generate(X25519Key& private_key, port::Random& random) noexcept;

}  // namespace pinhole::crypto
