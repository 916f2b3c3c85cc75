// Standard base64 with padding (RFC 4648 §4), the form WireGuard uses for keys (32 bytes ->
// 44 characters). Keys pass through here, so both directions map characters with arithmetic
// rather than table lookups indexed by secret bytes, and decoding does not stop early at a bad
// character. Only the length and the padding (public) steer branches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/util/result.h"

namespace pinhole {

// Characters needed for `byte_count` bytes, without the terminating NUL.
[[nodiscard]] constexpr std::size_t base64_encoded_length(std::size_t byte_count) noexcept {
    return (byte_count + 2) / 3 * 4;
}

// Writes the text and a terminating NUL; returns the length without the NUL. Errc::no_space
// if `out` cannot hold base64_encoded_length(bytes.size()) + 1 characters.
[[nodiscard]] Result<std::size_t> base64_encode(std::span<const std::uint8_t> bytes,
                                                std::span<char> out) noexcept;

// Decodes padded base64 (no whitespace, no URL alphabet); returns the number of bytes written.
// Errc::malformed for a length that is not a multiple of 4, a character outside the alphabet,
// misplaced padding, or non-zero bits left over in the last character (a non-canonical
// encoding); Errc::no_space if `out` is too small. On error nothing partial is left in `out`.
[[nodiscard]] Result<std::size_t> base64_decode(std::string_view text,
                                                std::span<std::uint8_t> out) noexcept;

}  // namespace pinhole
