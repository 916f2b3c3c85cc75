// An in-memory port::Tcp for unit tests and fuzzers of code that works on accepted connections:
// the test opens a connection (as a listener would have accepted it), fills what the peer sent,
// ends the peer's stream, inspects what was written, and delivers the events by hand. No
// GoogleTest here (fuzzers include it): misuse (touching an id that is not open) is counted.
//
// Ids are reused as a real port reuses them: open() takes the lowest id (from 1) that is not
// open, and forgets what that id's previous connection did.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <limits>
#include <span>
#include <vector>

#include "port/tcp.h"

namespace pinhole::fakes {

class FakeTcp final : public port::Tcp {
public:
    static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

    struct Connection {
        bool open = false;                    // the id is held (not closed, not failed)
        port::TcpEvents* events = nullptr;    // the last set_events
        std::deque<std::uint8_t> input;       // what the peer sent and nobody read yet
        bool peer_finished = false;           // read() returns 0 once `input` is empty
        std::vector<std::uint8_t> output;     // everything write() took
        std::size_t write_room = unlimited;   // bytes write() still takes; 0: would_block
        std::size_t read_limit = unlimited;   // most bytes one read() returns
        bool closed = false;                  // close() was called
        bool reset = false;                   // ... with reset
        bool failed = false;                  // fail() released it (on_closed)
        int reads = 0;
    };

    // A new connection, as accepted: no handler yet.
    port::TcpConnectionId open() {
        const port::TcpConnectionId id = next_id();
        if (id == connections.size()) connections.emplace_back();
        connections[id] = Connection{};
        connections[id].open = true;
        return id;
    }
    // The id open() takes next.
    [[nodiscard]] port::TcpConnectionId next_id() const {
        std::size_t id = 1;
        while (id < connections.size() && connections[id].open) id++;
        return static_cast<port::TcpConnectionId>(id);
    }

    void feed(port::TcpConnectionId id, std::span<const std::uint8_t> bytes) {
        Connection& connection = connections.at(id);
        connection.input.insert(connection.input.end(), bytes.begin(), bytes.end());
    }
    void feed(port::TcpConnectionId id, std::initializer_list<std::uint8_t> bytes) {
        feed(id, std::span(bytes.begin(), bytes.size()));
    }
    // The peer's FIN: read() returns 0 once what it sent is read.
    void finish(port::TcpConnectionId id) { connections.at(id).peer_finished = true; }

    // Delivers on_readable to the handler, if the connection is open and has one.
    void readable(port::TcpConnectionId id) {
        if (!is_open(id) || connections[id].events == nullptr) return;
        connections[id].events->on_readable(id);
    }
    // The connection fails (a reset from the peer): the id is released, then on_closed.
    void fail(port::TcpConnectionId id, Errc reason = Errc::closed) {
        if (!is_open(id)) return;
        Connection& connection = connections[id];
        connection.open = false;
        connection.failed = true;
        if (connection.events != nullptr) connection.events->on_closed(id, reason);
    }

    [[nodiscard]] bool is_open(port::TcpConnectionId id) const { return id < connections.size() && connections[id].open; }
    // A connection this fake opened (open or not any more).
    [[nodiscard]] bool knows(port::TcpConnectionId id) const { return id >= 1 && id < connections.size(); }
    Connection& at(port::TcpConnectionId id) { return connections.at(id); }
    [[nodiscard]] std::size_t open_count() const {
        return static_cast<std::size_t>(
            std::count_if(connections.begin(), connections.end(), [](const Connection& c) { return c.open; }));
    }
    // Unread bytes as a vector, for comparisons.
    [[nodiscard]] std::vector<std::uint8_t> unread(port::TcpConnectionId id) const {
        const Connection& connection = connections.at(id);
        return {connection.input.begin(), connection.input.end()};
    }

    // ---- port::Tcp ----
    Result<port::TcpConnectionId> connect(const net::Endpoint&, port::TcpEvents&) noexcept override {
        return Errc::unsupported;
    }
    Result<std::size_t> read(port::TcpConnectionId id, std::span<std::uint8_t> out) noexcept override {
        if (!is_open(id)) {
            misuse++;
            return Errc::invalid_argument;
        }
        Connection& connection = connections[id];
        connection.reads++;
        if (connection.input.empty()) return connection.peer_finished ? Result<std::size_t>(0) : Errc::would_block;
        const std::size_t length = std::min({out.size(), connection.input.size(), connection.read_limit});
        if (length == 0) return Errc::would_block;  // out empty or read_limit 0
        std::copy_n(connection.input.begin(), length, out.begin());
        connection.input.erase(connection.input.begin(), connection.input.begin() + static_cast<std::ptrdiff_t>(length));
        return length;
    }
    Result<std::size_t> write(port::TcpConnectionId id, std::span<const std::uint8_t> bytes) noexcept override {
        if (!is_open(id)) {
            misuse++;
            return Errc::invalid_argument;
        }
        Connection& connection = connections[id];
        const std::size_t length = std::min(bytes.size(), connection.write_room);
        if (length == 0) return Errc::would_block;
        connection.output.insert(connection.output.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
        if (connection.write_room != unlimited) connection.write_room -= length;
        return length;
    }
    Status shutdown_write(port::TcpConnectionId id) noexcept override {
        if (!is_open(id)) {
            misuse++;
            return Errc::invalid_argument;
        }
        return {};
    }
    void close(port::TcpConnectionId id, bool reset) noexcept override {
        if (!is_open(id)) {
            misuse++;
            return;
        }
        Connection& connection = connections[id];
        connection.open = false;
        connection.closed = true;
        connection.reset = reset;
    }
    void set_events(port::TcpConnectionId id, port::TcpEvents& events) noexcept override {
        if (!is_open(id)) {
            misuse++;
            return;
        }
        connections[id].events = &events;
    }
    Result<port::TcpListenerId> listen(const net::Endpoint&, port::TcpListenEvents&) noexcept override {
        return Errc::unsupported;
    }
    Result<net::Endpoint> listener_endpoint(port::TcpListenerId) noexcept override { return Errc::unsupported; }
    void close_listener(port::TcpListenerId) noexcept override {}

    std::vector<Connection> connections = std::vector<Connection>(1);  // by id; id 0 is never used
    int misuse = 0;  // calls on an id that is not open
};

}  // namespace pinhole::fakes
