// What a BLAKE2s backend provides (core/crypto/<backend>/blake2s.cc): the compression function
// F of RFC 7693 section 3.2. Vectorised versions (SSE, NEON) replace only this.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"

namespace pinhole::crypto::backend {

// The initialisation vector of RFC 7693 section 2.6 (SHA-256's), shared by front and backends.
inline constexpr std::array<std::uint32_t, 8> blake2s_iv = {
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

// chain = F(chain, block, t, f): hashed_bytes is the counter t including this block.
void blake2s_compress(std::array<std::uint32_t, 8>& chain,
                      std::span<const std::uint8_t, blake2s_block_bytes> block,
                      std::uint64_t hashed_bytes, bool is_last_block) noexcept;

}  // namespace pinhole::crypto::backend
