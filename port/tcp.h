// TCP connections: outgoing (to the gateway, to services behind an agent) and accepted ones (a
// client node's `forward` listener). Reads are pulled, so the core reads only as fast as it can
// pass bytes on: that is its flow control.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::port {

using TcpConnectionId = std::uint16_t;
using TcpListenerId = std::uint16_t;

class TcpEvents {
public:
    // The connect finished: Errc::ok, or refused / unreachable / timed_out.
    virtual void on_connected(TcpConnectionId connection, Errc result) noexcept = 0;
    // Bytes (or the peer's end of stream, which read() reports as 0) are waiting.
    virtual void on_readable(TcpConnectionId connection) noexcept = 0;
    // A write that returned fewer bytes than asked may be retried now.
    virtual void on_writable(TcpConnectionId connection) noexcept = 0;
    // The connection failed or was reset; the id is already released.
    virtual void on_closed(TcpConnectionId connection, Errc reason) noexcept = 0;

protected:
    ~TcpEvents() = default;
};

class TcpListenEvents {
public:
    // A connection arrived. It has no event handler yet: give it one with Tcp::set_events
    // before returning (its readiness is reported from then on), or close it.
    virtual void on_accepted(TcpListenerId listener, TcpConnectionId connection,
                             const net::Endpoint& from) noexcept = 0;

protected:
    ~TcpListenEvents() = default;
};

class Tcp {
public:
    [[nodiscard]] virtual Result<TcpConnectionId> connect(const net::Endpoint& to,
                                                          TcpEvents& events) noexcept = 0;
    // Bytes read into `out`; 0 means the peer finished sending; Errc::would_block if none yet.
    [[nodiscard]] virtual Result<std::size_t> read(TcpConnectionId connection,
                                                   std::span<std::uint8_t> out) noexcept = 0;
    // Bytes accepted (possibly fewer than given; on_writable follows); Errc::would_block if none.
    [[nodiscard]] virtual Result<std::size_t> write(TcpConnectionId connection,
                                                    std::span<const std::uint8_t> bytes) noexcept = 0;
    // Writes `pieces` in order as one write where the port can (writev): the same result as
    // write() of their concatenation. The default writes them one by one.
    [[nodiscard]] virtual Result<std::size_t> write_gather(
        TcpConnectionId connection, std::span<const std::span<const std::uint8_t>> pieces) noexcept {
        std::size_t total = 0;
        for (const std::span<const std::uint8_t> piece : pieces) {
            const Result<std::size_t> written = write(connection, piece);
            if (!written.ok()) return total > 0 ? Result<std::size_t>(total) : written;
            total += written.value();
            if (written.value() < piece.size()) break;
        }
        return total;
    }
    // Half-close: we send no more; reading goes on.
    [[nodiscard]] virtual Status shutdown_write(TcpConnectionId connection) noexcept = 0;
    // Releases the id. `reset` sends RST instead of an orderly close.
    virtual void close(TcpConnectionId connection, bool reset) noexcept = 0;
    // Hands a connection's events to another handler (an accepted one, or a stream taking over).
    virtual void set_events(TcpConnectionId connection, TcpEvents& events) noexcept = 0;

    // Accepts connections at `at` (port 0: any free port). Errc::unsupported where the port
    // offers no listening sockets.
    [[nodiscard]] virtual Result<TcpListenerId> listen(const net::Endpoint& at,
                                                       TcpListenEvents& events) noexcept = 0;
    // Where a listener listens (the port chosen for port 0).
    [[nodiscard]] virtual Result<net::Endpoint> listener_endpoint(TcpListenerId listener) noexcept = 0;
    virtual void close_listener(TcpListenerId listener) noexcept = 0;

protected:
    ~Tcp() = default;
};

}  // namespace pinhole::port
