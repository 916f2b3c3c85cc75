#include "core/proxy/proxy_protocol.h"

#include <algorithm>

#include "core/util/endian.h"

namespace pinhole::proxy {
namespace {

constexpr std::uint8_t version_2_proxy = 0x21;  // version 2, command PROXY
constexpr std::uint8_t tcp_over_ipv4 = 0x11;
constexpr std::uint8_t tcp_over_ipv6 = 0x21;
constexpr std::size_t fixed_header_bytes = 16;

}  // namespace

Result<std::size_t> encode_proxy_v2(const net::Endpoint& source, const net::Endpoint& destination,
                                    std::span<std::uint8_t> out) noexcept {
    const net::Family family = source.address.family;
    if (family == net::Family::none || destination.address.family != family) return Errc::invalid_argument;
    const std::size_t address_bytes = family == net::Family::v4 ? 4 : 16;
    const std::size_t total = fixed_header_bytes + 2 * address_bytes + 4;
    if (out.size() < total) return Errc::no_space;
    std::copy(proxy_v2_signature.begin(), proxy_v2_signature.end(), out.begin());
    out[12] = version_2_proxy;
    out[13] = family == net::Family::v4 ? tcp_over_ipv4 : tcp_over_ipv6;
    store_be16(out.data() + 14, static_cast<std::uint16_t>(total - fixed_header_bytes));
    std::uint8_t* at = out.data() + fixed_header_bytes;
    std::copy_n(source.address.bytes.begin(), address_bytes, at);
    std::copy_n(destination.address.bytes.begin(), address_bytes, at + address_bytes);
    store_be16(at + 2 * address_bytes, source.port);
    store_be16(at + 2 * address_bytes + 2, destination.port);
    return total;
}

}  // namespace pinhole::proxy
