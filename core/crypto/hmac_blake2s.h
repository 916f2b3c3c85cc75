// HMAC (RFC 2104) over BLAKE2s-256 with its 64-byte block: WireGuard's HMAC (whitepaper
// section 5.4), the building block of its KDF (core/crypto/kdf.h).
#pragma once

#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"

namespace pinhole::crypto {

// out = HMAC-BLAKE2s(key, data). Keys longer than a block are hashed first, as RFC 2104 says.
// `out` may alias the key or the data.
void hmac_blake2s(Blake2s256& out, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> data) noexcept;

}  // namespace pinhole::crypto
