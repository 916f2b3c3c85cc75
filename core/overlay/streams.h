// Streams (DESIGN §1 "Proxy, not VPN"): each one joins an overlay TCP connection (lwIP) to a
// real one (port::Tcp) and pumps bytes both ways with flow control and no unbounded buffer.
//
// Two ways in:
//  - exit: a peer's SYN to any destination is held (never shown to lwIP), the ExitPolicy
//    decides, the real connection is opened through the port, and only then is the SYN handed
//    to lwIP — through a listener made for that destination — so the peer's handshake completes
//    only when the service really answered. A refusal or a failed connect answers RST at once.
//  - dial: a client command's local connection (a `forward` listener's or `connect`'s socket)
//    becomes an overlay connection to a peer (bound to its netif); the DialEvents hear the result
//    before any byte moves, so `connect` can answer its command first.
//
// Flow control: overlay -> socket bytes stay in lwIP's pbufs until the socket takes them, and
// only then reopen lwIP's window (tcp_recved). socket -> overlay: a socket is read only as far as
// lwIP's send buffer has room; the `sent` callback resumes it. Each stream holds at most one
// chunk of its own (stream_chunk_bytes), so memory is the budget's: max streams x (window +
// chunk), counted at compile time. FIN and RST propagate both ways; idle streams are reset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <lwip/tcp.h>

#include "board_budget.h"
#include "core/acl/acl.h"
#include "core/net/address.h"
#include "core/overlay/overlay_stack.h"
#include "core/overlay/refusal.h"
#include "core/util/log.h"
#include "core/util/result.h"
#include "port/clock.h"
#include "port/resolver.h"
#include "port/tcp.h"

namespace pinhole::overlay {

using StreamId = std::uint16_t;

inline constexpr std::size_t max_streams = PINHOLE_BUDGET_MAX_STREAMS;
// What a stream reads from its socket at once, and may hold when lwIP cannot take it yet.
// Large on Linux (one read per 64 KiB, not per 16), small on microcontrollers: the board says.
inline constexpr std::size_t stream_chunk_bytes = PINHOLE_BUDGET_STREAM_CHUNK_BYTES;
static_assert(stream_chunk_bytes > 0 && stream_chunk_bytes <= PINHOLE_BUDGET_TCP_WINDOW_BYTES,
              "a stream's chunk is at most its window");
// A held SYN: IPv6 (40) + TCP with every option (60), and room for a few bytes of data.
inline constexpr std::size_t max_held_syn_bytes = 160;

struct StreamSettings {
    std::uint32_t connect_timeout_ms = 10'000;  // a held SYN or a dial gives up after this
    std::uint32_t idle_timeout_ms = 3'600'000;  // no byte either way for this long: reset
};

struct StreamCounters {
    std::uint64_t exit_opened = 0;          // real connection made, the peer's SYN let through
    std::uint64_t exit_refused_by_policy = 0;
    std::uint64_t exit_connect_failed = 0;  // the destination refused, was unreachable or silent
    std::uint64_t exit_resolve_failed = 0;
    std::uint64_t exit_duplicate_syn = 0;   // a retransmitted SYN while we were connecting
    std::uint64_t exit_malformed_syn = 0;
    std::uint64_t refused_stream_limit = 0;  // every stream slot busy (exit and dial)
    std::uint64_t dial_opened = 0;
    std::uint64_t dial_failed = 0;
    std::uint64_t reset_by_overlay = 0;  // the overlay peer reset or lwIP gave up
    std::uint64_t reset_by_socket = 0;   // the real socket failed or was reset
    std::uint64_t idle_timeouts = 0;
    std::uint64_t closed_cleanly = 0;
    std::uint64_t bytes_to_socket = 0;
    std::uint64_t bytes_to_overlay = 0;
};

// Decides what a peer's new flow may reach (the node's access lists, core/acl).
class ExitPolicy {
public:
    [[nodiscard]] virtual acl::Decision decide(PeerId peer, const net::Endpoint& destination) noexcept = 0;

protected:
    ~ExitPolicy() = default;
};

class DialEvents {
public:
    // The overlay connection is open (Errc::ok: the stream takes the local connection over
    // when this returns, so write any greeting to it now) or failed, with the agent's reason
    // when its reset named one (core/overlay/refusal.h): permission (its access list), refused
    // (the destination refused), unreachable, timed_out, no_space (busy); a reset without a
    // reason is refused. The local connection stays the caller's.
    virtual void on_dialed(StreamId stream, Errc result) noexcept = 0;

protected:
    ~DialEvents() = default;
};

class StreamTable final : public port::TcpEvents,
                          public port::ResolveEvents,
                          private OverlayInterceptor {
public:
    struct Ports {
        port::Tcp& tcp;
        port::Resolver& resolver;
        port::Clock& clock;
    };
    StreamTable(OverlayStack& overlay, Ports ports, ExitPolicy& policy, const Logger& logger,
                const StreamSettings& settings) noexcept;
    StreamTable(const StreamTable&) = delete;
    StreamTable& operator=(const StreamTable&) = delete;
    ~StreamTable();

    // Opens an overlay connection to `destination` through `peer` for `local` (a connected
    // port::Tcp connection the caller owns until on_dialed(ok)).
    [[nodiscard]] Result<StreamId> dial(PeerId peer, const net::Endpoint& destination,
                                        port::TcpConnectionId local, DialEvents& events) noexcept;
    // Forgets a dial still in progress (its caller went away); the local connection is the
    // caller's to close.
    void cancel_dial(StreamId stream) noexcept;

    // Deadlines: connects, handshakes, idle streams. Call at least once a second.
    void tick() noexcept;
    // Deferred socket writes: what the overlay delivers waits for flush_sockets(), which a
    // node's loop calls once a turn, so a turn's segments reach a socket in one write (and
    // wake its reader once) instead of one write per segment. Off: each segment is written
    // as it arrives.
    void set_deferred_socket_writes(bool enabled) noexcept { defer_socket_writes_ = enabled; }
    void flush_sockets() noexcept;

    // Whether a packet from `source` through `peer` answers a dial of ours (a host behind an
    // agent): WireGuard accepts such a source only for flows this node opened.
    [[nodiscard]] bool expects_source(PeerId peer, const net::IpAddress& source) const noexcept;

    [[nodiscard]] std::size_t open_streams() const noexcept;
    [[nodiscard]] const StreamCounters& counters() const noexcept { return counters_; }

    // port::TcpEvents, port::ResolveEvents
    void on_connected(port::TcpConnectionId connection, Errc result) noexcept override;
    void on_readable(port::TcpConnectionId connection) noexcept override;
    void on_writable(port::TcpConnectionId connection) noexcept override;
    void on_closed(port::TcpConnectionId connection, Errc reason) noexcept override;
    void on_resolved(port::ResolveId id, Errc result, std::span<const net::IpAddress> addresses) noexcept override;

private:
    enum class Phase : std::uint8_t {
        free,
        resolving,    // exit: the service's host name
        connecting,   // exit: the real connect is under way; the SYN is held
        handshaking,  // exit: lwIP has the SYN; waiting for the peer's ACK (accept)
        dialing,      // dial: lwIP's connect is under way
        open,
    };
    struct Stream {
        StreamTable* table = nullptr;
        Phase phase = Phase::free;
        bool dialed = false;  // opened by dial(), not by a peer's SYN
        PeerId peer = 0;
        netif* peer_netif = nullptr;
        tcp_pcb* pcb = nullptr;
        bool has_socket = false;
        port::TcpConnectionId socket = 0;
        port::ResolveId resolve = 0;
        DialEvents* dial_events = nullptr;
        net::Endpoint remote;  // the overlay peer's end (exit) or the dialled destination
        net::Endpoint local;   // the destination the peer asked for (exit) / unused (dial)
        std::uint16_t target_port = 0;
        std::uint32_t deadline_ms = 0;
        std::uint32_t last_activity_ms = 0;
        // From the overlay, not yet taken by the socket: linked through `next` only (appending
        // with pbuf_cat would walk the chain and fix every tot_len, O(chain) per segment; only
        // each pbuf's len is read here).
        pbuf* to_socket = nullptr;
        pbuf* to_socket_tail = nullptr;  // its last pbuf, when to_socket is not null
        bool socket_readable = false;
        bool overlay_finished = false;  // the peer sent FIN
        bool socket_write_due = false;  // to_socket holds bytes flush_sockets() writes
        bool socket_finished = false;   // the socket reported end of stream
        bool socket_write_shut = false;
        std::array<std::uint8_t, max_held_syn_bytes> syn{};
        std::uint16_t syn_bytes = 0;
        std::optional<Refusal> refusal;  // dial: the reason the agent's reset gave
        bool proxy_v2 = false;           // exit: the service wants a PROXY v2 header first
        std::array<std::uint8_t, stream_chunk_bytes> chunk{};
        std::uint32_t chunk_offset = 0;
        std::uint32_t chunk_bytes = 0;  // read from the socket, not yet taken by lwIP
    };
    // A listener made for one exit destination; held SYNs to it share it until accepted.
    struct ExitListener {
        tcp_pcb* pcb = nullptr;
        netif* peer_netif = nullptr;
        net::Endpoint local;
        std::uint16_t users = 0;
    };

    // OverlayInterceptor: SYNs to any destination are ours first.
    [[nodiscard]] bool intercept(PeerId peer, netif* peer_netif,
                                 std::span<const std::uint8_t> ip_packet) noexcept override;
    void start_exit(Stream& stream, const acl::Decision& decision) noexcept;
    void connect_exit(Stream& stream, const net::Endpoint& target) noexcept;
    void release_held_syn(Stream& stream) noexcept;
    void refuse(netif* peer_netif, const net::Endpoint& from, const net::Endpoint& to,
                std::span<const std::uint8_t> syn, Refusal why) noexcept;
    void refuse_held(Stream& stream, Refusal why) noexcept;
    void note_refusal(PeerId peer, const net::Endpoint& from, std::uint16_t local_port,
                      std::span<const std::uint8_t> payload) noexcept;
    [[nodiscard]] ExitListener* listener_for(netif* peer_netif, const net::Endpoint& local) noexcept;
    void drop_listener_user(netif* peer_netif, const net::Endpoint& local) noexcept;
    static err_t on_exit_accepted(void* arg, tcp_pcb* pcb, err_t error) noexcept;
    static err_t on_dial_connected(void* arg, tcp_pcb* pcb, err_t error) noexcept;

    void open(Stream& stream, tcp_pcb* pcb) noexcept;
    static err_t on_overlay_received(void* arg, tcp_pcb* pcb, pbuf* data, err_t error) noexcept;
    static err_t on_overlay_sent(void* arg, tcp_pcb* pcb, std::uint16_t length_bytes) noexcept;
    static void on_overlay_error(void* arg, err_t error) noexcept;
    using GatherPiece = std::span<const std::uint8_t>;
    static constexpr std::size_t max_gather_pieces = 64;  // pbufs per socket write
    static std::size_t gather_pieces(const pbuf* chain, std::span<GatherPiece> pieces) noexcept;
    static pbuf* drop_front(pbuf* chain, std::size_t bytes) noexcept;
    static void append_to_socket(Stream& stream, pbuf* data) noexcept;
    void flush_to_socket(Stream& stream) noexcept;
    void pump_to_overlay(Stream& stream) noexcept;
    [[nodiscard]] bool push_chunk(Stream& stream) noexcept;
    void finish_if_done(Stream& stream) noexcept;
    void fail_dial(Stream& stream, Errc result) noexcept;
    [[nodiscard]] bool send_proxy_header(Stream& stream) noexcept;
    void reset(Stream& stream, bool by_overlay) noexcept;
    void release(Stream& stream) noexcept;

    [[nodiscard]] Stream* allocate() noexcept;
    [[nodiscard]] Stream* find_socket(port::TcpConnectionId connection) noexcept;
    [[nodiscard]] Stream* find_exit(PeerId peer, const net::Endpoint& from, const net::Endpoint& to) noexcept;
    [[nodiscard]] StreamId id_of(const Stream& stream) const noexcept;
    [[nodiscard]] std::uint32_t now_ms() const noexcept { return ports_.clock.monotonic_ms(); }

    OverlayStack& overlay_;
    Ports ports_;
    ExitPolicy& policy_;
    const Logger& logger_;
    StreamSettings settings_;
    StreamCounters counters_;
    bool defer_socket_writes_ = false;
    std::array<Stream, max_streams> streams_{};
    std::array<ExitListener, max_streams> listeners_{};
    // The pcb we last aborted: an lwIP callback must then answer ERR_ABRT. Cleared when a
    // callback starts, as lwIP may hand the same memory to a new pcb later.
    tcp_pcb* aborted_ = nullptr;
};

}  // namespace pinhole::overlay
