#include "core/crypto/blake2s.h"

#include <algorithm>
#include <cstring>

#include "core/crypto/backend/blake2s.h"
#include "core/crypto/ct.h"
#include "core/util/assert.h"
#include "core/util/endian.h"

namespace pinhole::crypto {

Status Blake2s::init(std::size_t digest_bytes, std::span<const std::uint8_t> key) noexcept {
    if (digest_bytes == 0 || digest_bytes > blake2s_max_digest_bytes ||
        key.size() > blake2s_max_key_bytes) {
        return Errc::invalid_argument;
    }
    wipe();
    chain_ = backend::blake2s_iv;
    // Parameter block (RFC 7693 section 2.5): digest length, key length, fanout 1, depth 1.
    chain_[0] ^= 0x01010000u ^ static_cast<std::uint32_t>(key.size() << 8) ^
                 static_cast<std::uint32_t>(digest_bytes);
    digest_bytes_ = digest_bytes;
    if (!key.empty()) {
        // The key, zero-padded, is the first block (section 3.3).
        std::memcpy(block_.data(), key.data(), key.size());
        buffered_bytes_ = blake2s_block_bytes;
    }
    return Status();
}

void Blake2s::update(std::span<const std::uint8_t> data) noexcept {
    PINHOLE_ASSERT(digest_bytes_ != 0);
    const std::size_t fill_bytes = std::min(blake2s_block_bytes - buffered_bytes_, data.size());
    if (fill_bytes != 0) std::memcpy(block_.data() + buffered_bytes_, data.data(), fill_bytes);
    buffered_bytes_ += fill_bytes;
    data = data.subspan(fill_bytes);
    // The last block must be compressed with the final flag, so a full block is compressed
    // only once more data follows it, and the input's last 1..64 bytes stay buffered.
    if (data.empty()) return;
    hashed_bytes_ += blake2s_block_bytes;
    backend::blake2s_compress(chain_, block_, hashed_bytes_, false);
    while (data.size() > blake2s_block_bytes) {  // whole blocks straight from the input
        hashed_bytes_ += blake2s_block_bytes;
        backend::blake2s_compress(chain_, data.first<blake2s_block_bytes>(), hashed_bytes_, false);
        data = data.subspan(blake2s_block_bytes);
    }
    std::memcpy(block_.data(), data.data(), data.size());
    buffered_bytes_ = data.size();
}

Status Blake2s::final(std::span<std::uint8_t> digest) noexcept {
    PINHOLE_ASSERT(digest_bytes_ != 0);
    Status status;
    if (digest.size() != digest_bytes_) {
        status = Errc::invalid_argument;
    } else {
        std::fill(block_.begin() + static_cast<std::ptrdiff_t>(buffered_bytes_), block_.end(), 0);
        hashed_bytes_ += buffered_bytes_;
        backend::blake2s_compress(chain_, block_, hashed_bytes_, true);
        std::array<std::uint8_t, blake2s_max_digest_bytes> full;
        for (std::size_t i = 0; i < chain_.size(); i++) store_le32(&full[4 * i], chain_[i]);
        std::memcpy(digest.data(), full.data(), digest.size());
        zeroize_object(full);
    }
    wipe();
    return status;
}

void Blake2s::wipe() noexcept {
    zeroize_object(chain_);
    zeroize_object(block_);
    hashed_bytes_ = 0;
    buffered_bytes_ = 0;
    digest_bytes_ = 0;
}

Status blake2s(std::span<std::uint8_t> digest, std::span<const std::uint8_t> data,
               std::span<const std::uint8_t> key) noexcept {
    Blake2s hash;
    Status status = hash.init(digest.size(), key);
    if (status.ok()) {
        hash.update(data);
        status = hash.final(digest);
    }
    return status;
}

}  // namespace pinhole::crypto
