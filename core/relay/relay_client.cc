#include "core/relay/relay_client.h"

#include <algorithm>
#include <cstring>

#include "core/crypto/ct.h"
#include "core/util/format.h"
#include "core/util/time.h"

namespace pinhole::relay {

RelayClient::RelayClient(Ports ports, const keys::KeyPair& node, const config::NodeGateway& gateway,
                         RelayEvents& events, const Logger& logger, const RelaySettings& settings) noexcept
    : ports_(ports), node_(node), gateway_key_(gateway.public_key), gateway_(gateway), events_(events),
      logger_(logger), settings_(settings) {
    next_attempt_ms_ = now_ms();
    const config::Transport transport = gateway.url.transport;
    uses_tls_ = transport == config::Transport::tls || transport == config::Transport::wss;
    uses_websocket_ = transport == config::Transport::ws || transport == config::Transport::wss;
    if (uses_tls_ && !PINHOLE_BOARD_HAS_TLS) {
        PINHOLE_LOG_ERROR(logger_, "relay: this board was built without TLS: use a tcp:// or ws:// gateway URL");
    } else if (uses_tls_ && !gateway.has_cert_sha256 && settings.tls_ca_pem.empty()) {
        PINHOLE_LOG_WARNING(logger_, "relay: the gateway's TLS certificate is not checked (no cert_sha256 or "
                                     "ca_file); its pinned key still authenticates it");
    }
}

// Closed during our handshake, the gateway refused it: the usual reasons are named.
const char* RelayClient::closed_reason() const noexcept {
    if (phase_ == Phase::upgrading) {
        return "the gateway (or the proxy in front of it) closed the connection during the WebSocket upgrade";
    }
    if (phase_ != Phase::handshaking) return "the gateway closed the channel";
    return "the gateway closed the channel during the handshake (its key is not gateway.public_key, or this "
           "node's key is not in its authorized_keys: see the gateway's log)";
}

const char* RelayClient::transport_description() const noexcept {
    if (!uses_tls_) return uses_websocket_ ? "ws" : "tcp";
    if (gateway_.has_cert_sha256) return uses_websocket_ ? "wss, certificate pinned" : "tls, certificate pinned";
    if (settings_.tls_ca_pem.empty()) {
        return uses_websocket_ ? "wss, certificate not checked" : "tls, certificate not checked";
    }
    return uses_websocket_ ? "wss, certificate checked against ca_file" : "tls, certificate checked against ca_file";
}

bool RelayClient::transport_supported() const noexcept { return !uses_tls_ || PINHOLE_BOARD_HAS_TLS; }

RelayClient::~RelayClient() {
    if (phase_ == Phase::resolving) ports_.resolver.cancel(resolve_);
#if PINHOLE_BOARD_HAS_TLS
    tls_.stop();
#endif
    if (has_connection_) ports_.tcp.close(connection_, false);
    session_.clear();
    crypto::zeroize_object(node_);
}

void RelayClient::tick() noexcept {
    const std::uint32_t now = now_ms();
    switch (phase_) {
        case Phase::waiting:
            if (time_after_or_equal(now, next_attempt_ms_) && transport_supported()) start_connect();
            break;
        case Phase::resolving:
        case Phase::connecting:
        case Phase::tls_handshaking:
        case Phase::upgrading:
        case Phase::handshaking:
            if (time_after_or_equal(now, deadline_ms_)) fail("no answer from the gateway", Errc::timed_out);
            break;
        case Phase::up:
            if (time_after_or_equal(now, deadline_ms_)) {
                fail("the channel went quiet (no pong)", Errc::timed_out);
            } else if (time_after_or_equal(now, next_ping_ms_)) {
                next_ping_ms_ = deadline_after(now, settings_.ping_interval_ms);
                const Result<std::size_t> ping = encode_ping(FrameType::ping, ++ping_nonce_, frame_);
                if (ping.ok()) send_frame(std::span(frame_.data(), ping.value()));
            }
            break;
    }
    if (phase_ == Phase::up) flush();
}

void RelayClient::start_connect() noexcept {
    counters_.connects++;
    deadline_ms_ = deadline_after(now_ms(), settings_.handshake_timeout_ms);
    const config::HostPort& server = gateway_.url.server;
    if (server.host_name.size() == 0) {
        connect_to(server.endpoint);
        return;
    }
    phase_ = Phase::resolving;  // again on every attempt: the gateway may have moved
    const Result<port::ResolveId> started = ports_.resolver.resolve(server.host_name.view(), net::Family::none, *this);
    if (!started.ok()) {
        fail("cannot resolve the gateway's name", started.error());
        return;
    }
    resolve_ = started.value();
}

void RelayClient::on_resolved(port::ResolveId id, Errc result, std::span<const net::IpAddress> addresses) noexcept {
    if (phase_ != Phase::resolving || id != resolve_) return;
    if (result != Errc::ok || addresses.empty()) {
        fail("cannot resolve the gateway's name", result == Errc::ok ? Errc::not_found : result);
        return;
    }
    connect_to(net::Endpoint{addresses.front(), gateway_.url.server.endpoint.port});
}

void RelayClient::connect_to(const net::Endpoint& server) noexcept {
    const Result<port::TcpConnectionId> connecting = ports_.tcp.connect(server, *this);
    if (!connecting.ok()) {
        fail("cannot connect to the gateway", connecting.error());
        return;
    }
    phase_ = Phase::connecting;
    has_connection_ = true;
    connection_ = connecting.value();
}

void RelayClient::on_connected(port::TcpConnectionId connection, Errc result) noexcept {
    if (!has_connection_ || connection != connection_ || phase_ != Phase::connecting) return;
    if (result != Errc::ok) {
        has_connection_ = false;  // the port released it
        fail("cannot connect to the gateway", result);
        return;
    }
    if (uses_tls_) {
        start_tls();
    } else {
        transport_ready();
    }
}

// TCP (and TLS) is up: the WebSocket upgrade first on ws:// and wss://, then the Noise handshake.
void RelayClient::transport_ready() noexcept {
    if (uses_websocket_) {
        start_upgrade();
    } else {
        start_noise();
    }
}

// The Host header: the URL's name (or address) and its port unless it is the scheme's default.
std::size_t RelayClient::websocket_host(std::span<char> out) const noexcept {
    const config::HostPort& server = gateway_.url.server;
    const std::uint16_t port = server.endpoint.port;
    const bool default_port = port == (uses_tls_ ? 443 : 80);
    if (server.host_name.size() != 0) {
        return default_port ? format_to(out, "{}", server.host_name.view())
                            : format_to(out, "{}:{}", server.host_name.view(), port);
    }
    const net::IpAddress& address = server.endpoint.address;
    if (address.is_v6()) return default_port ? format_to(out, "[{}]", address) : format_to(out, "[{}]:{}", address, port);
    return default_port ? format_to(out, "{}", address) : format_to(out, "{}:{}", address, port);
}

void RelayClient::start_upgrade() noexcept {
    websocket_.reset();
    std::array<char, 320> host{};
    const std::size_t host_length = websocket_host(host);
    const Status keyed = ws::make_client_key(ports_.random, websocket_key_);
    if (!keyed.ok()) {
        fail("cannot start the WebSocket upgrade", keyed.error());
        return;
    }
    const Result<std::size_t> request =
        ws::encode_upgrade_request(std::string_view(host.data(), host_length), gateway_.url.path.view(),
                                   websocket_key_.key_text(), scratch_);
    if (!request.ok() || !queue(std::span(scratch_.data(), request.value()))) {
        fail("cannot start the WebSocket upgrade", request.ok() ? Errc::no_space : request.error());
        return;
    }
    phase_ = Phase::upgrading;
    flush();
}

// Reads the answer to the upgrade (its head at most ws::max_head_bytes) until it is whole.
void RelayClient::read_upgrade() noexcept {
    const std::size_t limit = std::min(received_.size(), ws::max_head_bytes);
    for (int round = 0; round < max_read_rounds && has_connection_ && phase_ == Phase::upgrading; round++) {
        const Result<std::size_t> got =
            transport_read(std::span(received_.data() + received_bytes_, limit - received_bytes_));
        if (!got.ok() && got.error() == Errc::would_block) return;
        if (!got.ok() || got.value() == 0) {
            fail(closed_reason(), got.ok() ? Errc::closed : got.error());
            return;
        }
        received_bytes_ += got.value();
        ws::ResponseInfo info;
        const Result<std::size_t> head = ws::parse_upgrade_response(std::span(received_.data(), received_bytes_),
                                                                    websocket_key_.accept_text(), info);
        if (!head.ok() && head.error() == Errc::would_block) continue;
        if (!head.ok()) {
            if (info.failure == ws::Failure::not_switching_protocols) {
                PINHOLE_LOG_ERROR(logger_, "relay: the WebSocket upgrade to {} was answered with HTTP {}, not 101 (the "
                                           "path the gateway or its proxy serves? the gateway behind a proxy down?)",
                                  gateway_.url.path.view(), info.status);
            } else {
                PINHOLE_LOG_ERROR(logger_, "relay: the WebSocket upgrade's answer has {}", ws::describe(info.failure));
            }
            fail("the WebSocket upgrade failed", Errc::refused);
            return;
        }
        if (!finish_upgrade(head.value())) return;
    }
}

// The head is read: what came after it is already WebSocket frames. False when the channel failed.
bool RelayClient::finish_upgrade(std::size_t head_bytes) noexcept {
    const std::size_t leftover = received_bytes_ - head_bytes;
    std::memmove(received_.data(), received_.data() + head_bytes, leftover);
    received_bytes_ = 0;
    start_noise();
    if (phase_ != Phase::handshaking) return false;
    if (leftover == 0) return true;
    const Result<std::size_t> payload = unwrap(std::span(received_.data(), leftover));
    if (!payload.ok()) return false;
    received_bytes_ = payload.value();
    return handle_messages();
}

void RelayClient::start_noise() noexcept {
    const Result<std::size_t> initiation = session_.start_initiator(
        node_, gateway_key_, ports_.random, crypto::tai64n_encode(ports_.clock.wall_time()), scratch_);
    if (!initiation.ok() || !queue_message(std::span(scratch_.data(), initiation.value()))) {
        fail("cannot start the handshake", initiation.ok() ? Errc::no_space : initiation.error());
        return;
    }
    phase_ = Phase::handshaking;
    flush();
}

void RelayClient::on_readable(port::TcpConnectionId connection) noexcept {
    if (!has_connection_ || connection != connection_) return;
    if (phase_ == Phase::tls_handshaking) advance_tls();
    if (phase_ == Phase::upgrading) read_upgrade();
    if (phase_ == Phase::handshaking || phase_ == Phase::up) read_messages();
}

// Reads until the transport has nothing more: readiness is edge-triggered, so bytes left behind
// (in the socket or inside TLS) would wait for the next arrival. The bound covers the largest
// socket buffer Linux grants (tcp_rmem 6 MiB) at one small TLS record per round.
void RelayClient::read_messages() noexcept {
    for (int round = 0; round < max_read_rounds && has_connection_; round++) {
        const Result<std::size_t> got = transport_read(std::span(received_).subspan(received_bytes_));
        if (!got.ok() && got.error() == Errc::would_block) return;
        if (!got.ok() || got.value() == 0) {
            fail(closed_reason(), got.ok() ? Errc::closed : got.error());
            return;
        }
        std::size_t added = got.value();
        if (uses_websocket_) {
            const Result<std::size_t> payload = unwrap(std::span(received_.data() + received_bytes_, added));
            if (!payload.ok()) return;
            added = payload.value();
        }
        received_bytes_ += added;
        if (!handle_messages()) return;
    }
}

// The payload of the WebSocket frames in `bytes`, in place (the Noise stream goes on in it);
// a ping is answered. An error when a frame was refused or the gateway closed the WebSocket:
// the channel has failed then.
Result<std::size_t> RelayClient::unwrap(std::span<std::uint8_t> bytes) noexcept {
    const Result<std::size_t> payload = websocket_.decode(bytes);
    if (!payload.ok()) {
        PINHOLE_LOG_ERROR(logger_, "relay: the gateway sent {}", ws::describe(websocket_.failure()));
        fail("the gateway's WebSocket stream is malformed", payload.error());
        return payload.error();
    }
    if (websocket_.ping_pending()) {
        std::array<std::uint8_t, ws::max_control_payload_bytes> pong{};
        const std::span<const std::uint8_t> ping = websocket_.ping_payload();
        std::copy(ping.begin(), ping.end(), pong.begin());
        (void)queue_frame(ws::Opcode::pong, std::span(pong.data(), ping.size()));  // no room: the next ping's
        websocket_.clear_ping();
    }
    if (websocket_.closed()) {
        PINHOLE_LOG_WARNING(logger_, "relay: the gateway (or the proxy in front of it) closed the WebSocket, code {}",
                            websocket_.close_code());
        fail("the gateway closed the channel", Errc::closed);
        return Errc::closed;
    }
    return payload.value();
}

// Every whole message in the buffer, then what is left of the last one moves to the front.
// False when a message ended the channel (fail() emptied the buffer).
bool RelayClient::handle_messages() noexcept {
    std::size_t used = 0;
    // Bounded: each message takes at least length_prefix_bytes + min_message_bytes.
    for (std::size_t messages = 0; messages < received_.size() / (length_prefix_bytes + min_message_bytes); messages++) {
        const std::span<std::uint8_t> rest(received_.data() + used, received_bytes_ - used);
        const Result<std::size_t> length = next_message_bytes(rest);
        if (!length.ok() && length.error() == Errc::would_block) break;
        if (!length.ok()) {
            fail("the gateway sent a malformed message", length.error());
            return false;
        }
        if (rest.size() < length_prefix_bytes + length.value()) break;
        handle_message(rest.subspan(length_prefix_bytes, length.value()));
        if (!has_connection_) return false;
        used += length_prefix_bytes + length.value();
    }
    std::memmove(received_.data(), received_.data() + used, received_bytes_ - used);
    received_bytes_ -= used;
    return true;
}

void RelayClient::handle_message(std::span<std::uint8_t> message) noexcept {
    if (phase_ == Phase::handshaking) {
        const Status finished = session_.finish_initiator(message);
        if (!finished.ok()) {
            fail("the gateway's handshake failed (a different gateway key? this node not authorized?)", finished.error());
            return;
        }
        phase_ = Phase::up;
        counters_.established++;
        backoff_ms_ = 0;
        deadline_ms_ = deadline_after(now_ms(), settings_.dead_after_ms);
        next_ping_ms_ = deadline_after(now_ms(), settings_.ping_interval_ms);
        PINHOLE_LOG_INFO(logger_, "relay: channel to the gateway up ({})", transport_description());
        events_.on_relay_up();
        return;
    }
    const Result<std::span<std::uint8_t>> opened = session_.open(message);
    if (!opened.ok()) {
        fail("a message from the gateway failed authentication", opened.error());
        return;
    }
    deadline_ms_ = deadline_after(now_ms(), settings_.dead_after_ms);
    const Result<Frame> frame = parse_frame(opened.value());
    if (!frame.ok()) {
        counters_.malformed_frames++;
        return;
    }
    handle_frame(frame.value());
}

void RelayClient::handle_frame(const Frame& frame) noexcept {
    switch (frame.type) {
        case FrameType::data_from:
            counters_.datagrams_received++;
            events_.on_relay_datagram(frame.peer_key, frame.datagram);
            break;
        case FrameType::ping: {
            const Result<std::size_t> pong = encode_ping(FrameType::pong, frame.nonce, frame_);
            if (pong.ok()) send_frame(std::span(frame_.data(), pong.value()));
            break;
        }
        case FrameType::presence:
            events_.on_presence(frame.peer_key, frame.up);
            break;
        case FrameType::error:
            counters_.errors_received++;
            PINHOLE_LOG_INFO(logger_, "relay: the gateway says: {}: {}", describe(frame.error), frame.text);
            break;
        case FrameType::pong:
        case FrameType::data_to:
            break;  // a pong only proves the channel lives (the deadline moved already)
    }
}

void RelayClient::send(const crypto::X25519Key& peer, std::span<const std::uint8_t> datagram) noexcept {
    if (phase_ != Phase::up) {
        counters_.dropped_not_up++;
        return;
    }
    const Result<std::size_t> frame = encode_data(FrameType::data_to, peer, datagram, frame_);
    if (!frame.ok()) return;  // larger than any WireGuard datagram: cannot happen
    counters_.datagrams_sent++;
    send_frame(std::span(frame_.data(), frame.value()));
}

void RelayClient::send_frame(std::span<const std::uint8_t> frame) noexcept {
    // Checked before sealing: a sealed message not sent would leave a gap in the session's
    // counter, and the gateway would (rightly) end the channel.
    const std::size_t message_bytes = length_prefix_bytes + frame.size() + noise::tag_bytes;
    if (unsent_.writable_bytes() < framing_bytes(message_bytes) + message_bytes) {
        counters_.dropped_buffer_full++;  // the gateway is slow: drop, never grow
        return;
    }
    const Result<std::size_t> sealed = session_.seal(frame, scratch_);
    if (!sealed.ok()) return;
    (void)queue_message(std::span(scratch_.data(), sealed.value()));
    // The datagrams of one loop turn share a write (tick() flushes), unless they pile up.
    if (unsent_.readable_bytes() >= flush_threshold_bytes) flush();
}

bool RelayClient::queue(std::span<const std::uint8_t> bytes) noexcept {
    if (unsent_.writable_bytes() < bytes.size()) return false;
    return unsent_.write(bytes) == bytes.size();
}

// The WebSocket frame header a message gets on ws:// and wss:// (none on tcp:// and tls://).
std::size_t RelayClient::framing_bytes(std::size_t message_bytes) const noexcept {
    return uses_websocket_ ? ws::frame_header_bytes(message_bytes, true) : 0;
}

// A sealed, length-prefixed message into the queue: as it is on tcp:// and tls://, in a binary
// frame of its own on ws:// and wss://. False (nothing queued) without room.
bool RelayClient::queue_message(std::span<std::uint8_t> message) noexcept {
    if (!uses_websocket_) return queue(message);
    return queue_frame(ws::Opcode::binary, message);
}

// A client's frame: masked (RFC 6455 §5.3), the payload in place.
bool RelayClient::queue_frame(ws::Opcode opcode, std::span<std::uint8_t> payload) noexcept {
    std::array<std::uint8_t, ws::max_frame_header_bytes> header{};
    ws::Mask mask{};
    if (unsent_.writable_bytes() < framing_bytes(payload.size()) + payload.size() || !next_mask(mask).ok()) {
        return false;
    }
    const Result<std::size_t> length = ws::encode_frame_header(opcode, payload.size(), &mask, header);
    if (!length.ok()) return false;
    ws::apply_mask(payload, mask, 0);
    return queue(std::span(header.data(), length.value())) && queue(payload);
}

// Masks come from the port's random source, a pool at a time (not a call per frame).
Status RelayClient::next_mask(ws::Mask& mask) noexcept {
    if (mask_pool_used_ + ws::mask_bytes > mask_pool_.size()) {
        if (const Status filled = ports_.random.fill(mask_pool_); !filled.ok()) return filled;
        mask_pool_used_ = 0;
    }
    std::copy_n(mask_pool_.begin() + static_cast<std::ptrdiff_t>(mask_pool_used_), ws::mask_bytes, mask.begin());
    mask_pool_used_ += ws::mask_bytes;
    return Status();
}

void RelayClient::flush() noexcept {
    for (int round = 0; round < 4 && has_connection_ && !unsent_.empty(); round++) {
        const Result<std::size_t> written = transport_write(unsent_.readable_span());
        if (!written.ok() && written.error() == Errc::would_block) return;  // on_writable resumes
        if (!written.ok()) {
            fail("cannot write to the gateway", written.error());
            return;
        }
        unsent_.discard(written.value());
    }
}

void RelayClient::on_writable(port::TcpConnectionId connection) noexcept {
    if (!has_connection_ || connection != connection_) return;
    if (phase_ == Phase::tls_handshaking) {
        advance_tls();
    } else {
        flush();
    }
}

void RelayClient::on_closed(port::TcpConnectionId connection, Errc reason) noexcept {
    if (!has_connection_ || connection != connection_) return;
    has_connection_ = false;  // the port released it
    fail(closed_reason(), reason);
}

#if PINHOLE_BOARD_HAS_TLS
void RelayClient::start_tls() noexcept {
    TlsTrust trust;
    if (gateway_.has_cert_sha256) {
        trust.kind = TlsTrust::Kind::pin;
        trust.pin = gateway_.cert_sha256;
    } else if (!settings_.tls_ca_pem.empty()) {
        trust.kind = TlsTrust::Kind::ca;
        trust.ca_pem = settings_.tls_ca_pem;
    }
    phase_ = Phase::tls_handshaking;
    const Status started =
        tls_.start(ports_.tcp, connection_, gateway_.url.server.host_name.view(), trust, ports_.random);
    if (!started.ok()) {
        PINHOLE_LOG_ERROR(logger_, "relay: {} (mbedTLS error -0x{})", describe(tls_.failure()),
                          Hex{tls_.mbedtls_error_code()});
        fail("cannot set up TLS", started.error());
        return;
    }
    advance_tls();
}

void RelayClient::advance_tls() noexcept {
    const Status done = tls_.handshake();
    if (!done.ok() && done.error() == Errc::would_block) return;
    if (!done.ok()) {
        if (tls_.failure() == TlsFailure::pin_mismatch) {
            PINHOLE_LOG_ERROR(logger_, "relay: {}: it presented sha256 {}", describe(tls_.failure()),
                              Hex{tls_.presented_sha256()});
        } else {
            PINHOLE_LOG_ERROR(logger_, "relay: {} (mbedTLS error -0x{})", describe(tls_.failure()),
                              Hex{tls_.mbedtls_error_code()});
        }
        fail("TLS to the gateway failed", done.error());
        return;
    }
    transport_ready();
}

Result<std::size_t> RelayClient::transport_read(std::span<std::uint8_t> out) noexcept {
    return uses_tls_ ? tls_.read(out) : ports_.tcp.read(connection_, out);
}

Result<std::size_t> RelayClient::transport_write(std::span<const std::uint8_t> bytes) noexcept {
    return uses_tls_ ? tls_.write(bytes) : ports_.tcp.write(connection_, bytes);
}
#else
void RelayClient::start_tls() noexcept { fail("this board has no TLS", Errc::unsupported); }
void RelayClient::advance_tls() noexcept {}
Result<std::size_t> RelayClient::transport_read(std::span<std::uint8_t> out) noexcept {
    return ports_.tcp.read(connection_, out);
}
Result<std::size_t> RelayClient::transport_write(std::span<const std::uint8_t> bytes) noexcept {
    return ports_.tcp.write(connection_, bytes);
}
#endif

// Back to waiting, with the next attempt after an exponential, jittered backoff.
void RelayClient::fail(const char* why, Errc error) noexcept {
    const bool was_up = phase_ == Phase::up;
    if (phase_ == Phase::resolving) ports_.resolver.cancel(resolve_);
    if (has_connection_) ports_.tcp.close(connection_, true);
    has_connection_ = false;
#if PINHOLE_BOARD_HAS_TLS
    tls_.stop();
#endif
    session_.clear();
    unsent_.clear();
    received_bytes_ = 0;
    phase_ = Phase::waiting;
    counters_.failures++;
    backoff_ms_ = was_up || backoff_ms_ == 0 ? settings_.backoff_initial_ms
                                             : std::min(backoff_ms_ * 2, settings_.backoff_max_ms);
    std::uint8_t jitter[2] = {};
    const std::uint32_t spread = ports_.random.fill(jitter).ok() ? (jitter[0] << 8 | jitter[1]) : 0;
    const std::uint32_t wait_ms = backoff_ms_ / 2 + spread % (backoff_ms_ / 2 + 1);  // [b/2, b]
    next_attempt_ms_ = deadline_after(now_ms(), wait_ms);
    PINHOLE_LOG_WARNING(logger_, "relay: {} ({}); next attempt in {} ms", why, error, wait_ms);
}

}  // namespace pinhole::relay
