// The PROXY protocol, version 2 (haproxy's proxy-protocol.txt, §2.2): the header an agent writes
// first on its connection to a service marked `proxy_protocol: v2`, so the service sees the
// client node's overlay address and port instead of the agent's own. Binary form, command PROXY,
// TCP over IPv4 or IPv6, no TLVs:
//
//   \r\n\r\n\0\r\nQUIT\n | 0x21 | 0x11 (TCP4) or 0x21 (TCP6) | length:u16 BE |
//   source address | destination address | source port:u16 BE | destination port:u16 BE
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::proxy {

inline constexpr std::array<std::uint8_t, 12> proxy_v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                                     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
inline constexpr std::size_t proxy_v2_ipv4_bytes = 16 + 12;
inline constexpr std::size_t proxy_v2_ipv6_bytes = 16 + 36;
inline constexpr std::size_t proxy_v2_max_bytes = proxy_v2_ipv6_bytes;

// The header for a connection from `source` to `destination` (the same family); its length, or
// Errc::invalid_argument for mixed or unset families, Errc::no_space when `out` is too small.
[[nodiscard]] Result<std::size_t> encode_proxy_v2(const net::Endpoint& source, const net::Endpoint& destination,
                                                  std::span<std::uint8_t> out) noexcept;

}  // namespace pinhole::proxy
