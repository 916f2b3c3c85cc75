// Conversions between net::IpAddress and lwIP's address types. Both keep addresses in network
// byte order, so they are copies.
#pragma once

#include <cstring>

#include <lwip/ip_addr.h>

#include "core/net/address.h"

namespace pinhole::overlay {

inline net::IpAddress address_of(const ip4_addr_t& address) noexcept {
    net::IpAddress result{net::Family::v4, {}};
    std::memcpy(result.bytes.data(), &address.addr, 4);
    return result;
}

inline net::IpAddress address_of(const ip6_addr_t& address) noexcept {
    net::IpAddress result{net::Family::v6, {}};
    std::memcpy(result.bytes.data(), address.addr, 16);
    return result;
}

inline net::IpAddress address_of(const ip_addr_t& address) noexcept {
    return IP_IS_V4_VAL(address) ? address_of(*ip_2_ip4(&address)) : address_of(*ip_2_ip6(&address));
}

inline ip4_addr_t lwip_ip4(const net::IpAddress& address) noexcept {
    ip4_addr_t result{};
    std::memcpy(&result.addr, address.bytes.data(), 4);
    return result;
}

inline ip6_addr_t lwip_ip6(const net::IpAddress& address) noexcept {
    ip6_addr_t result{};  // zone 0: none (global addresses)
    std::memcpy(result.addr, address.bytes.data(), 16);
    return result;
}

inline ip_addr_t lwip_address(const net::IpAddress& address) noexcept {
    ip_addr_t result{};
    if (address.is_v4()) {
        ip_addr_copy_from_ip4(result, lwip_ip4(address));
    } else {
        ip_addr_copy_from_ip6_packed(result, lwip_ip6(address));
    }
    return result;
}

}  // namespace pinhole::overlay
