// A host's UDP sockets. Datagrams travel as world events with the link's faults; a datagram
// for a port nobody has bound is dropped, as UDP does (no ICMP is simulated).
#pragma once

#include <array>
#include <cstdint>

#include "port/sim/limits.h"
#include "port/sim/slot_ids.h"
#include "port/udp.h"

namespace pinhole::sim {

class Host;

class HostUdp final : public port::Udp {
public:
    explicit HostUdp(Host& host) noexcept : host_(host) {}
    HostUdp(const HostUdp&) = delete;
    HostUdp& operator=(const HostUdp&) = delete;

    // `local`: Family::none binds every address of the host; an unspecified address
    // (0.0.0.0, ::) every address of its family; any other address must be the host's
    // (Errc::unreachable otherwise, as EADDRNOTAVAIL). Port 0 takes the next free ephemeral
    // port; a port already bound on an overlapping address is Errc::already_exists.
    [[nodiscard]] Result<port::UdpSocketId> open(const net::Endpoint& local,
                                                 port::UdpReceiver& receiver) noexcept override;
    [[nodiscard]] Result<net::Endpoint> local_endpoint(port::UdpSocketId socket) noexcept override;
    // Errc::invalid_argument over max_datagram_bytes; Errc::unreachable when the host has no
    // address of the destination's family; Errc::would_block when the world's event pool is
    // full (the caller drops, as with a full socket buffer).
    [[nodiscard]] Status send(port::UdpSocketId socket, const net::Endpoint& to,
                              std::span<const std::uint8_t> payload) noexcept override;
    void close(port::UdpSocketId socket) noexcept override;

    // The world: a datagram for this host arrived (faults already applied). False if no
    // socket takes it.
    bool deliver(const net::Endpoint& from, const net::Endpoint& to,
                 std::span<const std::uint8_t> payload) noexcept;

private:
    using Ids = SlotIds<max_udp_sockets_per_host>;
    struct Socket {
        bool open = false;
        std::uint16_t generation = 0;
        net::Endpoint local;  // address Family::none or unspecified: a wildcard
        port::UdpReceiver* receiver = nullptr;
    };

    [[nodiscard]] Socket* lookup(port::UdpSocketId id) noexcept;
    [[nodiscard]] bool port_taken(const net::Endpoint& local) const noexcept;
    [[nodiscard]] Result<std::uint16_t> pick_port(const net::Endpoint& local) noexcept;
    [[nodiscard]] Result<net::IpAddress> source_address(const Socket& socket,
                                                        const net::IpAddress& to) const noexcept;

    Host& host_;
    std::array<Socket, max_udp_sockets_per_host> sockets_{};
};

}  // namespace pinhole::sim
