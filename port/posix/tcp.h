// TCP on Linux: non-blocking connects and listeners, edge-triggered readiness (the core pulls
// bytes when it has room, so a connection it is not reading from costs nothing), half-close,
// reset. adopt() takes any connected stream socket (the node's Unix control connections).
#pragma once

#include <array>
#include <cstdint>

#include "board_budget.h"
#include "port/posix/event_loop.h"
#include "port/tcp.h"

namespace pinhole::posix {

class PosixTcp final : public port::Tcp, private FdHandler {
public:
    static constexpr std::size_t max_connections = PINHOLE_BUDGET_MAX_TCP_CONNECTIONS;
    // Pieces one write_gather passes on (more are left for the caller's next call).
    static constexpr std::size_t max_gather_pieces = 64;

    explicit PosixTcp(EventLoop& loop) noexcept : loop_(loop) {}
    PosixTcp(const PosixTcp&) = delete;
    PosixTcp& operator=(const PosixTcp&) = delete;
    ~PosixTcp();

    [[nodiscard]] Result<port::TcpConnectionId> connect(const net::Endpoint& to,
                                                        port::TcpEvents& events) noexcept override;
    [[nodiscard]] Result<std::size_t> read(port::TcpConnectionId connection,
                                           std::span<std::uint8_t> out) noexcept override;
    [[nodiscard]] Result<std::size_t> write(port::TcpConnectionId connection,
                                            std::span<const std::uint8_t> bytes) noexcept override;
    [[nodiscard]] Result<std::size_t> write_gather(
        port::TcpConnectionId connection,
        std::span<const std::span<const std::uint8_t>> pieces) noexcept override;
    [[nodiscard]] Status shutdown_write(port::TcpConnectionId connection) noexcept override;
    void close(port::TcpConnectionId connection, bool reset) noexcept override;
    void set_events(port::TcpConnectionId connection, port::TcpEvents& events) noexcept override;
    [[nodiscard]] Result<port::TcpListenerId> listen(const net::Endpoint& at,
                                                     port::TcpListenEvents& events) noexcept override;
    [[nodiscard]] Result<net::Endpoint> listener_endpoint(port::TcpListenerId listener) noexcept override;
    void close_listener(port::TcpListenerId listener) noexcept override;

    // A connected stream socket (TCP or Unix) becomes a connection; it is ours to close, also on
    // failure. Posix only.
    [[nodiscard]] Result<port::TcpConnectionId> adopt(int fd, port::TcpEvents& events) noexcept;

private:
    static constexpr std::size_t max_listeners = 8;
    struct Listener {
        int fd = -1;
        port::TcpListenEvents* events = nullptr;
    };
    // Listeners watch the same loop through this small relay (one FdHandler per object).
    struct ListenerHandler final : FdHandler {
        explicit ListenerHandler(PosixTcp& tcp) noexcept : owner(tcp) {}
        void on_fd_events(int fd, std::uint32_t events) noexcept override;
        PosixTcp& owner;
    };
    void accept_pending(std::size_t listener_index) noexcept;
    [[nodiscard]] Result<port::TcpConnectionId> add_connection(int fd, bool connected,
                                                               port::TcpEvents* events) noexcept;

    struct Connection {
        int fd = -1;
        bool connected = false;
        port::TcpEvents* events = nullptr;
    };
    void on_fd_events(int fd, std::uint32_t events) noexcept override;
    void finish_connect(port::TcpConnectionId id) noexcept;
    void fail(port::TcpConnectionId id, Errc reason) noexcept;
    Connection* lookup(port::TcpConnectionId id) noexcept;

    EventLoop& loop_;
    std::array<Connection, max_connections> connections_{};
    std::array<Listener, max_listeners> listeners_{};
    ListenerHandler listener_handler_{*this};
};

}  // namespace pinhole::posix
