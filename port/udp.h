// UDP sockets, IPv4 and IPv6. The port delivers datagrams to the receiver given at open; it
// never queues them without bound (a full socket buffer drops, as UDP does).
#pragma once

#include <cstdint>
#include <span>

#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::port {

using UdpSocketId = std::uint16_t;

class UdpReceiver {
public:
    virtual void on_datagram(UdpSocketId socket, const net::Endpoint& from,
                             std::span<const std::uint8_t> payload) noexcept = 0;

protected:
    ~UdpReceiver() = default;
};

class Udp {
public:
    // Binds `local` (port 0: any free port; address family none: dual-stack any address).
    [[nodiscard]] virtual Result<UdpSocketId> open(const net::Endpoint& local,
                                                   UdpReceiver& receiver) noexcept = 0;
    // The bound address, e.g. to learn the port chosen for port 0.
    [[nodiscard]] virtual Result<net::Endpoint> local_endpoint(UdpSocketId socket) noexcept = 0;
    // Sends one datagram; Errc::would_block when the socket buffer is full (the caller drops).
    [[nodiscard]] virtual Status send(UdpSocketId socket, const net::Endpoint& to,
                                      std::span<const std::uint8_t> payload) noexcept = 0;
    virtual void close(UdpSocketId socket) noexcept = 0;

protected:
    ~Udp() = default;
};

}  // namespace pinhole::port
