#include "core/overlay/ack_coalescer.h"

#include <algorithm>
#include <optional>

#include "core/overlay/overlay_stack.h"
#include "core/util/endian.h"

namespace pinhole::overlay {
namespace {

constexpr std::uint8_t ip_protocol_tcp = 6;
constexpr std::uint8_t tcp_flag_fin = 0x01, tcp_flag_syn = 0x02, tcp_flag_rst = 0x04,
                       tcp_flag_ack = 0x10, tcp_flag_urg = 0x20;

struct TcpView {
    std::array<std::uint8_t, 36> flow{};  // addresses and ports, zero-padded for IPv4
    std::uint32_t ack = 0;
    bool pure_ack = false;
};

// The TCP segment in an IPv4 or IPv6 packet (no extension headers, no fragments); nothing for
// anything else.
std::optional<TcpView> parse_tcp(std::span<const std::uint8_t> packet) noexcept {
    if (packet.empty()) return std::nullopt;
    std::size_t ip_header_bytes = 0, ip_total_bytes = 0, address_bytes = 0, address_offset = 0;
    if (packet[0] >> 4 == 4 && packet.size() >= 20) {
        ip_header_bytes = static_cast<std::size_t>(packet[0] & 0x0F) * 4;
        ip_total_bytes = load_be16(packet.subspan(2, 2));
        const bool fragment = (load_be16(packet.subspan(6, 2)) & 0x3FFF) != 0;
        if (packet[9] != ip_protocol_tcp || fragment || ip_header_bytes < 20) return std::nullopt;
        address_offset = 12, address_bytes = 4;
    } else if (packet[0] >> 4 == 6 && packet.size() >= 40) {
        ip_header_bytes = 40;
        ip_total_bytes = 40 + std::size_t{load_be16(packet.subspan(4, 2))};
        if (packet[6] != ip_protocol_tcp) return std::nullopt;
        address_offset = 8, address_bytes = 16;
    } else {
        return std::nullopt;
    }
    if (ip_total_bytes > packet.size() || ip_header_bytes + 20 > ip_total_bytes) return std::nullopt;
    const std::span<const std::uint8_t> tcp = packet.subspan(ip_header_bytes, ip_total_bytes - ip_header_bytes);
    const std::size_t tcp_header_bytes = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    if (tcp_header_bytes < 20 || tcp_header_bytes > tcp.size()) return std::nullopt;
    TcpView view;
    std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(address_offset), 2 * address_bytes, view.flow.begin());
    std::copy_n(tcp.begin(), 4, view.flow.begin() + 32);
    view.ack = load_be32(tcp.subspan(8, 4));
    const std::uint8_t flags = tcp[13];
    view.pure_ack = (flags & tcp_flag_ack) != 0 &&
                    (flags & (tcp_flag_fin | tcp_flag_syn | tcp_flag_rst | tcp_flag_urg)) == 0 &&
                    tcp.size() == tcp_header_bytes;
    return view;
}

// Sequence-space comparison (RFC 9293: modulo 2^32).
bool ack_after(std::uint32_t later, std::uint32_t earlier) noexcept {
    return static_cast<std::int32_t>(later - earlier) > 0;
}

}  // namespace

void AckCoalescer::send(Held& held, OverlayOutput& output) noexcept {
    held.used = false;
    output.send_packet(held.peer, std::span<const std::uint8_t>(held.packet.data(), held.length));
}

void AckCoalescer::hold(Held& slot, wireguard::PeerId peer, std::span<const std::uint8_t> flow,
                        std::uint32_t ack, std::span<const std::uint8_t> ip_packet) noexcept {
    if (!slot.used) slot.first_ack = ack;
    slot.used = true;
    slot.peer = peer;
    std::copy(flow.begin(), flow.end(), slot.flow.begin());
    slot.ack = ack;
    slot.length = static_cast<std::uint16_t>(ip_packet.size());
    std::copy(ip_packet.begin(), ip_packet.end(), slot.packet.begin());
    counters_.held++;
}

bool AckCoalescer::offer(wireguard::PeerId peer, std::span<const std::uint8_t> ip_packet,
                         OverlayOutput& output) noexcept {
    const std::optional<TcpView> tcp = parse_tcp(ip_packet);
    if (!tcp.has_value()) return false;
    Held* same_flow = nullptr;
    for (Held& held : held_) {
        if (held.used && held.peer == peer && held.flow == tcp->flow) same_flow = &held;
    }
    if (!tcp->pure_ack || ip_packet.size() > max_ack_packet_bytes) {
        if (same_flow != nullptr) send(*same_flow, output);  // the held ACK goes first
        return false;
    }
    if (same_flow != nullptr) {
        const bool merges = ack_after(tcp->ack, same_flow->ack) &&
                            tcp->ack - same_flow->first_ack < max_merged_advance_bytes;
        if (merges) {
            counters_.merged++;
        } else {
            send(*same_flow, output);  // a duplicate ACK, or far enough: both leave
        }
        hold(*same_flow, peer, tcp->flow, tcp->ack, ip_packet);
        return true;
    }
    Held* slot = std::find_if(held_.begin(), held_.end(), [](const Held& h) { return !h.used; });
    if (slot == held_.end()) {
        slot = &held_[next_victim_];
        next_victim_ = (next_victim_ + 1) % held_.size();
        send(*slot, output);
    }
    hold(*slot, peer, tcp->flow, tcp->ack, ip_packet);
    return true;
}

void AckCoalescer::flush(OverlayOutput& output) noexcept {
    for (Held& held : held_) {
        if (held.used) send(held, output);
    }
}

}  // namespace pinhole::overlay
