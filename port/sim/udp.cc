#include "port/sim/udp.h"

#include "port/sim/world.h"

namespace pinhole::sim {
namespace {

constexpr std::size_t ephemeral_port_count = 65536 - 49152;

bool is_wildcard(const net::IpAddress& address) noexcept {
    return address.family == net::Family::none || net::is_unspecified(address);
}

// Two bindings of one port would both claim some datagram.
bool bindings_overlap(const net::IpAddress& a, const net::IpAddress& b) noexcept {
    if (a.family == net::Family::none || b.family == net::Family::none) return true;
    if (a.family != b.family) return false;
    return net::is_unspecified(a) || net::is_unspecified(b) || a == b;
}

// Whether a socket bound to `bound` takes datagrams for `address`.
bool binding_matches(const net::IpAddress& bound, const net::IpAddress& address) noexcept {
    if (bound.family == net::Family::none) return true;
    if (bound.family != address.family) return false;
    return net::is_unspecified(bound) || bound == address;
}

}  // namespace

HostUdp::Socket* HostUdp::lookup(port::UdpSocketId id) noexcept {
    const std::size_t slot = Ids::slot_of(id);
    if (slot >= sockets_.size()) return nullptr;
    Socket& socket = sockets_[slot];
    return socket.open && socket.generation == Ids::generation_of(id) ? &socket : nullptr;
}

bool HostUdp::port_taken(const net::Endpoint& local) const noexcept {
    for (const Socket& socket : sockets_) {
        if (socket.open && socket.local.port == local.port &&
            bindings_overlap(socket.local.address, local.address)) {
            return true;
        }
    }
    return false;
}

Result<std::uint16_t> HostUdp::pick_port(const net::Endpoint& local) noexcept {
    for (std::size_t tries = 0; tries < ephemeral_port_count; ++tries) {
        const net::Endpoint candidate{local.address, host_.next_ephemeral_port()};
        if (!port_taken(candidate)) return candidate.port;
    }
    return Errc::no_space;
}

Result<port::UdpSocketId> HostUdp::open(const net::Endpoint& local,
                                        port::UdpReceiver& receiver) noexcept {
    if (!is_wildcard(local.address) && !host_.owns(local.address)) return Errc::unreachable;
    std::size_t slot = 0;
    while (slot < sockets_.size() && sockets_[slot].open) ++slot;
    if (slot == sockets_.size()) return Errc::no_space;
    net::Endpoint bound = local;
    if (bound.port == 0) {
        const Result<std::uint16_t> port = pick_port(local);
        if (!port.ok()) return port.error();
        bound.port = port.value();
    } else if (port_taken(bound)) {
        return Errc::already_exists;
    }
    Socket& socket = sockets_[slot];
    socket.open = true;
    socket.local = bound;
    socket.receiver = &receiver;
    return Ids::make(slot, socket.generation);
}

Result<net::Endpoint> HostUdp::local_endpoint(port::UdpSocketId id) noexcept {
    const Socket* socket = lookup(id);
    if (socket == nullptr) return Errc::invalid_argument;
    return socket->local;
}

Result<net::IpAddress> HostUdp::source_address(const Socket& socket,
                                               const net::IpAddress& to) const noexcept {
    const net::IpAddress& bound = socket.local.address;
    if (!is_wildcard(bound)) {
        if (bound.family != to.family) return Errc::unreachable;
        return bound;
    }
    if (bound.family != net::Family::none && bound.family != to.family) return Errc::unreachable;
    return host_.source_address_for(to);
}

Status HostUdp::send(port::UdpSocketId id, const net::Endpoint& to,
                     std::span<const std::uint8_t> payload) noexcept {
    const Socket* socket = lookup(id);
    if (socket == nullptr || payload.size() > max_datagram_bytes) return Errc::invalid_argument;
    if (to.address.family == net::Family::none || to.port == 0) return Errc::invalid_argument;
    const Result<net::IpAddress> source = source_address(*socket, to.address);
    if (!source.ok()) return source.error();
    return host_.world().send_datagram(host_.index(), net::Endpoint{source.value(), socket->local.port},
                                       to, payload);
}

void HostUdp::close(port::UdpSocketId id) noexcept {
    Socket* socket = lookup(id);
    if (socket == nullptr) return;
    const std::uint16_t generation = Ids::next_generation(socket->generation);
    *socket = Socket{};
    socket->generation = generation;
}

bool HostUdp::deliver(const net::Endpoint& from, const net::Endpoint& to,
                      std::span<const std::uint8_t> payload) noexcept {
    // Bindings of one port never overlap (open() refuses it), so at most one socket matches.
    for (std::size_t slot = 0; slot < sockets_.size(); ++slot) {
        Socket& socket = sockets_[slot];
        if (!socket.open || socket.local.port != to.port) continue;
        if (!binding_matches(socket.local.address, to.address)) continue;
        socket.receiver->on_datagram(Ids::make(slot, socket.generation), from, payload);
        return true;
    }
    return false;
}

}  // namespace pinhole::sim
