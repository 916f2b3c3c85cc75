#include "core/util/format.h"

#include <algorithm>

#include "core/net/address.h"

namespace pinhole {
namespace {

// Writes into a span, remembering whether anything did not fit.
class Writer {
public:
    explicit Writer(std::span<char> out) noexcept : out_(out) {}

    void put(std::string_view text) noexcept {
        const std::size_t count = std::min(text.size(), out_.size() - length_);
        std::copy_n(text.data(), count, out_.data() + length_);
        length_ += count;
        if (count < text.size()) overflowed_ = true;
    }
    void put(char c) noexcept { put(std::string_view(&c, 1)); }
    void put_unsigned(std::uint64_t value) noexcept {
        std::array<char, 20> digits{};  // 2^64 - 1 has 20 digits
        std::size_t start = digits.size();
        do {
            digits[--start] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        put(std::string_view(digits.data() + start, digits.size() - start));
    }
    void put_signed(std::int64_t value) noexcept {
        if (value < 0) put('-');
        // Negating in unsigned arithmetic also covers INT64_MIN.
        const auto magnitude = static_cast<std::uint64_t>(value);
        put_unsigned(value < 0 ? 0 - magnitude : magnitude);
    }
    void put_hex(std::span<const std::uint8_t> bytes) noexcept {
        constexpr std::string_view digits = "0123456789abcdef";
        for (const std::uint8_t byte : bytes) {
            if (length_ == out_.size()) {  // no need to walk the rest of a long buffer
                overflowed_ = true;
                return;
            }
            put(digits[byte >> 4]);
            put(digits[byte & 0xF]);
        }
    }

    [[nodiscard]] std::size_t length() const noexcept { return length_; }
    [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }

private:
    std::span<char> out_;
    std::size_t length_ = 0;
    bool overflowed_ = false;
};

void put_arg(Writer& writer, const FormatArg& arg) noexcept {
    switch (arg.kind()) {
        case FormatArg::Kind::signed_integer: return writer.put_signed(arg.signed_value());
        case FormatArg::Kind::unsigned_integer: return writer.put_unsigned(arg.unsigned_value());
        case FormatArg::Kind::boolean:
            return writer.put(arg.unsigned_value() != 0 ? "true" : "false");
        case FormatArg::Kind::character: return writer.put(static_cast<char>(arg.unsigned_value()));
        case FormatArg::Kind::text: return writer.put(arg.text());
        case FormatArg::Kind::ip_address: {
            std::array<char, net::address_text_bytes> text{};
            const auto length = net::format_address(arg.address(), text);
            return writer.put(length.ok() ? std::string_view(text.data(), length.value())
                                          : std::string_view("(no address)"));
        }
        case FormatArg::Kind::endpoint: {
            std::array<char, net::endpoint_text_bytes> text{};
            const auto length = net::format_endpoint(arg.endpoint(), text);
            return writer.put(length.ok() ? std::string_view(text.data(), length.value())
                                          : std::string_view("(no endpoint)"));
        }
        case FormatArg::Kind::hex: return writer.put_hex(arg.bytes());
        case FormatArg::Kind::error: return writer.put(describe(arg.error()));
    }
}

void format_into(Writer& writer, std::string_view format,
                 std::span<const FormatArg> args) noexcept {
    std::size_t next_arg = 0;
    for (std::size_t position = 0; position < format.size();) {
        const FormatPiece piece = next_format_piece(format, position);
        if (!piece.is_placeholder) {
            writer.put(piece.literal);
        } else if (next_arg < args.size()) {
            put_arg(writer, args[next_arg++]);
        } else {
            writer.put("{?}");
        }
    }
}

// Ends a cut text with "…" in its last bytes, backing up to the start of a UTF-8 character
// so none is left half-written (a character has at most three continuation bytes).
std::size_t mark_cut(std::span<char> out) noexcept {
    constexpr std::string_view ellipsis = "\xE2\x80\xA6";
    if (out.size() < ellipsis.size()) return out.size();
    std::size_t cut = out.size() - ellipsis.size();
    for (int step = 0; step < 3 && cut > 0; ++step) {
        if ((static_cast<unsigned char>(out[cut]) & 0xC0u) != 0x80u) break;
        --cut;
    }
    std::copy_n(ellipsis.data(), ellipsis.size(), out.data() + cut);
    return cut + ellipsis.size();
}

}  // namespace

std::size_t vformat_to(std::span<char> out, std::string_view format,
                       std::span<const FormatArg> args) noexcept {
    Writer writer(out);
    format_into(writer, format, args);
    return writer.overflowed() ? mark_cut(out) : writer.length();
}

Result<std::size_t> try_vformat_to(std::span<char> out, std::string_view format,
                                   std::span<const FormatArg> args) noexcept {
    Writer writer(out);
    format_into(writer, format, args);
    if (writer.overflowed()) return Errc::no_space;
    return writer.length();
}

}  // namespace pinhole
