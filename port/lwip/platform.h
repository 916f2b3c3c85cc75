// The bare-metal port: lwIP is the system stack, the board gives time, entropy and a console.
// In this version it offers the clock, random bytes, logging and UDP; TCP, name resolution,
// interface addresses and storage answer Errc::unsupported until the board's Ethernet driver
// and flash storage land (see port/lwip/README.md).
#pragma once

#include <array>
#include <cstdint>

#include "board_budget.h"
#include "port/platform.h"

struct udp_pcb;
struct pbuf;

namespace pinhole::lwip_port {

class BoardClock final : public port::Clock {
public:
    [[nodiscard]] std::uint32_t monotonic_ms() noexcept override;
    // No RTC on these boards: the epoch, which core/time/wall_clock.h lifts to its floor.
    [[nodiscard]] port::WallTime wall_time() noexcept override { return {}; }
};

class BoardRandom final : public port::Random {
public:
    [[nodiscard]] Status fill(std::span<std::uint8_t> out) noexcept override;
};

class ConsoleLog final : public port::LogSink {
public:
    void write(port::LogLevel level, std::string_view line) noexcept override;
};

class LwipUdp final : public port::Udp {
public:
    static constexpr std::size_t max_sockets = PINHOLE_BUDGET_MAX_UDP_SOCKETS;
    static constexpr std::size_t max_datagram_bytes = 2048;

    LwipUdp() noexcept = default;
    LwipUdp(const LwipUdp&) = delete;
    LwipUdp& operator=(const LwipUdp&) = delete;

    [[nodiscard]] Result<port::UdpSocketId> open(const net::Endpoint& local,
                                                 port::UdpReceiver& receiver) noexcept override;
    [[nodiscard]] Result<net::Endpoint> local_endpoint(port::UdpSocketId socket) noexcept override;
    [[nodiscard]] Status send(port::UdpSocketId socket, const net::Endpoint& to,
                              std::span<const std::uint8_t> payload) noexcept override;
    void close(port::UdpSocketId socket) noexcept override;

    // What lwIP's receive callback gets as its argument: which socket of which LwipUdp.
    struct Binding {
        udp_pcb* pcb = nullptr;
        port::UdpReceiver* receiver = nullptr;
        LwipUdp* owner = nullptr;
        port::UdpSocketId id = 0;
    };
    // Called from that callback: hands one datagram to the socket's receiver.
    void deliver(const Binding& binding, pbuf* packet, const net::Endpoint& from) noexcept;

private:
    std::array<Binding, max_sockets> sockets_{};
    std::array<std::uint8_t, max_datagram_bytes> receive_buffer_{};
};

// Services this port does not offer yet: each call answers Errc::unsupported.
class Unsupported final : public port::Tcp,
                          public port::Resolver,
                          public port::Interfaces,
                          public port::Storage {
public:
    [[nodiscard]] Result<port::TcpConnectionId> connect(const net::Endpoint&, port::TcpEvents&) noexcept override;
    [[nodiscard]] Result<std::size_t> read(port::TcpConnectionId, std::span<std::uint8_t>) noexcept override;
    [[nodiscard]] Result<std::size_t> write(port::TcpConnectionId, std::span<const std::uint8_t>) noexcept override;
    [[nodiscard]] Status shutdown_write(port::TcpConnectionId) noexcept override;
    void close(port::TcpConnectionId, bool) noexcept override {}
    void set_events(port::TcpConnectionId, port::TcpEvents&) noexcept override {}
    [[nodiscard]] Result<port::TcpListenerId> listen(const net::Endpoint&, port::TcpListenEvents&) noexcept override;
    [[nodiscard]] Result<net::Endpoint> listener_endpoint(port::TcpListenerId) noexcept override;
    void close_listener(port::TcpListenerId) noexcept override {}
    [[nodiscard]] Result<port::ResolveId> resolve(std::string_view, net::Family, port::ResolveEvents&) noexcept override;
    void cancel(port::ResolveId) noexcept override {}
    [[nodiscard]] Result<std::size_t> local_addresses(std::span<net::IpAddress>) noexcept override;
    [[nodiscard]] Result<std::size_t> read(std::string_view, port::Secrecy, std::span<std::uint8_t>) noexcept override;
    [[nodiscard]] Status write(std::string_view, port::Secrecy, std::span<const std::uint8_t>) noexcept override;
};

class LwipPlatform {
public:
    [[nodiscard]] port::Platform platform() noexcept {
        return port::Platform{clock_, random_, udp_, unsupported_, unsupported_,
                              unsupported_, unsupported_, log_};
    }

private:
    BoardClock clock_;
    BoardRandom random_;
    LwipUdp udp_;
    Unsupported unsupported_;
    ConsoleLog log_;
};

}  // namespace pinhole::lwip_port
