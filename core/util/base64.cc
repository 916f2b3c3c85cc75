#include "core/util/base64.h"

namespace pinhole {
namespace {

// 0xFF when a < b, else 0, for a, b < 256: the borrow of the subtraction is the mask, so the
// comparison compiles without a branch on the (possibly secret) operands.
constexpr std::uint32_t mask_less(std::uint32_t a, std::uint32_t b) noexcept {
    return ((a - b) >> 8) & 0xFFu;
}

constexpr std::uint32_t mask_in_range(std::uint32_t c, std::uint32_t low,
                                      std::uint32_t high) noexcept {
    return ~(mask_less(c, low) | mask_less(high, c)) & 0xFFu;
}

// 0..63 -> 'A'..'Z', 'a'..'z', '0'..'9', '+', '/': each range past the first shifts the
// character by a fixed offset, added under a mask.
constexpr char encode_sextet(std::uint32_t sextet) noexcept {
    std::uint32_t c = sextet + 'A';
    c += mask_less(25, sextet) & 6u;   // 26.. -> 'a'..
    c -= mask_less(51, sextet) & 75u;  // 52.. -> '0'..
    c -= mask_less(61, sextet) & 15u;  // 62   -> '+'
    c += mask_less(62, sextet) & 3u;   // 63   -> '/'
    return static_cast<char>(c & 0xFFu);
}

// The sextet a character stands for in bits 0..5, and bit 8 set if it is not in the alphabet.
constexpr std::uint32_t decode_char(char text_char) noexcept {
    const std::uint32_t c = static_cast<unsigned char>(text_char);
    const std::uint32_t upper = mask_in_range(c, 'A', 'Z');
    const std::uint32_t lower = mask_in_range(c, 'a', 'z');
    const std::uint32_t digit = mask_in_range(c, '0', '9');
    const std::uint32_t plus = mask_in_range(c, '+', '+');
    const std::uint32_t slash = mask_in_range(c, '/', '/');
    const std::uint32_t value = (upper & (c - 'A')) | (lower & (c - 'a' + 26)) |
                                (digit & (c - '0' + 52)) | (plus & 62u) | (slash & 63u);
    const std::uint32_t valid = upper | lower | digit | plus | slash;
    return (value & 0x3Fu) | ((~valid & 1u) << 8);
}

static_assert(encode_sextet(0) == 'A' && encode_sextet(25) == 'Z' && encode_sextet(26) == 'a' &&
              encode_sextet(51) == 'z' && encode_sextet(52) == '0' && encode_sextet(61) == '9' &&
              encode_sextet(62) == '+' && encode_sextet(63) == '/');
static_assert(decode_char('A') == 0 && decode_char('z') == 51 && decode_char('0') == 52 &&
              decode_char('+') == 62 && decode_char('/') == 63 && decode_char('=') == 0x100 &&
              decode_char('@') == 0x100 && decode_char('\x80') == 0x100);

// 1 if `bits` is non-zero (bits < 2^24), without a branch.
constexpr std::uint32_t nonzero_bit(std::uint32_t bits) noexcept {
    return ((bits + 0xFFFFFFu) >> 24) & 1u;
}

}  // namespace

Result<std::size_t> base64_encode(std::span<const std::uint8_t> bytes,
                                  std::span<char> out) noexcept {
    const std::size_t length = base64_encoded_length(bytes.size());
    if (out.size() <= length) return Errc::no_space;
    std::size_t written = 0;
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t remaining = bytes.size() - i;
        std::uint32_t bits = static_cast<std::uint32_t>(bytes[i]) << 16;
        if (remaining > 1) bits |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
        if (remaining > 2) bits |= bytes[i + 2];
        out[written++] = encode_sextet((bits >> 18) & 0x3Fu);
        out[written++] = encode_sextet((bits >> 12) & 0x3Fu);
        out[written++] = remaining > 1 ? encode_sextet((bits >> 6) & 0x3Fu) : '=';
        out[written++] = remaining > 2 ? encode_sextet(bits & 0x3Fu) : '=';
    }
    out[written] = '\0';
    return written;
}

Result<std::size_t> base64_decode(std::string_view text, std::span<std::uint8_t> out) noexcept {
    if (text.size() % 4 != 0) return Errc::malformed;
    std::size_t padding = 0;
    if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    const std::size_t decoded_length = text.size() / 4 * 3 - padding;
    if (decoded_length > out.size()) return Errc::no_space;

    std::uint32_t invalid = 0;
    std::size_t written = 0;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const std::size_t chars = i + 4 == text.size() ? 4 - padding : 4;
        std::uint32_t bits = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            std::uint32_t sextet = 0;
            if (k < chars) {
                const std::uint32_t decoded = decode_char(text[i + k]);
                invalid |= decoded >> 8;
                sextet = decoded & 0x3Fu;
            }
            bits = (bits << 6) | sextet;
        }
        const std::size_t byte_count = chars - 1;
        for (std::size_t k = 0; k < byte_count; ++k) {
            out[written++] = static_cast<std::uint8_t>(bits >> (16 - 8 * k));
        }
        // Bits of the last character that no byte uses must be zero: one encoding per input.
        invalid |= nonzero_bit(bits & (0xFFFFFFu >> (8 * byte_count)));
    }
    if (invalid != 0) {
        for (std::size_t k = 0; k < written; ++k) out[k] = 0;
        return Errc::malformed;
    }
    return written;
}

}  // namespace pinhole
