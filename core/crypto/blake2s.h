// BLAKE2s (RFC 7693): WireGuard's HASH (256-bit), its MAC (keyed, 128-bit) and the base of
// HMAC-BLAKE2s. The compression function comes from the backend chosen at configure time
// (PINHOLE_CRYPTO_BLAKE2S, see README.md); padding, counters and keying live here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/result.h"

namespace pinhole::crypto {

inline constexpr std::size_t blake2s_block_bytes = 64;
inline constexpr std::size_t blake2s_max_digest_bytes = 32;
inline constexpr std::size_t blake2s_max_key_bytes = 32;
inline constexpr std::size_t blake2s_256_bytes = 32;  // WireGuard's HASH
inline constexpr std::size_t blake2s_128_bytes = 16;  // WireGuard's MAC (mac1, mac2, cookie)
using Blake2s256 = std::array<std::uint8_t, blake2s_256_bytes>;
using Blake2s128 = std::array<std::uint8_t, blake2s_128_bytes>;

// Incremental hashing: init, update any number of times, final. final and the destructor
// wipe the state (it holds the key in keyed mode).
class Blake2s {
public:
    Blake2s() noexcept = default;
    Blake2s(const Blake2s&) = delete;
    Blake2s& operator=(const Blake2s&) = delete;
    ~Blake2s() { wipe(); }

    // Errc::invalid_argument unless 1 <= digest_bytes <= 32 and key.size() <= 32.
    [[nodiscard]] Status init(std::size_t digest_bytes,
                              std::span<const std::uint8_t> key = {}) noexcept;
    void update(std::span<const std::uint8_t> data) noexcept;
    // Errc::invalid_argument unless digest.size() is the length given to init. Ends the hash
    // either way: init again to reuse the object.
    [[nodiscard]] Status final(std::span<std::uint8_t> digest) noexcept;

private:
    void wipe() noexcept;

    std::array<std::uint32_t, 8> chain_{};
    std::array<std::uint8_t, blake2s_block_bytes> block_{};
    std::uint64_t hashed_bytes_ = 0;  // the counter t: bytes compressed so far
    std::size_t buffered_bytes_ = 0;  // bytes waiting in block_
    std::size_t digest_bytes_ = 0;    // 0: not initialised
};

// One-shot: digest.size() is the output length (1..32); key is empty or up to 32 bytes.
[[nodiscard]] Status blake2s(std::span<std::uint8_t> digest, std::span<const std::uint8_t> data,
                             std::span<const std::uint8_t> key = {}) noexcept;

}  // namespace pinhole::crypto
