#include "core/overlay/udp_packet.h"

#include <cstring>

#include <lwip/inet_chksum.h>
#include <lwip/ip.h>
#include <lwip/pbuf.h>
#include <lwip/prot/udp.h>
#include <lwip/udp.h>

#include "core/overlay/lwip_address.h"
#include "core/util/endian.h"

namespace pinhole::overlay {
namespace {

constexpr std::uint8_t ip_protocol_udp = 17;
constexpr std::size_t udp_header_bytes = 8;

}  // namespace

std::optional<UdpDatagramView> parse_udp_packet(std::span<const std::uint8_t> packet) noexcept {
    if (packet.empty()) return std::nullopt;
    UdpDatagramView view;
    std::size_t header_bytes = 0;
    std::size_t address_bytes = 0;
    std::size_t source_at = 0;
    if ((packet[0] >> 4) == 4) {
        header_bytes = static_cast<std::size_t>(packet[0] & 0x0F) * 4;
        const bool fragment = packet.size() >= 8 && (load_be16(packet.data() + 6) & 0x3FFF) != 0;
        if (header_bytes < 20 || packet.size() < header_bytes || packet[9] != ip_protocol_udp || fragment) {
            return std::nullopt;
        }
        view.source.address.family = view.destination.address.family = net::Family::v4;
        address_bytes = 4;
        source_at = 12;
    } else if ((packet[0] >> 4) == 6) {
        header_bytes = 40;
        if (packet.size() < header_bytes || packet[6] != ip_protocol_udp) return std::nullopt;
        view.source.address.family = view.destination.address.family = net::Family::v6;
        address_bytes = 16;
        source_at = 8;
    } else {
        return std::nullopt;
    }
    if (packet.size() < header_bytes + udp_header_bytes) return std::nullopt;
    std::memcpy(view.source.address.bytes.data(), packet.data() + source_at, address_bytes);
    std::memcpy(view.destination.address.bytes.data(), packet.data() + source_at + address_bytes, address_bytes);
    const std::uint8_t* udp = packet.data() + header_bytes;
    view.source.port = load_be16(udp);
    view.destination.port = load_be16(udp + 2);
    const std::size_t length = load_be16(udp + 4);
    if (length < udp_header_bytes || header_bytes + length > packet.size()) return std::nullopt;
    view.payload = packet.subspan(header_bytes + udp_header_bytes, length - udp_header_bytes);
    return view;
}

Status send_udp_packet(netif* peer_netif, const net::Endpoint& from, const net::Endpoint& to,
                       std::span<const std::uint8_t> payload) noexcept {
    if (from.address.family != to.address.family || from.address.family == net::Family::none) {
        return Errc::invalid_argument;
    }
    if (payload.size() > 0xFFFF - udp_header_bytes) return Errc::invalid_argument;
    pbuf* datagram = pbuf_alloc(PBUF_IP, static_cast<u16_t>(udp_header_bytes + payload.size()), PBUF_RAM);
    if (datagram == nullptr) return Errc::no_space;
    auto* header = static_cast<udp_hdr*>(datagram->payload);
    header->src = lwip_htons(from.port);
    header->dest = lwip_htons(to.port);
    header->len = lwip_htons(static_cast<u16_t>(datagram->tot_len));
    header->chksum = 0;
    std::memcpy(static_cast<std::uint8_t*>(datagram->payload) + udp_header_bytes, payload.data(), payload.size());
    const ip_addr_t local = lwip_address(from.address);
    const ip_addr_t remote = lwip_address(to.address);
    const u16_t checksum = ip_chksum_pseudo(datagram, IP_PROTO_UDP, datagram->tot_len, &local, &remote);
    header->chksum = checksum == 0 ? 0xFFFF : checksum;  // 0 means "none" in UDP
    const err_t sent = ip_output_if(datagram, &local, &remote, UDP_TTL, 0, IP_PROTO_UDP, peer_netif);
    pbuf_free(datagram);
    return sent == ERR_OK ? Status() : Status(Errc::no_space);
}

}  // namespace pinhole::overlay
