// HChaCha20 (draft-irtf-cfrg-xchacha-03 section 2.2): the ChaCha20 block function's 20 rounds
// over key and a 16-byte nonce, returning the state's first and last rows without the final
// addition. Written from the draft and RFC 8439 section 2.1-2.3.
#include <bit>

#include "core/crypto/ct.h"
#include "core/crypto/xchacha20poly1305.h"
#include "core/util/endian.h"

namespace pinhole::crypto {
namespace {

constexpr int chacha20_double_rounds = 10;
// "expand 32-byte k" as four little-endian words (RFC 8439 section 2.3).
constexpr std::array<std::uint32_t, 4> chacha20_constants = {0x61707865, 0x3320646e, 0x79622d32,
                                                             0x6b206574};

using ChaChaState = std::array<std::uint32_t, 16>;

inline void quarter_round(ChaChaState& x, std::size_t a, std::size_t b, std::size_t c,
                          std::size_t d) noexcept {
    x[a] += x[b];
    x[d] = std::rotl(x[d] ^ x[a], 16);
    x[c] += x[d];
    x[b] = std::rotl(x[b] ^ x[c], 12);
    x[a] += x[b];
    x[d] = std::rotl(x[d] ^ x[a], 8);
    x[c] += x[d];
    x[b] = std::rotl(x[b] ^ x[c], 7);
}

}  // namespace

void hchacha20(ChaCha20Poly1305Key& subkey, const ChaCha20Poly1305Key& key,
               const HChaCha20Nonce& nonce) noexcept {
    ChaChaState x;
    for (std::size_t i = 0; i < 4; i++) x[i] = chacha20_constants[i];
    for (std::size_t i = 0; i < 8; i++) x[4 + i] = load_le32(&key[4 * i]);
    for (std::size_t i = 0; i < 4; i++) x[12 + i] = load_le32(&nonce[4 * i]);
    for (int round = 0; round < chacha20_double_rounds; round++) {
        quarter_round(x, 0, 4, 8, 12);  // columns
        quarter_round(x, 1, 5, 9, 13);
        quarter_round(x, 2, 6, 10, 14);
        quarter_round(x, 3, 7, 11, 15);
        quarter_round(x, 0, 5, 10, 15);  // diagonals
        quarter_round(x, 1, 6, 11, 12);
        quarter_round(x, 2, 7, 8, 13);
        quarter_round(x, 3, 4, 9, 14);
    }
    for (std::size_t i = 0; i < 4; i++) {
        store_le32(&subkey[4 * i], x[i]);
        store_le32(&subkey[16 + 4 * i], x[12 + i]);
    }
    zeroize_object(x);
}

}  // namespace pinhole::crypto
