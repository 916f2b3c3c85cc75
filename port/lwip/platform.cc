#include "port/lwip/platform.h"

#include <lwip/ip_addr.h>
#include <lwip/pbuf.h>
#include <lwip/udp.h>

#include <cstring>

#include "port/lwip/board.h"

namespace pinhole::lwip_port {
namespace {

ip_addr_t to_lwip(const net::IpAddress& address) noexcept {
    ip_addr_t out;
    if (address.is_v6()) {
        IP_SET_TYPE_VAL(out, IPADDR_TYPE_V6);
        std::memcpy(ip_2_ip6(&out)->addr, address.bytes.data(), 16);
        ip6_addr_clear_zone(ip_2_ip6(&out));
    } else if (address.is_v4()) {
        IP_SET_TYPE_VAL(out, IPADDR_TYPE_V4);
        std::memcpy(&ip_2_ip4(&out)->addr, address.bytes.data(), 4);
    } else {
        out = *IP_ANY_TYPE;
    }
    return out;
}

net::IpAddress from_lwip(const ip_addr_t& address) noexcept {
    net::IpAddress out;
    if (IP_IS_V6_VAL(address)) {
        out.family = net::Family::v6;
        std::memcpy(out.bytes.data(), ip_2_ip6(&address)->addr, 16);
    } else {
        out.family = net::Family::v4;
        std::memcpy(out.bytes.data(), &ip_2_ip4(&address)->addr, 4);
    }
    return out;
}

Errc errc_from_lwip(err_t error) noexcept {
    switch (error) {
        case ERR_MEM:
        case ERR_BUF: return Errc::would_block;  // lwIP's pools are full for now: drop
        case ERR_RTE: return Errc::unreachable;
        case ERR_USE: return Errc::already_exists;
        case ERR_VAL:
        case ERR_ARG: return Errc::invalid_argument;
        default: return Errc::io;
    }
}

void receive_callback(void* argument, udp_pcb*, pbuf* packet, const ip_addr_t* from,
                      u16_t from_port) noexcept {
    const auto& binding = *static_cast<const LwipUdp::Binding*>(argument);
    binding.owner->deliver(binding, packet, net::Endpoint{from_lwip(*from), from_port});
}

}  // namespace

std::uint32_t BoardClock::monotonic_ms() noexcept { return board::uptime_ms(); }

Status BoardRandom::fill(std::span<std::uint8_t> out) noexcept {
    return board::random_bytes(out.data(), out.size()) ? Status{} : Status{Errc::io};
}

void ConsoleLog::write(port::LogLevel level, std::string_view line) noexcept {
    static constexpr std::string_view prefixes[] = {"error: ", "warning: ", "", "debug: "};
    const std::string_view prefix = prefixes[static_cast<std::size_t>(level) % 4];
    board::console_write(prefix.data(), prefix.size());
    board::console_write(line.data(), line.size());
    board::console_write("\n", 1);
}

Result<port::UdpSocketId> LwipUdp::open(const net::Endpoint& local,
                                        port::UdpReceiver& receiver) noexcept {
    std::size_t index = 0;
    while (index < sockets_.size() && sockets_[index].pcb != nullptr) index++;
    if (index == sockets_.size()) return Errc::no_space;
    const u8_t type = local.address.is_v4()   ? IPADDR_TYPE_V4
                      : local.address.is_v6() ? IPADDR_TYPE_V6
                                              : IPADDR_TYPE_ANY;
    udp_pcb* pcb = udp_new_ip_type(type);
    if (pcb == nullptr) return Errc::no_space;  // MEMP_NUM_UDP_PCB from the board's budget
    const ip_addr_t address = to_lwip(local.address);
    const err_t bound = udp_bind(pcb, &address, local.port);
    if (bound != ERR_OK) {
        udp_remove(pcb);
        return errc_from_lwip(bound);
    }
    sockets_[index] = Binding{pcb, &receiver, this, static_cast<port::UdpSocketId>(index)};
    udp_recv(pcb, &receive_callback, &sockets_[index]);
    return static_cast<port::UdpSocketId>(index);
}

Result<net::Endpoint> LwipUdp::local_endpoint(port::UdpSocketId socket) noexcept {
    if (socket >= sockets_.size() || sockets_[socket].pcb == nullptr) return Errc::invalid_argument;
    const udp_pcb* pcb = sockets_[socket].pcb;
    return net::Endpoint{from_lwip(pcb->local_ip), pcb->local_port};
}

Status LwipUdp::send(port::UdpSocketId socket, const net::Endpoint& to,
                     std::span<const std::uint8_t> payload) noexcept {
    if (socket >= sockets_.size() || sockets_[socket].pcb == nullptr) return Errc::invalid_argument;
    if (payload.size() > 0xFFFF) return Errc::invalid_argument;
    pbuf* packet = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(payload.size()), PBUF_RAM);
    if (packet == nullptr) return Errc::would_block;
    std::memcpy(packet->payload, payload.data(), payload.size());
    const ip_addr_t address = to_lwip(to.address);
    const err_t sent = udp_sendto(sockets_[socket].pcb, packet, &address, to.port);
    pbuf_free(packet);
    return sent == ERR_OK ? Status{} : Status{errc_from_lwip(sent)};
}

void LwipUdp::close(port::UdpSocketId socket) noexcept {
    if (socket >= sockets_.size() || sockets_[socket].pcb == nullptr) return;
    udp_remove(sockets_[socket].pcb);
    sockets_[socket] = Binding{};
}

void LwipUdp::deliver(const Binding& binding, pbuf* packet, const net::Endpoint& from) noexcept {
    // A datagram larger than our buffer is dropped whole, never truncated.
    if (packet->tot_len <= receive_buffer_.size()) {
        const u16_t length = pbuf_copy_partial(packet, receive_buffer_.data(), packet->tot_len, 0);
        binding.receiver->on_datagram(
            binding.id, from, std::span<const std::uint8_t>(receive_buffer_.data(), length));
    }
    pbuf_free(packet);
}

Result<port::TcpConnectionId> Unsupported::connect(const net::Endpoint&, port::TcpEvents&) noexcept {
    return Errc::unsupported;
}
Result<std::size_t> Unsupported::read(port::TcpConnectionId, std::span<std::uint8_t>) noexcept {
    return Errc::unsupported;
}
Result<std::size_t> Unsupported::write(port::TcpConnectionId, std::span<const std::uint8_t>) noexcept {
    return Errc::unsupported;
}
Status Unsupported::shutdown_write(port::TcpConnectionId) noexcept { return Errc::unsupported; }
Result<port::TcpListenerId> Unsupported::listen(const net::Endpoint&, port::TcpListenEvents&) noexcept {
    return Errc::unsupported;
}
Result<net::Endpoint> Unsupported::listener_endpoint(port::TcpListenerId) noexcept { return Errc::unsupported; }
Result<port::ResolveId> Unsupported::resolve(std::string_view, net::Family, port::ResolveEvents&) noexcept {
    return Errc::unsupported;
}
Result<std::size_t> Unsupported::local_addresses(std::span<net::IpAddress>) noexcept {
    return Errc::unsupported;
}
Result<std::size_t> Unsupported::read(std::string_view, port::Secrecy, std::span<std::uint8_t>) noexcept {
    return Errc::unsupported;
}
Status Unsupported::write(std::string_view, port::Secrecy, std::span<const std::uint8_t>) noexcept {
    return Errc::unsupported;
}

}  // namespace pinhole::lwip_port
