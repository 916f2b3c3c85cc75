// IP addresses and UDP/TCP endpoints, IPv4 and IPv6, in fixed storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/util/result.h"

namespace pinhole::net {

enum class Family : std::uint8_t { none, v4, v6 };

struct IpAddress {
    Family family = Family::none;
    std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

    [[nodiscard]] static constexpr IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                                std::uint8_t d) noexcept {
        return IpAddress{Family::v4, {a, b, c, d}};
    }
    [[nodiscard]] static IpAddress v6(std::span<const std::uint8_t, 16> bytes) noexcept;
    [[nodiscard]] constexpr bool is_v4() const noexcept { return family == Family::v4; }
    [[nodiscard]] constexpr bool is_v6() const noexcept { return family == Family::v6; }
    friend constexpr bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;
    friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Longest text forms, with the terminating NUL: "[ffff:…:255.255.255.255]:65535".
inline constexpr std::size_t address_text_bytes = 46;
inline constexpr std::size_t endpoint_text_bytes = address_text_bytes + 8;

// "192.0.2.1", "2001:db8::1" (RFC 4291 text forms, RFC 5952 on output).
[[nodiscard]] Result<IpAddress> parse_address(std::string_view text) noexcept;
// "192.0.2.1:51820", "[2001:db8::1]:51820".
[[nodiscard]] Result<Endpoint> parse_endpoint(std::string_view text) noexcept;
// Writes the text form with a terminating NUL; returns its length without the NUL.
[[nodiscard]] Result<std::size_t> format_address(const IpAddress& address,
                                                 std::span<char> out) noexcept;
[[nodiscard]] Result<std::size_t> format_endpoint(const Endpoint& endpoint,
                                                  std::span<char> out) noexcept;

}  // namespace pinhole::net
