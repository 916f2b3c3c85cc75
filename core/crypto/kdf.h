// WireGuard's KDF (whitepaper section 5.4): HKDF with HMAC-BLAKE2s.
//   τ0 = HMAC(C, input), τ1 = HMAC(τ0, 0x1), τi = HMAC(τ0, τ(i-1) ‖ i)
// and KDFn returns τ1..τn.
// Outputs may alias the chaining key C (Noise writes the new chaining key over the old one).
#pragma once

#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"

namespace pinhole::crypto {

void kdf1(Blake2s256& tau1, const Blake2s256& chaining_key,
          std::span<const std::uint8_t> input) noexcept;
void kdf2(Blake2s256& tau1, Blake2s256& tau2, const Blake2s256& chaining_key,
          std::span<const std::uint8_t> input) noexcept;
void kdf3(Blake2s256& tau1, Blake2s256& tau2, Blake2s256& tau3, const Blake2s256& chaining_key,
          std::span<const std::uint8_t> input) noexcept;

}  // namespace pinhole::crypto
