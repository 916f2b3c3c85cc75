// A host's TCP: reliable, ordered byte streams between hosts of the world. The network under
// them loses, duplicates, delays and reorders packets like it does datagrams; the model on top
// does what TCP does about it — retransmits with exponential backoff, drops duplicates, holds
// early packets until the gap fills — so no byte is lost, doubled or reordered, and the only
// visible effects are delay and, when a link stays cut, a timed-out connection.
//
// Flow control is a window: a sender puts a packet on the wire only while the reader's
// unread buffer has room for it and everything already in flight, so write() accepts only what
// fits in the sender's buffer and on_writable follows when space frees. ACKs and window
// updates travel back with the link's delay; they are never lost (TCP's persist timer would
// recover them, at the price of a model with no bearing on the core).
#pragma once

#include <array>
#include <cstdint>

#include "core/util/fixed_vector.h"
#include "core/util/ring_buffer.h"
#include "port/sim/event_queue.h"
#include "port/sim/limits.h"
#include "port/sim/slot_ids.h"
#include "port/tcp.h"

namespace pinhole::sim {

class Host;

// Sim only: a test server's side of listen(). Accepted connections are driven through the
// same HostTcp (read, write, close) as outgoing ones.
class TcpAcceptor {
public:
    // A connection arrived on the listening port. Return who gets its events, or nullptr to
    // refuse it (the connector sees Errc::refused).
    virtual port::TcpEvents* on_accept(port::TcpConnectionId connection,
                                       const net::Endpoint& from) noexcept = 0;

protected:
    ~TcpAcceptor() = default;
};

// Timing of the stream model, after Linux: RTO from 200 ms doubling up to 120 s, and
// tcp_retries2 = 15 retransmissions of one packet (~14 minutes) before timed_out.
inline constexpr std::uint32_t stream_retransmit_initial_ms = 200;
inline constexpr std::uint32_t stream_retransmit_max_ms = 120'000;
inline constexpr std::uint8_t stream_max_retransmissions = 15;
inline constexpr std::uint32_t connect_retransmit_initial_ms = 1000;
inline constexpr std::size_t max_stream_packets_in_flight = 16;  // per direction

class HostTcp final : public port::Tcp {
public:
    explicit HostTcp(Host& host) noexcept : host_(host) {}
    HostTcp(const HostTcp&) = delete;
    HostTcp& operator=(const HostTcp&) = delete;

    // Refused after the SYN's round trip when nothing listens on the port; timed_out after
    // the world's connect timeout when the host is unreachable (no such address, partition).
    // Errc::unreachable at once when this host has no address of the destination's family.
    [[nodiscard]] Result<port::TcpConnectionId> connect(const net::Endpoint& to,
                                                        port::TcpEvents& events) noexcept override;
    [[nodiscard]] Result<std::size_t> read(port::TcpConnectionId connection,
                                           std::span<std::uint8_t> out) noexcept override;
    // Errc::closed after shutdown_write (EPIPE).
    [[nodiscard]] Result<std::size_t> write(port::TcpConnectionId connection,
                                            std::span<const std::uint8_t> bytes) noexcept override;
    [[nodiscard]] Status shutdown_write(port::TcpConnectionId connection) noexcept override;
    // An orderly close still delivers what was written, then FIN. Closing with unread bytes
    // resets instead, as Linux does.
    void close(port::TcpConnectionId connection, bool reset) noexcept override;
    void set_events(port::TcpConnectionId connection, port::TcpEvents& events) noexcept override;
    // Listening through the port interface is not modelled: tests use listen(port, acceptor).
    [[nodiscard]] Result<port::TcpListenerId> listen(const net::Endpoint&, port::TcpListenEvents&) noexcept override {
        return Errc::unsupported;
    }
    [[nodiscard]] Result<net::Endpoint> listener_endpoint(port::TcpListenerId) noexcept override {
        return Errc::unsupported;
    }
    void close_listener(port::TcpListenerId) noexcept override {}

    // Sim only: accept connections to `port` on every address of the host.
    [[nodiscard]] Status listen(std::uint16_t port, TcpAcceptor& acceptor) noexcept;
    void stop_listening(std::uint16_t port) noexcept;

    // The world hands over stream events when they come due (faults already applied). Each
    // takes the event: releases, parks or reschedules it.
    void on_open_request(Event& syn) noexcept;
    void on_packet(Event& packet) noexcept;
    void on_reset(Event& reset) noexcept;
    void on_window(Event& window) noexcept;
    void on_writable_due(Event& notice) noexcept;
    void on_connect_deadline(Event& deadline) noexcept;
    // A packet of `source` (on this host) ran out of retransmissions.
    void on_retransmissions_exhausted(const StreamRef& source) noexcept;
    [[nodiscard]] bool is_connecting(const StreamRef& ref) const noexcept;
    // Whether a lost packet of a connection on this host is still worth sending again: not
    // when its sender is gone or a copy of it already arrived.
    [[nodiscard]] bool needs_retransmission(const Event& packet) noexcept;
    // Sends what the windows allow on every connection: after the event pool was full.
    void pump_all() noexcept;

private:
    using Ids = SlotIds<max_tcp_connections_per_host>;
    enum class Phase : std::uint8_t {
        free,
        connecting,
        open,
        lingering,  // closed by its owner; still sending what was written, then FIN
    };
    struct Connection {
        Phase phase = Phase::free;
        std::uint16_t generation = 0;
        port::TcpEvents* events = nullptr;
        StreamRef peer;  // the other end, known once open
        net::Endpoint local;
        net::Endpoint remote;
        ByteRing<stream_buffer_bytes> unsent;  // written, not yet in a packet
        ByteRing<stream_buffer_bytes> unread;  // delivered, not yet read
        // Sending: packets numbered from 0 (the accept, on the accepting side, then data, FIN).
        std::uint32_t next_packet_out = 0;
        std::uint32_t bytes_in_flight = 0;
        std::uint32_t packets_in_flight = 0;
        bool write_shut = false;
        bool fin_sent = false;
        bool writer_waiting = false;  // a short write: on_writable is owed
        bool writable_notice_pending = false;
        bool window_update_pending = false;
        // Receiving: packets that arrived ahead of a gap wait here until it fills.
        std::uint32_t next_packet_in = 0;
        bool fin_received = false;
        FixedVector<Event*, max_stream_packets_in_flight> parked;
    };
    struct Listener {
        std::uint16_t port = 0;
        TcpAcceptor* acceptor = nullptr;
    };

    [[nodiscard]] Connection* lookup(port::TcpConnectionId id) noexcept;
    [[nodiscard]] Connection* find(const StreamRef& ref) noexcept;
    [[nodiscard]] const Connection* find(const StreamRef& ref) const noexcept;
    [[nodiscard]] static Connection* find_anywhere(Host& any_host, const StreamRef& ref) noexcept;
    [[nodiscard]] StreamRef ref_of(const Connection& connection) const noexcept;
    [[nodiscard]] port::TcpConnectionId id_of(const Connection& connection) const noexcept;
    [[nodiscard]] Connection* allocate_connection() noexcept;
    void free_connection(Connection& connection) noexcept;
    [[nodiscard]] std::uint16_t pick_port() noexcept;
    void send_accept(Connection& connection, Event& accept) noexcept;

    void pump(Connection& sender) noexcept;
    void finish_if_done(Connection& connection) noexcept;
    void fill_packet(const Connection& sender, Event& packet) noexcept;
    [[nodiscard]] bool send_data_packet(Connection& sender, std::size_t window_bytes) noexcept;
    [[nodiscard]] bool send_fin(Connection& sender) noexcept;
    [[nodiscard]] std::size_t send_window_bytes(const Connection& sender) noexcept;
    void send_reset(HostIndex from_host, const StreamRef& to) noexcept;
    void request_window_update(const StreamRef& sender, HostIndex from_host) noexcept;
    void request_writable_notice(Connection& writer) noexcept;

    struct Arrival {
        bool connected = false;
        bool readable = false;
    };
    void take_in_order(Connection& receiver, Event& packet, Arrival& arrival) noexcept;
    void take_parked(Connection& receiver, Arrival& arrival) noexcept;
    void park(Connection& receiver, Event& packet) noexcept;
    void acknowledge(const Event& packet) noexcept;
    void notify_arrival(const StreamRef& receiver, const Arrival& arrival) noexcept;

    Host& host_;
    std::array<Connection, max_tcp_connections_per_host> connections_{};
    FixedVector<Listener, max_listeners_per_host> listeners_;
};

}  // namespace pinhole::sim
