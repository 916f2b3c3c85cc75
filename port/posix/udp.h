// UDP on Linux sockets: dual-stack when bound to "any", one shared receive buffer (the loop is
// single-threaded), a bounded number of datagrams per wake-up so one busy socket cannot starve
// the others.
#pragma once

#include <array>
#include <cstdint>

#include "board_budget.h"
#include "port/posix/event_loop.h"
#include "port/udp.h"

namespace pinhole::posix {

class PosixUdp final : public port::Udp, private FdHandler {
public:
    static constexpr std::size_t max_sockets = PINHOLE_BUDGET_MAX_UDP_SOCKETS;
    static constexpr std::size_t max_datagram_bytes = 65535;
    static constexpr int max_datagrams_per_wake = 64;

    explicit PosixUdp(EventLoop& loop) noexcept : loop_(loop) {}
    PosixUdp(const PosixUdp&) = delete;
    PosixUdp& operator=(const PosixUdp&) = delete;
    ~PosixUdp();

    [[nodiscard]] Result<port::UdpSocketId> open(const net::Endpoint& local,
                                                 port::UdpReceiver& receiver) noexcept override;
    [[nodiscard]] Result<net::Endpoint> local_endpoint(port::UdpSocketId socket) noexcept override;
    [[nodiscard]] Status send(port::UdpSocketId socket, const net::Endpoint& to,
                              std::span<const std::uint8_t> payload) noexcept override;
    void close(port::UdpSocketId socket) noexcept override;

private:
    struct Socket {
        int fd = -1;
        int family = 0;
        port::UdpReceiver* receiver = nullptr;
    };
    void on_fd_events(int fd, std::uint32_t events) noexcept override;
    Socket* lookup(port::UdpSocketId socket) noexcept;

    EventLoop& loop_;
    std::array<Socket, max_sockets> sockets_{};
    std::array<std::uint8_t, max_datagram_bytes> receive_buffer_{};
};

}  // namespace pinhole::posix
