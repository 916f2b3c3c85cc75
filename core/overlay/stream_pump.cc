// The pump of an open stream (core/overlay/streams.h): bytes both ways with flow control,
// FIN and RST both ways, deadlines, and the slot bookkeeping.
#include <algorithm>

#include <lwip/pbuf.h>
#include <lwip/tcp.h>

#include "core/overlay/streams.h"
#include "core/proxy/proxy_protocol.h"
#include "core/util/time.h"

namespace pinhole::overlay {
namespace {

// Rounds per call, each a pbuf written or a chunk moved. A pump runs until the other side is
// full (its readiness event or lwIP's `sent` callback resumes it): stopping early while both
// sides could go on would wait for an event that never comes (edge-triggered sockets). So the
// bounds are what the budget allows, not a fairness quantum: a chain holds at most the pbuf
// pool, and each round moves at least one byte into lwIP's send buffer.
constexpr std::size_t max_flush_rounds = PBUF_POOL_SIZE + 1;
constexpr std::size_t max_pump_rounds = TCP_SND_BUF + 1;
// Segments lwIP may queue per connection (TCP_SND_QUEUELEN); keep a little back for its FIN.
constexpr u16_t queue_headroom_segments = 4;

}  // namespace

void StreamTable::open(Stream& stream, tcp_pcb* pcb) noexcept {
    stream.phase = Phase::open;
    stream.pcb = pcb;
    stream.last_activity_ms = now_ms();
    tcp_arg(pcb, &stream);
    tcp_recv(pcb, &StreamTable::on_overlay_received);
    tcp_sent(pcb, &StreamTable::on_overlay_sent);
    tcp_err(pcb, &StreamTable::on_overlay_error);
    tcp_nagle_disable(pcb);  // we pass on what the socket gives: interactive ssh must not wait
    stream.socket_readable = true;  // edge-triggered: bytes (ssh's banner) may be waiting already
    pump_to_overlay(stream);
}

err_t StreamTable::on_overlay_received(void* arg, tcp_pcb* pcb, pbuf* data, err_t error) noexcept {
    auto& stream = *static_cast<Stream*>(arg);
    StreamTable& table = *stream.table;
    table.aborted_ = nullptr;
    if (data == nullptr) {
        stream.overlay_finished = true;
    } else if (error != ERR_OK) {
        pbuf_free(data);
        return ERR_OK;
    } else {
        append_to_socket(stream, data);  // bounded by the window we have not reopened
    }
    if (data != nullptr && table.defer_socket_writes_) {
        stream.socket_write_due = true;  // flush_sockets() writes the turn's bytes at once
        return ERR_OK;
    }
    table.flush_to_socket(stream);
    return table.aborted_ == pcb ? ERR_ABRT : ERR_OK;
}

err_t StreamTable::on_overlay_sent(void* arg, tcp_pcb* pcb, std::uint16_t /*length_bytes*/) noexcept {
    auto& stream = *static_cast<Stream*>(arg);
    StreamTable& table = *stream.table;
    table.aborted_ = nullptr;
    stream.last_activity_ms = table.now_ms();
    table.pump_to_overlay(stream);
    return table.aborted_ == pcb ? ERR_ABRT : ERR_OK;
}

// lwIP freed the pcb: the peer reset it, or lwIP gave up (retransmissions, a failed dial).
void StreamTable::on_overlay_error(void* arg, err_t error) noexcept {
    if (arg == nullptr) return;
    auto& stream = *static_cast<Stream*>(arg);
    StreamTable& table = *stream.table;
    stream.pcb = nullptr;
    if (stream.phase == Phase::dialing) {
        const Errc result = error != ERR_RST ? Errc::timed_out
                            : stream.refusal ? dial_error_for(*stream.refusal) : Errc::refused;
        table.fail_dial(stream, result);
        return;
    }
    table.counters_.reset_by_overlay++;
    table.reset(stream, true);
}

// Up to `pieces.size()` of the chain's non-empty pbufs, in order; how many were filled.
std::size_t StreamTable::gather_pieces(const pbuf* chain, std::span<GatherPiece> pieces) noexcept {
    std::size_t count = 0;
    for (const pbuf* p = chain; p != nullptr && count < pieces.size(); p = p->next) {
        if (p->len > 0) pieces[count++] = {static_cast<const std::uint8_t*>(p->payload), p->len};
    }
    return count;
}

void StreamTable::append_to_socket(Stream& stream, pbuf* data) noexcept {
    if (stream.to_socket == nullptr) {
        stream.to_socket = data;
    } else {
        stream.to_socket_tail->next = data;
    }
    pbuf* tail = data;
    for (std::size_t round = 0; round < max_flush_rounds && tail->next != nullptr; round++) tail = tail->next;
    stream.to_socket_tail = tail;
}

// Frees the chain's first `bytes` and the empty pbufs they leave at its front; returns the rest.
pbuf* StreamTable::drop_front(pbuf* chain, std::size_t bytes) noexcept {
    for (std::size_t round = 0; round < max_flush_rounds && chain != nullptr; round++) {
        if (bytes < chain->len) {
            if (bytes > 0) (void)pbuf_remove_header(chain, bytes);
            break;
        }
        bytes -= chain->len;
        pbuf* done = chain;
        chain = chain->next;
        done->next = nullptr;  // the chain's reference passes to the next pbuf
        pbuf_free(done);
    }
    return chain;
}

// The overlay's bytes go to the socket a batch of pbufs per write (one writev where the port
// has it): one system call per window's worth, not per segment.
void StreamTable::flush_to_socket(Stream& stream) noexcept {
    for (std::size_t round = 0; round < max_flush_rounds && stream.to_socket != nullptr; round++) {
        std::array<GatherPiece, max_gather_pieces> pieces;
        const std::size_t count = gather_pieces(stream.to_socket, pieces);
        std::size_t offered = 0;
        for (std::size_t i = 0; i < count; i++) offered += pieces[i].size();
        std::size_t taken = 0;
        if (count > 0) {
            const Result<std::size_t> written =
                ports_.tcp.write_gather(stream.socket, std::span(pieces).first(count));
            if (!written.ok() && written.error() == Errc::would_block) break;  // on_writable resumes
            if (!written.ok()) {
                counters_.reset_by_socket++;
                reset(stream, false);
                return;
            }
            taken = written.value();
            counters_.bytes_to_socket += taken;
            stream.last_activity_ms = now_ms();
            for (std::size_t left = taken; left > 0;) {  // only now: the window is our buffer
                const auto opened = static_cast<u16_t>(std::min<std::size_t>(left, 0xFFFF));
                tcp_recved(stream.pcb, opened);
                left -= opened;
            }
        }
        stream.to_socket = drop_front(stream.to_socket, taken);
        if (taken < offered) break;  // the socket is full
    }
    if (stream.to_socket == nullptr && stream.overlay_finished && !stream.socket_write_shut) {
        stream.socket_write_shut = true;
        (void)ports_.tcp.shutdown_write(stream.socket);  // a failure shows as on_closed
    }
    finish_if_done(stream);
}

void StreamTable::pump_to_overlay(Stream& stream) noexcept {
    for (std::size_t round = 0; round < max_pump_rounds; round++) {
        if (stream.chunk_bytes > 0 && !push_chunk(stream)) break;  // lwIP is full: `sent` resumes
        if (!stream.socket_readable || stream.socket_finished) break;
        const Result<std::size_t> got = ports_.tcp.read(stream.socket, stream.chunk);
        if (!got.ok() && got.error() == Errc::would_block) {
            stream.socket_readable = false;
            break;
        }
        if (!got.ok()) {
            counters_.reset_by_socket++;
            reset(stream, false);
            return;
        }
        if (got.value() == 0) {
            stream.socket_finished = true;
            (void)tcp_shutdown(stream.pcb, 0, 1);  // FIN after what is queued
            break;
        }
        stream.chunk_offset = 0;
        stream.chunk_bytes = static_cast<std::uint32_t>(got.value());
        stream.last_activity_ms = now_ms();
    }
    (void)tcp_output(stream.pcb);  // a failure leaves the data queued; lwIP's timer retries
    finish_if_done(stream);
}

// Hands lwIP what it has room for; true when the chunk is all taken. tcp_write takes at most
// 0xFFFF bytes a call, and a scaled send buffer may hold more than that.
bool StreamTable::push_chunk(Stream& stream) noexcept {
    constexpr std::size_t max_write_bytes = 0xFFFF;
    constexpr std::size_t max_writes = stream_chunk_bytes / max_write_bytes + 2;
    for (std::size_t round = 0; round < max_writes && stream.chunk_bytes > 0; round++) {
        std::size_t room_bytes = tcp_sndbuf(stream.pcb);
        if (tcp_sndqueuelen(stream.pcb) + queue_headroom_segments >= TCP_SND_QUEUELEN) room_bytes = 0;
        const auto length =
            static_cast<u16_t>(std::min({room_bytes, std::size_t{stream.chunk_bytes}, max_write_bytes}));
        if (length == 0) return false;
        if (tcp_write(stream.pcb, stream.chunk.data() + stream.chunk_offset, length,
                      TCP_WRITE_FLAG_COPY) != ERR_OK) {
            return false;  // lwIP's memory is short: the chunk waits, nothing is lost
        }
        stream.chunk_offset += length;
        stream.chunk_bytes -= length;
        counters_.bytes_to_overlay += length;
    }
    return stream.chunk_bytes == 0;
}

void StreamTable::finish_if_done(Stream& stream) noexcept {
    if (stream.phase != Phase::open || !stream.overlay_finished || !stream.socket_finished ||
        stream.to_socket != nullptr || stream.chunk_bytes > 0 || !stream.socket_write_shut) {
        return;
    }
    counters_.closed_cleanly++;
    ports_.tcp.close(stream.socket, false);
    stream.has_socket = false;
    tcp_pcb* pcb = stream.pcb;
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    tcp_err(pcb, nullptr);
    stream.pcb = nullptr;
    if (tcp_close(pcb) != ERR_OK) {  // no memory for the FIN: reset instead
        aborted_ = pcb;
        tcp_abort(pcb);
    }
    release(stream);
}

// Resets both ends (RST to the overlay peer, RST on the socket) and frees the slot.
void StreamTable::reset(Stream& stream, bool /*by_overlay*/) noexcept {
    if (stream.pcb != nullptr) {
        tcp_pcb* pcb = stream.pcb;
        tcp_arg(pcb, nullptr);
        tcp_recv(pcb, nullptr);
        tcp_sent(pcb, nullptr);
        tcp_err(pcb, nullptr);
        stream.pcb = nullptr;
        aborted_ = pcb;
        tcp_abort(pcb);
    }
    if (stream.has_socket) ports_.tcp.close(stream.socket, true);
    stream.has_socket = false;
    release(stream);
}

void StreamTable::flush_sockets() noexcept {
    for (Stream& stream : streams_) {
        if (stream.phase != Phase::open || !stream.socket_write_due) continue;
        stream.socket_write_due = false;
        flush_to_socket(stream);
    }
}

void StreamTable::release(Stream& stream) noexcept {
    if (stream.to_socket != nullptr) pbuf_free(stream.to_socket);
    if (stream.phase == Phase::resolving) ports_.resolver.cancel(stream.resolve);
    if (stream.phase == Phase::handshaking) drop_listener_user(stream.peer_netif, stream.local);
    stream.phase = Phase::free;
    stream.dialed = false;
    stream.pcb = nullptr;
    stream.peer_netif = nullptr;
    stream.has_socket = false;
    stream.dial_events = nullptr;
    stream.refusal.reset();
    stream.remote = {};
    stream.local = {};
    stream.to_socket = nullptr;
    stream.to_socket_tail = nullptr;
    stream.socket_readable = false;
    stream.overlay_finished = false;
    stream.socket_write_due = false;
    stream.socket_finished = false;
    stream.socket_write_shut = false;
    stream.syn_bytes = 0;
    stream.proxy_v2 = false;
    stream.chunk_offset = 0;
    stream.chunk_bytes = 0;
}

// ---- the socket side's events ---------------------------------------------------------------

// The service hears who the peer is before anything of the peer's (core/proxy/proxy_protocol.h).
// The connection is new, so its socket takes the few bytes at once; if not, the peer is refused.
bool StreamTable::send_proxy_header(Stream& stream) noexcept {
    std::array<std::uint8_t, proxy::proxy_v2_max_bytes> header{};
    const Result<std::size_t> encoded = proxy::encode_proxy_v2(stream.remote, stream.local, header);
    const Result<std::size_t> written =
        encoded.ok() ? ports_.tcp.write(stream.socket, std::span(header.data(), encoded.value())) : encoded.error();
    if (written.ok() && written.value() == encoded.value()) return true;
    PINHOLE_LOG_WARNING(logger_, "exit: {} -> {}: cannot send the PROXY v2 header", stream.remote, stream.local);
    refuse_held(stream, Refusal::busy);
    reset(stream, false);
    return false;
}

void StreamTable::on_connected(port::TcpConnectionId connection, Errc result) noexcept {
    Stream* stream = find_socket(connection);
    if (stream == nullptr || stream->phase != Phase::connecting) return;
    if (result == Errc::ok) {
        if (stream->proxy_v2 && !send_proxy_header(*stream)) return;
        release_held_syn(*stream);
        return;
    }
    stream->has_socket = false;  // the port released it
    counters_.exit_connect_failed++;
    PINHOLE_LOG_INFO(logger_, "exit: {} -> {}: {}", stream->remote, stream->local, result);
    refuse_held(*stream, refusal_for_connect_error(result));
    release(*stream);
}

void StreamTable::on_readable(port::TcpConnectionId connection) noexcept {
    Stream* stream = find_socket(connection);
    if (stream == nullptr) return;
    stream->socket_readable = true;  // before open: remembered, pumped when it opens
    if (stream->phase == Phase::open) pump_to_overlay(*stream);
}

void StreamTable::on_writable(port::TcpConnectionId connection) noexcept {
    Stream* stream = find_socket(connection);
    if (stream != nullptr && stream->phase == Phase::open) flush_to_socket(*stream);
}

void StreamTable::on_closed(port::TcpConnectionId connection, Errc /*reason*/) noexcept {
    Stream* stream = find_socket(connection);
    if (stream == nullptr) return;
    stream->has_socket = false;  // the port released it
    if (stream->phase == Phase::open) counters_.reset_by_socket++;
    reset(*stream, false);
}

// ---- deadlines ------------------------------------------------------------------------------

void StreamTable::tick() noexcept {
    const std::uint32_t now = now_ms();
    for (Stream& stream : streams_) {
        switch (stream.phase) {
            case Phase::free:
                break;
            case Phase::open:
                if (time_after_or_equal(now, deadline_after(stream.last_activity_ms, settings_.idle_timeout_ms))) {
                    counters_.idle_timeouts++;
                    reset(stream, false);
                }
                break;
            case Phase::dialing:
                if (time_after_or_equal(now, stream.deadline_ms)) fail_dial(stream, Errc::timed_out);
                break;
            case Phase::resolving:
            case Phase::connecting:
            case Phase::handshaking:
                if (!time_after_or_equal(now, stream.deadline_ms)) break;
                counters_.exit_connect_failed++;
                PINHOLE_LOG_INFO(logger_, "exit: {} -> {}: no answer within {} ms", stream.remote,
                                 stream.local, settings_.connect_timeout_ms);
                if (stream.phase != Phase::handshaking) {
                    refuse_held(stream, Refusal::timed_out);
                }
                reset(stream, false);
                break;
        }
    }
}

// ---- slots ----------------------------------------------------------------------------------

StreamTable::Stream* StreamTable::allocate() noexcept {
    auto slot = std::find_if(streams_.begin(), streams_.end(),
                             [](const Stream& stream) { return stream.phase == Phase::free; });
    return slot != streams_.end() ? &*slot : nullptr;
}

StreamTable::Stream* StreamTable::find_socket(port::TcpConnectionId connection) noexcept {
    auto found = std::find_if(streams_.begin(), streams_.end(), [connection](const Stream& stream) {
        return stream.phase != Phase::free && stream.has_socket && stream.socket == connection;
    });
    return found != streams_.end() ? &*found : nullptr;
}

StreamTable::Stream* StreamTable::find_exit(PeerId peer, const net::Endpoint& from, const net::Endpoint& to) noexcept {
    auto found = std::find_if(streams_.begin(), streams_.end(), [&](const Stream& stream) {
        return stream.phase != Phase::free && !stream.dialed && stream.peer == peer && stream.remote == from &&
               stream.local == to;
    });
    return found != streams_.end() ? &*found : nullptr;
}

StreamId StreamTable::id_of(const Stream& stream) const noexcept {
    return static_cast<StreamId>(&stream - streams_.data());
}

std::size_t StreamTable::open_streams() const noexcept {
    return static_cast<std::size_t>(std::count_if(streams_.begin(), streams_.end(),
                                                  [](const Stream& stream) { return stream.phase == Phase::open; }));
}

}  // namespace pinhole::overlay
