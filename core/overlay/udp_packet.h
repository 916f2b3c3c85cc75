// UDP in overlay IP packets, for the exit and the client's UDP flows (issue 7): reading a
// peer's datagram (every length checked: WireGuard authenticated the packet, not its contents)
// and writing one back through the peer's netif from the address the peer sent to.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/net/address.h"
#include "core/util/result.h"

struct netif;

namespace pinhole::overlay {

struct UdpDatagramView {
    net::Endpoint source;
    net::Endpoint destination;
    std::span<const std::uint8_t> payload;
};

// The UDP datagram in an IPv4 or IPv6 packet (IPv6: UDP right after the fixed header); nullopt
// for anything else, a fragment, or lengths that do not add up.
[[nodiscard]] std::optional<UdpDatagramView> parse_udp_packet(std::span<const std::uint8_t> packet) noexcept;

// Sends `payload` from `from` to `to` (one family) out of `peer_netif`, checksummed.
// Errc::no_space without lwIP memory, Errc::invalid_argument for mixed families.
[[nodiscard]] Status send_udp_packet(netif* peer_netif, const net::Endpoint& from, const net::Endpoint& to,
                                     std::span<const std::uint8_t> payload) noexcept;

}  // namespace pinhole::overlay
