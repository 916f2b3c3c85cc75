// The BLAKE2s compression function in portable C++ (RFC 7693 section 3.2), written from the
// RFC. Fast enough for WireGuard's handshake and cookie hashing on every target.
#include "core/crypto/backend/blake2s.h"

#include <bit>

#include "core/crypto/ct.h"
#include "core/util/endian.h"

namespace pinhole::crypto::backend {
namespace {

constexpr int blake2s_rounds = 10;

// Message word schedule SIGMA (RFC 7693 section 2.7).
constexpr std::uint8_t blake2s_sigma[blake2s_rounds][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

using WorkVector = std::array<std::uint32_t, 16>;

// The mixing function G (section 3.1) with BLAKE2s's rotations R1..R4 = 16, 12, 8, 7.
inline void mix(WorkVector& v, std::size_t a, std::size_t b, std::size_t c, std::size_t d,
                std::uint32_t x, std::uint32_t y) noexcept {
    v[a] = v[a] + v[b] + x;
    v[d] = std::rotr(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = std::rotr(v[b] ^ v[c], 12);
    v[a] = v[a] + v[b] + y;
    v[d] = std::rotr(v[d] ^ v[a], 8);
    v[c] = v[c] + v[d];
    v[b] = std::rotr(v[b] ^ v[c], 7);
}

inline void mix_round(WorkVector& v, const WorkVector& m, const std::uint8_t (&s)[16]) noexcept {
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

}  // namespace

void blake2s_compress(std::array<std::uint32_t, 8>& chain,
                      std::span<const std::uint8_t, blake2s_block_bytes> block,
                      std::uint64_t hashed_bytes, bool is_last_block) noexcept {
    WorkVector m;
    for (std::size_t i = 0; i < m.size(); i++) m[i] = load_le32(&block[4 * i]);
    WorkVector v;
    for (std::size_t i = 0; i < 8; i++) {
        v[i] = chain[i];
        v[i + 8] = blake2s_iv[i];
    }
    v[12] ^= static_cast<std::uint32_t>(hashed_bytes);
    v[13] ^= static_cast<std::uint32_t>(hashed_bytes >> 32);
    if (is_last_block) v[14] = ~v[14];
    for (int r = 0; r < blake2s_rounds; r++) mix_round(v, m, blake2s_sigma[r]);
    for (std::size_t i = 0; i < 8; i++) chain[i] ^= v[i] ^ v[i + 8];
    // The message words may be key bytes (keyed mode, HMAC): no copy stays on the stack.
    zeroize_object(m);
    zeroize_object(v);
}

}  // namespace pinhole::crypto::backend
