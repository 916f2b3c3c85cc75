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

// A network: the address with every bit past `length` zero.
struct Prefix {
    IpAddress address;
    std::uint8_t length = 0;  // bits: 0..32 for IPv4, 0..128 for IPv6
    friend constexpr bool operator==(const Prefix&, const Prefix&) = default;
};

// "192.0.2.1", "2001:db8::1" (RFC 4291 text forms, RFC 5952 on output). Strict, as input from
// configs and peers: IPv4 is exactly four decimal parts 0..255 without leading zeros (so no
// octal reading of "010"); IPv6 takes at most one "::" and an IPv4 tail ("::ffff:192.0.2.1");
// no zone ids ("%eth0"), no surrounding space. Errc::malformed otherwise.
[[nodiscard]] Result<IpAddress> parse_address(std::string_view text) noexcept;
// "192.0.2.1:51820", "[2001:db8::1]:51820": brackets required for IPv6, refused for IPv4;
// port 0..65535 in at most five decimal digits.
[[nodiscard]] Result<Endpoint> parse_endpoint(std::string_view text) noexcept;
// "10.0.0.0/8", "2001:db8::/32": the length is required (a bare address is malformed) and has
// no leading zeros. Host bits set ("10.1.2.3/8") are accepted and cleared, as `ip route` does.
[[nodiscard]] Result<Prefix> parse_prefix(std::string_view text) noexcept;

// Writes the text form with a terminating NUL; returns its length without the NUL. IPv6 follows
// RFC 5952 (lowercase, the longest run of two or more zero groups as "::", the first on a tie,
// IPv4-mapped addresses as "::ffff:192.0.2.1"). Errc::invalid_argument for Family::none,
// Errc::no_space if `out` is too small (address_text_bytes / endpoint_text_bytes always fit).
[[nodiscard]] Result<std::size_t> format_address(const IpAddress& address,
                                                 std::span<char> out) noexcept;
[[nodiscard]] Result<std::size_t> format_endpoint(const Endpoint& endpoint,
                                                  std::span<char> out) noexcept;

// Whether `address` is inside `prefix`. Families never match each other: an IPv4-mapped IPv6
// address is not inside an IPv4 prefix.
[[nodiscard]] bool prefix_contains(const Prefix& prefix, const IpAddress& address) noexcept;
// 127.0.0.0/8, ::1.
[[nodiscard]] bool is_loopback(const IpAddress& address) noexcept;
// 169.254.0.0/16, fe80::/10.
[[nodiscard]] bool is_link_local(const IpAddress& address) noexcept;
// 0.0.0.0, ::, and Family::none (which ports read as "any address").
[[nodiscard]] bool is_unspecified(const IpAddress& address) noexcept;
// 224.0.0.0/4, ff00::/8.
[[nodiscard]] bool is_multicast(const IpAddress& address) noexcept;
// ::ffff:0:0/96, IPv4 in IPv6 clothing: a dual-stack socket sends it as IPv4.
[[nodiscard]] bool is_v4_mapped(const IpAddress& address) noexcept;
// The IPv4 address inside an IPv4-mapped one; any other address unchanged. Policy compares
// this form, so "::ffff:127.0.0.1" is treated as the loopback address it reaches.
[[nodiscard]] IpAddress unmapped(const IpAddress& address) noexcept;

}  // namespace pinhole::net
