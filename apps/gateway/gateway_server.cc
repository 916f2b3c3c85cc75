#include "apps/gateway/gateway_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

#include "core/crypto/ct.h"
#include "core/relay/frames.h"
#include "core/util/format.h"
#include "core/util/time.h"
#include "port/posix/sockaddr.h"

namespace pinhole::gateway {
namespace {

constexpr std::uint32_t handshake_timeout_ms = 5'000;
// Admission: connections still handshaking at once, and new connections per source address per
// second (a node reconnects a few times a minute at most; a flood is not a node).
constexpr std::size_t max_unauthenticated = 1024;
constexpr std::uint32_t max_connections_per_source_per_second = 64;
constexpr std::uint32_t idle_timeout_ms = 30'000;  // nodes ping every 5 s
constexpr std::uint8_t tls_handshake_record = 0x16;
constexpr std::uint32_t undeliverable_notice_interval_ms = 10'000;
constexpr std::size_t flush_threshold_bytes = 32 * 1024;

template <typename... Arguments>
void log_line(std::string_view format, const Arguments&... arguments) {
    std::array<char, 512> text{};
    const std::size_t length = format_to(text, format, arguments...);
    std::printf("pinhole gateway: %.*s\n", static_cast<int>(length), text.data());
}

std::string key_text(const crypto::X25519Key& key) {
    std::array<char, keys::key_text_bytes + 1> text{};
    return keys::format_key(key, text).ok() ? std::string(text.data()) : std::string("?");
}

bool same_entry(const AuthorizedKey* a, const AuthorizedKey* b) {
    return a != nullptr && b != nullptr && a->name == b->name && a->reach_all == b->reach_all && a->reach == b->reach;
}

}  // namespace

struct GatewayServer::Channel {
    enum class Wire : std::uint8_t { unknown, tcp, tls };  // known from the first byte
    // Inside the wire, known from the first byte too: "GET " is a WebSocket upgrade.
    enum class Framing : std::uint8_t { unknown, noise, upgrading, websocket };
    int fd = -1;
    Wire wire = Wire::unknown;
    Framing framing = Framing::unknown;
    std::unique_ptr<TlsServerSession> tls;
    std::unique_ptr<relay::ws::Decoder> websocket;  // WebSocket channels only (an idle plain one stays small)
    net::Endpoint from;
    relay::ChannelSession session;
    bool established = false;
    crypto::X25519Key key{};
    std::string name;
    std::uint32_t deadline_ms = 0;  // handshake deadline, then idle deadline
    std::vector<std::uint8_t> received;
    std::deque<std::uint8_t> unsent;  // sealed messages; bounded by limits.channel_buffer_bytes
    bool flush_pending = false;  // in pending_flush_
    bool has_told_undeliverable = false;
    std::uint32_t told_undeliverable_ms = 0;
};

GatewayServer::GatewayServer(posix::EventLoop& loop, const keys::KeyPair& key, AuthorizedKeys authorized,
                             const config::GatewayLimits& limits)
    : loop_(loop), key_(key), authorized_(std::move(authorized)), limits_(limits) {}

void GatewayServer::use_tls(const TlsServerConfig& tls) { tls_ = &tls; }

bool GatewayServer::dump_frames_to(const char* path) {
    frame_dump_ = std::fopen(path, "ab");
    if (frame_dump_ == nullptr) {
        std::fprintf(stderr, "pinhole gateway: cannot open the frame dump %s: %s\n", path, std::strerror(errno));
        return false;
    }
    std::setvbuf(frame_dump_, nullptr, _IONBF, 0);
    log_line("TEST ONLY: every decrypted relay frame is appended to {}", std::string_view(path));
    return true;
}

GatewayServer::~GatewayServer() {
    if (frame_dump_ != nullptr) std::fclose(frame_dump_);
    for (auto& [fd, channel] : channels_) {
        loop_.unwatch(fd);
        ::close(fd);
        channel->session.clear();
    }
    for (const int fd : listeners_) {
        loop_.unwatch(fd);
        ::close(fd);
    }
    crypto::zeroize_object(key_);
}

bool GatewayServer::listen(const net::Endpoint& at) {
    const int family = at.address.is_v4() ? AF_INET : AF_INET6;
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int yes = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (family == AF_INET6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof yes);
    sockaddr_storage address{};
    const Result<socklen_t> length = posix::to_sockaddr(at, family, address);
    if (fd < 0 || !length.ok() || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length.value()) != 0 ||
        ::listen(fd, 1024) != 0 || !loop_.watch(fd, EPOLLIN, *this).ok()) {
        std::fprintf(stderr, "pinhole gateway: cannot listen on %s: %s\n",
                     [&] { std::array<char, 64> t{}; return std::string(t.data(), format_to(t, "{}", at)); }().c_str(),
                     std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return false;
    }
    listeners_.push_back(fd);
    log_line("listening on {} (tcp; WebSocket upgrades on {})", at, relay::ws::default_path);
    return true;
}

void GatewayServer::on_fd_events(int fd, std::uint32_t events) noexcept {
    if (std::find(listeners_.begin(), listeners_.end(), fd) != listeners_.end()) {
        accept_from(fd);
    } else if (auto found = channels_.find(fd); found != channels_.end()) {
        Channel& channel = *found->second;
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) read_from(channel);
        if (channel.fd >= 0 && (events & EPOLLOUT) != 0) flush(channel);
        // A TLS handshake may have waited to write: reading drives it on.
        if (channel.fd >= 0 && (events & EPOLLOUT) != 0 && channel.wire == Channel::Wire::tls && !channel.established) {
            read_from(channel);
        }
    }
    flush_pending();
    for (const int closed : closing_) channels_.erase(closed);
    closing_.clear();
}

void GatewayServer::accept_from(int listener) {
    for (int round = 0; round < 64; round++) {
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&from), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            pause_listeners();  // the connection stays queued: accepting again now would spin
            return;
        }
        if (fd < 0) return;
        if (channels_.size() >= limits_.max_channels) {
            counters_.refused_limit++;
            ::close(fd);
            continue;
        }
        if (!admit(posix::from_sockaddr(from))) {
            ::close(fd);
            continue;
        }
        const int yes = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        if (!loop_.watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, *this).ok()) {
            counters_.refused_limit++;  // the loop's table is sized from max_channels: cannot happen
            ::close(fd);
            continue;
        }
        auto channel = std::make_unique<Channel>();
        channel->fd = fd;
        channel->from = posix::from_sockaddr(from);
        channel->deadline_ms = deadline_after(clock_.monotonic_ms(), handshake_timeout_ms);
        channels_[fd] = std::move(channel);
        unauthenticated_++;
    }
}

// The first byte tells the transports apart: a TLS record starts with 0x16 (handshake), the
// Noise stream with the high byte of a length below 0x0700.
bool GatewayServer::identify_wire(Channel& channel) {
    std::uint8_t first = 0;
    const ssize_t got = ::recv(channel.fd, &first, 1, MSG_PEEK);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    if (got <= 0) {
        close(channel, got == 0 ? "closed by the node" : std::strerror(errno));
        return false;
    }
    if (first != tls_handshake_record) {
        channel.wire = Channel::Wire::tcp;
        return true;
    }
    if (tls_ == nullptr) {
        close(channel, "a TLS client, but this gateway has no tls: in its configuration");
        return false;
    }
    channel.tls = std::make_unique<TlsServerSession>();
    if (!channel.tls->start(*tls_, channel.fd)) {
        close(channel, channel.tls->failure());
        return false;
    }
    channel.wire = Channel::Wire::tls;
    return true;
}

long GatewayServer::receive(Channel& channel, std::span<std::uint8_t> out) {
    if (channel.wire == Channel::Wire::tls) return channel.tls->read(out);
    const ssize_t got = ::recv(channel.fd, out.data(), out.size(), 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return transport_would_block;
    return got < 0 ? transport_failed : got;
}

long GatewayServer::transmit(Channel& channel, std::span<const std::uint8_t> bytes) {
    if (channel.wire == Channel::Wire::tls) return channel.tls->write(bytes);
    const ssize_t sent = ::send(channel.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EINTR)) return transport_would_block;
    return sent < 0 ? transport_failed : sent;
}

// Refuses (counted) a connection when too many are still handshaking, or when its source opened
// too many this second: a flood or a slowloris costs the gateway little and no one else's channel.
bool GatewayServer::admit(const net::Endpoint& from) {
    if (unauthenticated_ >= max_unauthenticated) {
        counters_.refused_unauthenticated_limit++;
        return false;
    }
    const std::uint32_t now = clock_.monotonic_ms();
    if (elapsed_ms(now, rate_window_start_ms_) >= 1'000) {
        accepted_this_second_.clear();
        rate_window_start_ms_ = now;
    }
    std::uint32_t& count = accepted_this_second_[from.address.bytes];
    if (count >= max_connections_per_source_per_second) {
        counters_.refused_handshake_rate++;
        return false;
    }
    count++;
    return true;
}

void GatewayServer::read_from(Channel& channel) {
    if (channel.wire == Channel::Wire::unknown && !identify_wire(channel)) return;
    std::array<std::uint8_t, 16384> buffer{};
    // Until the socket (and TLS) is drained: readiness is edge-triggered. Bounded by the largest
    // socket buffer (6 MiB) at one small TLS record per round.
    for (int round = 0; round < 8192 && channel.fd >= 0; round++) {
        const long got = receive(channel, buffer);
        if (got == transport_would_block) return;
        if (got <= 0) {
            const std::string why = channel.wire == Channel::Wire::tls ? channel.tls->failure() : std::strerror(errno);
            close(channel, got == 0 ? "closed by the node" : why);
            return;
        }
        take_bytes(channel, std::span(buffer.data(), static_cast<std::size_t>(got)));
    }
}

// Bytes from the wire (TLS removed). The first tells a WebSocket upgrade ('G' of "GET ") from
// the Noise stream (the high byte of a length below 0x0700).
void GatewayServer::take_bytes(Channel& channel, std::span<std::uint8_t> bytes) {
    if (channel.framing == Channel::Framing::unknown) {
        channel.framing = bytes.front() == 'G' ? Channel::Framing::upgrading : Channel::Framing::noise;
    }
    if (channel.framing == Channel::Framing::upgrading) {
        channel.received.insert(channel.received.end(), bytes.begin(), bytes.end());
        read_upgrade(channel, bytes.size());
        return;
    }
    if (channel.framing == Channel::Framing::websocket) {
        unwrap(channel, bytes);
    } else {
        channel.received.insert(channel.received.end(), bytes.begin(), bytes.end());
    }
    if (channel.fd >= 0) handle_messages(channel);
    if (channel.fd >= 0 && channel.websocket != nullptr && channel.websocket->closed()) {
        send_control(channel, relay::ws::Opcode::close, {});
        flush(channel);
        close(channel, "closed by the node (WebSocket close)");
    }
}

// An HTTP Upgrade (a node's ws:// or wss://, or nginx passing one on), at most
// ws::max_head_bytes: answered 101, and the channel goes on in WebSocket frames; or answered
// 400/404/426 with the reason, and closed. A slow one meets the 5-s handshake deadline. The head
// is parsed only once its empty line may have come (a request sent a byte at a time costs little).
void GatewayServer::read_upgrade(Channel& channel, std::size_t new_bytes) {
    const std::size_t searched_from = channel.received.size() - std::min(channel.received.size(), new_bytes + 3);
    const std::string_view text(reinterpret_cast<const char*>(channel.received.data()), channel.received.size());
    if (text.find("\r\n\r\n", searched_from) == std::string_view::npos && text.size() < relay::ws::max_head_bytes) return;
    relay::ws::RequestInfo info;
    const Result<std::size_t> head = relay::ws::parse_upgrade_request(channel.received, relay::ws::default_path, info);
    if (!head.ok() && head.error() == Errc::would_block) return;
    std::array<std::uint8_t, 512> answer{};
    if (!head.ok()) {
        counters_.refused_websocket++;
        const Result<std::size_t> refusal = relay::ws::encode_refusal(info.status, relay::ws::describe(info.failure), answer);
        if (refusal.ok()) channel.unsent.insert(channel.unsent.end(), answer.begin(), answer.begin() + static_cast<std::ptrdiff_t>(refusal.value()));
        flush(channel);  // small, into an empty socket buffer
        close(channel, "WebSocket upgrade answered " + std::to_string(info.status) + ": " + relay::ws::describe(info.failure));
        return;
    }
    const Result<std::size_t> accepted = relay::ws::encode_upgrade_response(info.key_text(), answer);
    if (!accepted.ok()) {
        close(channel, "cannot answer the WebSocket upgrade");
        return;
    }
    channel.unsent.insert(channel.unsent.end(), answer.begin(), answer.begin() + static_cast<std::ptrdiff_t>(accepted.value()));
    channel.framing = Channel::Framing::websocket;
    channel.websocket = std::make_unique<relay::ws::Decoder>(relay::ws::Role::server);
    std::vector<std::uint8_t> frames(channel.received.begin() + static_cast<std::ptrdiff_t>(head.value()), channel.received.end());
    channel.received.clear();
    flush(channel);
    if (channel.fd >= 0 && !frames.empty()) take_bytes(channel, frames);
}

// The payload of a WebSocket channel's frames goes on as the Noise stream; a ping is answered.
// A frame refused (unmasked, text, too long...) ends the channel with a close frame and the reason.
void GatewayServer::unwrap(Channel& channel, std::span<std::uint8_t> bytes) {
    relay::ws::Decoder& decoder = *channel.websocket;
    const Result<std::size_t> payload = decoder.decode(bytes);
    if (!payload.ok()) {
        counters_.refused_websocket++;
        const std::array<std::uint8_t, 2> code{relay::ws::close_protocol_error >> 8, relay::ws::close_protocol_error & 0xff};
        send_control(channel, relay::ws::Opcode::close, code);
        flush(channel);
        close(channel, std::string("WebSocket: ") + relay::ws::describe(decoder.failure()));
        return;
    }
    channel.received.insert(channel.received.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(payload.value()));
    if (decoder.ping_pending()) {
        send_control(channel, relay::ws::Opcode::pong, decoder.ping_payload());
        decoder.clear_ping();
    }
}

void GatewayServer::handle_messages(Channel& channel) {
    std::size_t used = 0;
    while (channel.fd >= 0) {
        const std::span<const std::uint8_t> rest(channel.received.data() + used, channel.received.size() - used);
        const Result<std::size_t> length = relay::next_message_bytes(rest);
        if (!length.ok() && length.error() == Errc::would_block) break;
        if (!length.ok()) {
            close(channel, "malformed message length");
            return;
        }
        if (rest.size() < relay::length_prefix_bytes + length.value()) break;
        handle_message(channel, std::span(channel.received.data() + used + relay::length_prefix_bytes, length.value()));
        used += relay::length_prefix_bytes + length.value();
    }
    if (channel.fd < 0) return;
    channel.received.erase(channel.received.begin(), channel.received.begin() + static_cast<std::ptrdiff_t>(used));
}

void GatewayServer::handle_message(Channel& channel, std::span<std::uint8_t> message) {
    if (!channel.established) {
        handle_initiation(channel, message);
        return;
    }
    const Result<std::span<std::uint8_t>> opened = channel.session.open(message);
    if (!opened.ok()) {
        close(channel, "a message failed authentication");
        return;
    }
    channel.deadline_ms = deadline_after(clock_.monotonic_ms(), idle_timeout_ms);
    handle_frame(channel, opened.value());
}

void GatewayServer::handle_initiation(Channel& channel, std::span<std::uint8_t> message) {
    const Result<relay::ChannelSession::Initiation> initiation = channel.session.read_initiation(key_, message);
    if (!initiation.ok()) {
        counters_.refused_handshake++;
        close(channel, "handshake failed (the node pinned another gateway key?)");
        return;
    }
    const crypto::X25519Key node_key = initiation.value().node_key;
    const AuthorizedKey* known = authorized_.find(node_key);
    if (known == nullptr) {
        counters_.refused_unknown_key++;
        close(channel, "unknown node key " + key_text(node_key) + " (not in authorized_keys)");
        return;
    }
    const auto last = last_initiation_.find(node_key);
    if (last != last_initiation_.end() && !crypto::tai64n_after(initiation.value().timestamp, last->second)) {
        counters_.refused_replay++;
        close(channel, "replayed or stale handshake from " + known->name);
        return;
    }
    last_initiation_[node_key] = initiation.value().timestamp;
    std::array<std::uint8_t, relay::length_prefix_bytes + relay::message2_bytes> reply{};
    const Result<std::size_t> accepted = channel.session.accept(random_, reply);
    if (!accepted.ok()) {
        close(channel, "cannot answer the handshake");
        return;
    }
    if (auto previous = by_key_.find(node_key); previous != by_key_.end()) {
        close(*previous->second, "replaced by a new channel from the same key");
    }
    channel.established = true;
    unauthenticated_--;
    channel.key = node_key;
    channel.name = known->name;
    channel.deadline_ms = deadline_after(clock_.monotonic_ms(), idle_timeout_ms);
    append_message(channel, std::span(reply.data(), accepted.value()));
    by_key_[node_key] = &channel;
    counters_.channels_opened++;
    log_line("node {} ({}) up from {}", std::string_view(channel.name), std::string_view(key_text(node_key)), channel.from);
    flush(channel);
    send_presence(node_key, true);
    tell_present_peers(channel);
}

// A node that just arrived learns which of the keys it may reach are here already.
void GatewayServer::tell_present_peers(Channel& channel) {
    std::array<std::uint8_t, relay::max_frame_bytes> frame{};
    for (const crypto::X25519Key& other : authorized_.mutual_peers(channel.key, by_key_)) {
        const Result<std::size_t> encoded = relay::encode_presence(other, true, frame);
        if (encoded.ok()) send_frame(channel, std::span(frame.data(), encoded.value()));
    }
}

void GatewayServer::handle_frame(Channel& channel, std::span<std::uint8_t> bytes) {
    if (frame_dump_ != nullptr) (void)std::fwrite(bytes.data(), 1, bytes.size(), frame_dump_);
    std::array<std::uint8_t, relay::max_frame_bytes> reply{};
    const Result<relay::Frame> frame = relay::parse_frame(bytes);
    if (!frame.ok()) {
        const bool unknown = frame.error() == Errc::unsupported;
        const Result<std::size_t> error = relay::encode_error(
            unknown ? relay::ErrorCode::unknown_type : relay::ErrorCode::malformed,
            unknown ? "unknown frame type or version" : "malformed frame", reply);
        if (error.ok()) send_frame(channel, std::span(reply.data(), error.value()));
        return;
    }
    switch (frame.value().type) {
        case relay::FrameType::data_to:
            relay(channel, frame.value().peer_key, frame.value().datagram);
            break;
        case relay::FrameType::ping: {
            const Result<std::size_t> pong = relay::encode_ping(relay::FrameType::pong, frame.value().nonce, reply);
            if (pong.ok()) send_frame(channel, std::span(reply.data(), pong.value()));
            break;
        }
        default:
            break;  // pong, and frames only the gateway sends: nothing to do
    }
}

void GatewayServer::relay(Channel& from, const crypto::X25519Key& to, std::span<const std::uint8_t> datagram) {
    if (!authorized_.may_relay(from.key, to)) {
        counters_.dropped_not_authorized++;
        tell_undeliverable(from, to, relay::ErrorCode::not_authorized, "not in reach (authorized_keys)");
        return;
    }
    const auto target = by_key_.find(to);
    if (target == by_key_.end()) {
        counters_.dropped_offline++;
        tell_undeliverable(from, to, relay::ErrorCode::peer_offline, "not connected to this gateway");
        return;
    }
    std::array<std::uint8_t, relay::max_frame_bytes> frame{};
    const Result<std::size_t> encoded = relay::encode_data(relay::FrameType::data_from, from.key, datagram, frame);
    if (!encoded.ok()) return;
    counters_.datagrams_relayed++;
    send_frame(*target->second, std::span(frame.data(), encoded.value()));
}

// Why a node's datagram went nowhere, at most once per undeliverable_notice_interval_ms per
// channel: a log line here and an error frame there (the node logs it), not one per datagram.
void GatewayServer::tell_undeliverable(Channel& from, const crypto::X25519Key& to, relay::ErrorCode code,
                                       std::string_view why) {
    const std::uint32_t now = clock_.monotonic_ms();
    if (from.has_told_undeliverable && elapsed_ms(now, from.told_undeliverable_ms) < undeliverable_notice_interval_ms) {
        return;
    }
    from.has_told_undeliverable = true;
    from.told_undeliverable_ms = now;
    const std::string text = key_text(to) + " " + std::string(why);
    log_line("node {}: a datagram for {}", std::string_view(from.name), std::string_view(text));
    std::array<std::uint8_t, relay::max_frame_bytes> frame{};
    const Result<std::size_t> error = relay::encode_error(code, text, frame);
    if (error.ok()) send_frame(from, std::span(frame.data(), error.value()));
}

void GatewayServer::send_frame(Channel& channel, std::span<const std::uint8_t> frame) {
    // Checked before sealing: a sealed message not sent would leave a gap in the session's
    // counter, and the node would (rightly) end the channel.
    // The bound counts the bytes as they go on the wire (a WebSocket frame's header included).
    const std::size_t sealed_bytes = relay::length_prefix_bytes + frame.size() + noise::tag_bytes;
    if (channel.unsent.size() + framing_bytes(channel, sealed_bytes) + sealed_bytes > limits_.channel_buffer_bytes) {
        counters_.dropped_buffer_full++;  // a slow receiver: drop, never grow
        return;
    }
    std::array<std::uint8_t, relay::length_prefix_bytes + relay::max_transport_message_bytes> sealed{};
    const Result<std::size_t> length = channel.session.seal(frame, sealed);
    if (!length.ok()) return;
    append_message(channel, std::span(sealed.data(), length.value()));
    schedule_flush(channel);
}

// The frames of one event share a write (flush_pending after it), unless they pile up.
void GatewayServer::schedule_flush(Channel& channel) {
    if (channel.unsent.size() >= flush_threshold_bytes) {
        flush(channel);
    } else if (!channel.flush_pending) {
        channel.flush_pending = true;
        pending_flush_.push_back(channel.fd);
    }
}

std::size_t GatewayServer::framing_bytes(const Channel& channel, std::size_t message_bytes) const {
    return channel.framing == Channel::Framing::websocket ? relay::ws::frame_header_bytes(message_bytes, false) : 0;
}

// A length-prefixed Noise message onto the wire's queue: as it is, or in a binary frame of its
// own (a server's frames are not masked).
void GatewayServer::append_message(Channel& channel, std::span<const std::uint8_t> message) {
    if (channel.framing == Channel::Framing::websocket) {
        std::array<std::uint8_t, relay::ws::max_frame_header_bytes> header{};
        const Result<std::size_t> length = relay::ws::encode_frame_header(relay::ws::Opcode::binary, message.size(), nullptr, header);
        if (!length.ok()) return;
        channel.unsent.insert(channel.unsent.end(), header.begin(), header.begin() + static_cast<std::ptrdiff_t>(length.value()));
    }
    channel.unsent.insert(channel.unsent.end(), message.begin(), message.end());
}

// A pong or a close, within the channel's buffer bound (a pong that does not fit is skipped:
// the next ping gets one).
void GatewayServer::send_control(Channel& channel, relay::ws::Opcode opcode, std::span<const std::uint8_t> payload) {
    std::array<std::uint8_t, relay::ws::max_frame_header_bytes> header{};
    const Result<std::size_t> length = relay::ws::encode_frame_header(opcode, payload.size(), nullptr, header);
    if (!length.ok() || channel.unsent.size() + length.value() + payload.size() > limits_.channel_buffer_bytes) return;
    channel.unsent.insert(channel.unsent.end(), header.begin(), header.begin() + static_cast<std::ptrdiff_t>(length.value()));
    channel.unsent.insert(channel.unsent.end(), payload.begin(), payload.end());
    schedule_flush(channel);
}

void GatewayServer::flush_pending() {
    for (const int fd : pending_flush_) {
        const auto found = channels_.find(fd);
        if (found == channels_.end() || found->second->fd < 0) continue;
        found->second->flush_pending = false;
        flush(*found->second);
    }
    pending_flush_.clear();
}

void GatewayServer::send_presence(const crypto::X25519Key& key, bool up) {
    std::array<std::uint8_t, relay::max_frame_bytes> frame{};
    const Result<std::size_t> encoded = relay::encode_presence(key, up, frame);
    if (!encoded.ok()) return;
    // Through the key's own reach list: an arrival costs its reach, not every channel.
    for (const crypto::X25519Key& other : authorized_.mutual_peers(key, by_key_)) {
        send_frame(*by_key_.at(other), std::span(frame.data(), encoded.value()));
    }
}

void GatewayServer::flush(Channel& channel) {
    std::array<std::uint8_t, 65536> chunk{};
    while (channel.fd >= 0 && !channel.unsent.empty()) {
        const std::size_t length = std::min(chunk.size(), channel.unsent.size());
        std::copy_n(channel.unsent.begin(), length, chunk.begin());
        const long sent = transmit(channel, std::span(chunk.data(), length));
        if (sent == transport_would_block) return;  // EPOLLOUT resumes
        if (sent < 0) {  // broken: the loop reports it and read_from closes it, outside any iteration
            channel.unsent.clear();
            (void)::shutdown(channel.fd, SHUT_RDWR);
            return;
        }
        channel.unsent.erase(channel.unsent.begin(), channel.unsent.begin() + sent);
    }
}

void GatewayServer::close(Channel& channel, const std::string& why) {
    if (channel.fd < 0) return;
    if (channel.established) {
        log_line("node {} down: {}", std::string_view(channel.name), std::string_view(why));
        if (auto found = by_key_.find(channel.key); found != by_key_.end() && found->second == &channel) {
            by_key_.erase(found);
            send_presence(channel.key, false);
        }
    } else {
        unauthenticated_--;
        log_line("refused {}: {}", channel.from, std::string_view(why));
    }
    loop_.unwatch(channel.fd);
    ::close(channel.fd);
    closing_.push_back(channel.fd);
    channel.fd = -1;
    channel.session.clear();
}

// Out of descriptors: listeners stop for a second (tick() resumes them), counted and logged once
// per pause, instead of a loop that spins on a connection it cannot take.
void GatewayServer::pause_listeners() {
    if (listeners_paused_) return;
    listeners_paused_ = true;
    listeners_resume_ms_ = deadline_after(clock_.monotonic_ms(), 1'000);
    counters_.out_of_descriptors++;
    for (const int listener : listeners_) (void)loop_.modify(listener, 0);
    log_line("out of file descriptors ({} channels): not accepting for 1 s; raise ulimit -n or lower "
             "limits.max_channels", channels_.size());
}

void GatewayServer::tick() {
    const std::uint32_t now = clock_.monotonic_ms();
    if (listeners_paused_ && time_after_or_equal(now, listeners_resume_ms_)) {
        listeners_paused_ = false;
        for (const int listener : listeners_) (void)loop_.modify(listener, EPOLLIN);
    }
    for (auto& [fd, channel] : channels_) {
        if (channel->fd < 0 || !time_after_or_equal(now, channel->deadline_ms)) continue;
        if (!channel->established) counters_.handshake_timeouts++;
        close(*channel, channel->established ? "no message for 30 s" : "no handshake within 5 s");
    }
    flush_pending();  // presence frames about the channels just closed
    for (const int closed : closing_) channels_.erase(closed);
    closing_.clear();
}

void GatewayServer::replace_authorized_keys(AuthorizedKeys authorized) {
    const AuthorizedKeys previous = std::move(authorized_);
    authorized_ = std::move(authorized);
    counters_.reloads++;
    log_line("authorized_keys re-read: {} keys", authorized_.size());
    std::vector<Channel*> removed;
    for (auto& [key, channel] : by_key_) {
        if (authorized_.find(key) == nullptr) removed.push_back(channel);
    }
    for (Channel* channel : removed) {
        counters_.cut_by_reload++;
        close(*channel, "its key is no longer in authorized_keys");
    }
    // Presence for the pairs whose reach changed (one of the two lines changed), both online.
    std::array<std::uint8_t, relay::max_frame_bytes> frame{};
    const auto tell = [&](Channel& to, const crypto::X25519Key& about, bool up) {
        const Result<std::size_t> encoded = relay::encode_presence(about, up, frame);
        if (encoded.ok()) send_frame(to, std::span(frame.data(), encoded.value()));
    };
    for (auto& [key, channel] : by_key_) {
        if (same_entry(previous.find(key), authorized_.find(key))) continue;
        for (auto& [other_key, other] : by_key_) {
            if (other == channel) continue;
            // A pair whose two lines both changed is handled once, from its smaller key.
            if (!same_entry(previous.find(other_key), authorized_.find(other_key)) && other_key < key) continue;
            const bool now = authorized_.may_relay(key, other_key);  // may_relay checks both ways
            if (previous.may_relay(key, other_key) == now) continue;
            tell(*channel, other_key, now);
            tell(*other, key, now);
        }
    }
    flush_pending();
    for (const int closed : closing_) channels_.erase(closed);
    closing_.clear();
}

std::vector<std::string> GatewayServer::status_lines() const {
    std::array<char, 768> text{};
    const std::size_t length = format_to(
        text, "status: {} channels ({} authenticated); opened {}, refused {} unknown keys, {} failed handshakes, "
              "{} replays, {} at the limit, {} with too many handshaking, {} over a source's rate, {} handshake "
              "timeouts, {} WebSocket refusals; relayed {} datagrams, dropped {} not authorized, {} offline, {} buffer full; {} reloads, "
              "{} cut by them",
        channels_.size(), by_key_.size(), counters_.channels_opened, counters_.refused_unknown_key,
        counters_.refused_handshake, counters_.refused_replay, counters_.refused_limit,
        counters_.refused_unauthenticated_limit, counters_.refused_handshake_rate, counters_.handshake_timeouts, counters_.refused_websocket,
        counters_.datagrams_relayed, counters_.dropped_not_authorized, counters_.dropped_offline,
        counters_.dropped_buffer_full, counters_.reloads, counters_.cut_by_reload);
    std::string line(text.data(), length);
    if (counters_.out_of_descriptors != 0) line += "; " + std::to_string(counters_.out_of_descriptors) + " pauses out of descriptors";
    return {line};
}

}  // namespace pinhole::gateway
