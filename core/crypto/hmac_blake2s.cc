#include "core/crypto/hmac_blake2s.h"

#include <array>
#include <cstring>

#include "core/crypto/ct.h"
#include "core/util/assert.h"

namespace pinhole::crypto {
namespace {

constexpr std::uint8_t hmac_inner_pad = 0x36;
constexpr std::uint8_t hmac_outer_pad = 0x5c;

using PadBlock = std::array<std::uint8_t, blake2s_block_bytes>;

// BLAKE2s-256 of pad ‖ data. Lengths here are constants, so a failure is our own bug.
void hash_padded(Blake2s256& out, const PadBlock& pad,
                 std::span<const std::uint8_t> data) noexcept {
    Blake2s hash;
    const Status started = hash.init(blake2s_256_bytes);
    PINHOLE_ASSERT(started.ok());
    hash.update(pad);
    hash.update(data);
    const Status finished = hash.final(out);
    PINHOLE_ASSERT(finished.ok());
}

}  // namespace

void hmac_blake2s(Blake2s256& out, std::span<const std::uint8_t> key,
                  std::span<const std::uint8_t> data) noexcept {
    PadBlock block_key{};  // the key, zero-padded to a block (hashed first when longer)
    if (key.size() > blake2s_block_bytes) {
        Blake2s256 hashed_key;
        const Status hashed = blake2s(hashed_key, key);
        PINHOLE_ASSERT(hashed.ok());
        std::memcpy(block_key.data(), hashed_key.data(), hashed_key.size());
        zeroize_object(hashed_key);
    } else if (!key.empty()) {
        std::memcpy(block_key.data(), key.data(), key.size());
    }
    PadBlock pad;
    for (std::size_t i = 0; i < pad.size(); i++) pad[i] = block_key[i] ^ hmac_inner_pad;
    Blake2s256 inner;
    hash_padded(inner, pad, data);
    for (std::size_t i = 0; i < pad.size(); i++) pad[i] = block_key[i] ^ hmac_outer_pad;
    Blake2s256 result;
    hash_padded(result, pad, inner);
    out = result;  // written last: `out` may be the key or the data
    zeroize_object(block_key);
    zeroize_object(pad);
    zeroize_object(inner);
    zeroize_object(result);
}

}  // namespace pinhole::crypto
