// Our own small text formatter: "{}" placeholders filled in order, "{{" and "}}" for literal
// braces. No printf (newlib's can reach malloc on bare metal), no heap, no locale. Arguments:
// signed and unsigned integers (decimal), bool, char, const char*, std::string_view,
// net::IpAddress, net::Endpoint, Errc (its description) and Hex{bytes} (lowercase hex).
// Anything else (floats, pointers, other enums) does not compile.
//
// Each call packs its arguments into an array of FormatArg and hands it to one non-template
// function, so a new call site costs a few instructions, not a new copy of the formatter.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "core/util/result.h"
#include "core/util/text.h"

namespace pinhole {

namespace net {
struct IpAddress;
struct Endpoint;
}  // namespace net

// Bytes to print as lowercase hex without separators: Hex{key}.
struct Hex {
    std::span<const std::uint8_t> bytes;
};

// One piece of a format string: literal text, or a placeholder.
struct FormatPiece {
    std::string_view literal;
    bool is_placeholder = false;
};

// The piece of `format` starting at `position`, which it advances by at least one.
[[nodiscard]] constexpr FormatPiece next_format_piece(std::string_view format,
                                                      std::size_t& position) noexcept {
    const std::string_view rest = substring(format, position);
    if (starts_with(rest, "{}")) {
        position += 2;
        return {{}, true};
    }
    if (starts_with(rest, "{{") || starts_with(rest, "}}")) {
        position += 2;
        return {substring(rest, 0, 1), false};
    }
    const std::size_t brace = rest.find_first_of("{}", 1);
    const std::size_t length = brace == std::string_view::npos ? rest.size() : brace;
    position += length;
    return {substring(rest, 0, length), false};
}

// How many "{}" a format string holds: the log macros compare it with their argument count
// at compile time.
[[nodiscard]] constexpr std::size_t format_placeholder_count(std::string_view format) noexcept {
    std::size_t count = 0;
    for (std::size_t position = 0; position < format.size();) {
        if (next_format_piece(format, position).is_placeholder) ++count;
    }
    return count;
}

// An argument with its type erased; it refers to the caller's object, so it lives only for
// the duration of the call.
class FormatArg {
public:
    enum class Kind : std::uint8_t {
        signed_integer,
        unsigned_integer,
        boolean,
        character,
        text,
        ip_address,
        endpoint,
        hex,
        error,
    };

    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char> && std::is_signed_v<T>)
    constexpr FormatArg(T value) noexcept  // NOLINT: implicit by design
        : kind_(Kind::signed_integer), signed_(value) {}
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char> && std::is_unsigned_v<T>)
    constexpr FormatArg(T value) noexcept  // NOLINT
        : kind_(Kind::unsigned_integer), unsigned_(value) {}
    // Exactly bool and char: no pointer or number slips in through a conversion.
    template <std::same_as<bool> T>
    constexpr FormatArg(T value) noexcept  // NOLINT
        : kind_(Kind::boolean), unsigned_(value ? 1 : 0) {}
    template <std::same_as<char> T>
    constexpr FormatArg(T value) noexcept  // NOLINT
        : kind_(Kind::character), unsigned_(static_cast<unsigned char>(value)) {}
    constexpr FormatArg(const char* text) noexcept  // NOLINT; nullptr prints "(null)"
        : kind_(Kind::text), text_(text == nullptr ? std::string_view("(null)") : text) {}
    constexpr FormatArg(std::string_view text) noexcept  // NOLINT
        : kind_(Kind::text), text_(text) {}
    constexpr FormatArg(const net::IpAddress& address) noexcept  // NOLINT
        : kind_(Kind::ip_address), address_(&address) {}
    constexpr FormatArg(const net::Endpoint& endpoint) noexcept  // NOLINT
        : kind_(Kind::endpoint), endpoint_(&endpoint) {}
    constexpr FormatArg(Hex hex) noexcept : kind_(Kind::hex), bytes_(hex.bytes) {}  // NOLINT
    constexpr FormatArg(Errc error) noexcept : kind_(Kind::error), error_(error) {}  // NOLINT

    [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }
    // Each accessor is valid for its own kind only.
    [[nodiscard]] constexpr std::int64_t signed_value() const noexcept { return signed_; }
    [[nodiscard]] constexpr std::uint64_t unsigned_value() const noexcept { return unsigned_; }
    [[nodiscard]] constexpr std::string_view text() const noexcept { return text_; }
    [[nodiscard]] constexpr const net::IpAddress& address() const noexcept { return *address_; }
    [[nodiscard]] constexpr const net::Endpoint& endpoint() const noexcept { return *endpoint_; }
    [[nodiscard]] constexpr std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
    [[nodiscard]] constexpr Errc error() const noexcept { return error_; }

private:
    Kind kind_;
    union {
        std::int64_t signed_;
        std::uint64_t unsigned_;
        std::string_view text_;
        const net::IpAddress* address_;
        const net::Endpoint* endpoint_;
        std::span<const std::uint8_t> bytes_;
        Errc error_;
    };
};

// The formatters behind the templates below.
std::size_t vformat_to(std::span<char> out, std::string_view format,
                       std::span<const FormatArg> args) noexcept;
[[nodiscard]] Result<std::size_t> try_vformat_to(std::span<char> out, std::string_view format,
                                                 std::span<const FormatArg> args) noexcept;

// Writes the formatted text into `out` and returns its length; no NUL is added. Text that does
// not fit is cut, and its last three bytes become "…" (U+2026; never splitting a UTF-8
// character). A placeholder without an argument prints "{?}"; extra arguments are ignored.
template <typename... Args>
std::size_t format_to(std::span<char> out, std::string_view format, const Args&... args) noexcept {
    const std::array<FormatArg, sizeof...(Args)> erased{FormatArg(args)...};
    return vformat_to(out, format, erased);
}

// The same, for text that must be whole (invites, config output): Errc::no_space instead of
// cutting (what `out` then holds is unspecified).
template <typename... Args>
[[nodiscard]] Result<std::size_t> try_format_to(std::span<char> out, std::string_view format,
                                                const Args&... args) noexcept {
    const std::array<FormatArg, sizeof...(Args)> erased{FormatArg(args)...};
    return try_vformat_to(out, format, erased);
}

}  // namespace pinhole
