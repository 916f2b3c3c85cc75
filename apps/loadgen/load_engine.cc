#include "apps/loadgen/load_engine.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/crypto/ct.h"
#include "core/crypto/tai64n.h"
#include "core/util/time.h"

namespace pinhole::load {
namespace {

constexpr long would_block = -1;
constexpr long broken = -2;
constexpr std::size_t read_buffer_bytes = 64 * 1024;
constexpr std::size_t batch_bytes = 64 * 1024;  // sealed data frames per write of an active channel
constexpr std::size_t tls_write_chunk = 16 * 1024;
constexpr int max_read_rounds = 8;
constexpr std::uint32_t timers_every_ms = 100;
constexpr std::uint32_t retry_after_ms = 1'000;
constexpr std::uint64_t signal_tag = ~std::uint64_t{0};

std::uint64_t event_tag(std::uint32_t index, int fd) {
    return (static_cast<std::uint64_t>(index) << 32) | static_cast<std::uint32_t>(fd);
}

}  // namespace

const char* describe(Failure failure) {
    switch (failure) {
        case Failure::fd_limit: return "no file descriptor (raise ulimit -n)";
        case Failure::bind: return "cannot bind the source address";
        case Failure::no_ports: return "no free ephemeral port (add source addresses)";
        case Failure::refused: return "connection refused";
        case Failure::connect: return "connect failed";
        case Failure::tls: return "TLS handshake failed";
        case Failure::websocket: return "WebSocket upgrade refused or a bad frame";
        case Failure::closed_handshake: return "closed by the gateway during the handshake";
        case Failure::handshake_failed: return "the gateway's handshake answer did not authenticate";
        case Failure::handshake_timeout: return "no handshake answer in time";
        case Failure::closed_up: return "an established channel closed by the gateway";
        case Failure::reset: return "reset or socket error";
        case Failure::authentication: return "a message failed authentication";
        case Failure::malformed: return "a malformed message";
        case Failure::silent: return "the gateway went silent (no pong)";
        case Failure::count_: break;
    }
    return "?";
}

Engine::Engine(Options options, std::vector<LoadKey> keys, std::vector<std::uint32_t> channels)
    : options_(std::move(options)), keys_(std::move(keys)), channels_(channels.size()) {
    std::map<std::uint32_t, std::uint32_t> channel_of_key;
    for (std::uint32_t i = 0; i < channels.size(); i++) {
        channels_[i].key = channels[i];
        channel_of_key[channels[i]] = i;
    }
    for (Channel& channel : channels_) {
        const std::int32_t partner_key = keys_[channel.key].partner;
        if (partner_key < 0) continue;
        const auto found = channel_of_key.find(static_cast<std::uint32_t>(partner_key));
        if (found == channel_of_key.end()) continue;
        channel.active = true;
        channel.partner = static_cast<std::int32_t>(found->second);
    }
    read_buffer_.resize(read_buffer_bytes + relay::length_prefix_bytes + relay::max_message_bytes);
    write_buffer_.resize(relay::ws::max_frame_header_bytes + batch_bytes + relay::length_prefix_bytes +
                         relay::max_message_bytes);
    dummy_.resize(options_.datagram_bytes);
    for (std::size_t i = 0; i < dummy_.size(); i++) dummy_[i] = static_cast<std::uint8_t>(i * 131 + 7);
    dummy_[0] = 4;  // looks like a WireGuard transport message; the gateway never looks
    handshake_ms_.reserve(channels_.size());
}

Engine::~Engine() {
    for (Channel& channel : channels_) close_channel(channel);
    if (tls_context_ != nullptr) SSL_CTX_free(tls_context_);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    for (LoadKey& key : keys_) crypto::zeroize_object(key.pair);
}

double Engine::seconds_since(std::uint32_t since_ms, std::uint32_t now) const {
    return static_cast<double>(elapsed_ms(now, since_ms)) / 1000.0;
}

int Engine::run() {
    ::signal(SIGPIPE, SIG_IGN);  // OpenSSL writes with write(2)
    sigset_t signals;
    sigemptyset(&signals);
    for (const int number : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&signals, number);
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return 2;
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (epoll_fd_ < 0 || signal_fd_ < 0) {
        std::fprintf(stderr, "pinhole-load: epoll/signalfd: %s\n", std::strerror(errno));
        return 2;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = signal_tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, signal_fd_, &event) != 0) return 2;
    if (options_.tls) {
        tls_context_ = SSL_CTX_new(TLS_client_method());
        if (tls_context_ == nullptr) {
            std::fprintf(stderr, "pinhole-load: cannot make an OpenSSL context\n");
            return 2;
        }
        SSL_CTX_set_verify(tls_context_, SSL_VERIFY_NONE, nullptr);  // the Noise session authenticates
        SSL_CTX_set_mode(tls_context_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                           SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_session_cache_mode(tls_context_, SSL_SESS_CACHE_OFF);
    }

    const char* wire = options_.websocket ? (options_.tls ? "wss" : "ws") : (options_.tls ? "tls" : "tcp");
    std::printf("pinhole-load: %zu channels to %s (%s): %zu idle, %zu active pairs; %.0f handshakes/s, at most %zu at "
                "once; idle channels ping every %.1f s\n",
                channels_.size(), options_.gateway_text.c_str(), wire, options_.idle,
                options_.pairs, options_.handshake_rate, options_.max_in_flight, options_.ping_interval_ms / 1000.0);
    if (options_.pairs > 0) {
        if (options_.pair_rate > 0) {
            std::printf("pinhole-load: each pair sends %.0f datagrams/s each way, %zu bytes each\n", options_.pair_rate,
                        options_.datagram_bytes);
        } else {
            std::printf("pinhole-load: each pair sends %zu-byte datagrams each way as fast as the gateway takes them\n",
                        options_.datagram_bytes);
        }
    }

    const std::uint32_t begin = clock_.monotonic_ms();
    last_token_ms_ = last_report_ms_ = last_timers_ms_ = last_rate_ms_ = begin;
    std::vector<epoll_event> events(256);
    while (!stopping_) {
        std::uint32_t now = clock_.monotonic_ms();
        start_connections(now);
        const bool starting = next_to_start_ < channels_.size() || !retry_queue_.empty();
        const int timeout = starting ? 2 : (options_.pair_rate > 0 && options_.pairs > 0 ? 5 : 50);
        const int ready = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
        if (ready < 0 && errno != EINTR) {
            std::fprintf(stderr, "pinhole-load: epoll_wait: %s\n", std::strerror(errno));
            break;
        }
        now = clock_.monotonic_ms();
        for (int i = 0; i < ready; i++) {
            const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
            if (tag == signal_tag) {
                signalfd_siginfo info{};
                while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                    if (info.ssi_signo == SIGUSR1) {
                        report(now, "now");
                    } else {
                        stopping_ = true;
                    }
                }
                continue;
            }
            on_event(static_cast<std::uint32_t>(tag >> 32), static_cast<int>(static_cast<std::uint32_t>(tag)),
                     events[static_cast<std::size_t>(i)].events, now);
        }
        if (options_.pair_rate > 0 && elapsed_ms(now, last_rate_ms_) >= 5) {
            const double seconds = seconds_since(last_rate_ms_, now);
            last_rate_ms_ = now;
            // Active channels come first (the pairs, then the idle ones): this stays cheap.
            for (std::size_t i = 0; i < channels_.size() && channels_[i].active; i++) {
                Channel& channel = channels_[i];
                if (channel.state != State::up) continue;
                channel.send_credit = std::min(channel.send_credit + options_.pair_rate * seconds,
                                               options_.pair_rate * 0.05 + 1);
                if (channel.unsent.empty()) fill_active(channel, now);
            }
        }
        if (elapsed_ms(now, last_timers_ms_) >= timers_every_ms) {
            last_timers_ms_ = now;
            timers(now);
        }
        if (!established_ && establishment_done()) {
            established_ = true;
            established_ms_ = now;
            window_rx_datagrams_ = rx_datagrams_;
            window_rx_bytes_ = rx_bytes_;
            window_tx_datagrams_ = tx_datagrams_;
            std::vector<std::uint32_t> sorted = handshake_ms_;
            std::sort(sorted.begin(), sorted.end());
            const auto percentile = [&](double p) -> std::uint32_t {
                if (sorted.empty()) return 0;
                return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
            };
            std::string failed;
            std::uint64_t total_failures = 0;
            for (std::size_t i = 0; i < failures_.size(); i++) {
                if (failures_[i] == 0) continue;
                total_failures += failures_[i];
                failed += (failed.empty() ? "" : ", ") + std::to_string(failures_[i]) + " " +
                          describe(static_cast<Failure>(i));
            }
            std::printf("pinhole-load: established: %zu of %zu channels up in %.2f s (connect to up: p50 %u ms, p99 "
                        "%u ms, max %u ms); failures: %s\n",
                        up_, channels_.size(), !handshake_ms_.empty() ? seconds_since(first_start_ms_, last_up_ms_) : 0.0,
                        percentile(0.5), percentile(0.99), sorted.empty() ? 0u : sorted.back(),
                        total_failures == 0 ? "none" : failed.c_str());
            if (up_ == channels_.size()) std::printf("pinhole-load: all %zu channels up\n", channels_.size());
        }
        if (options_.report_interval_s > 0 &&
            elapsed_ms(now, last_report_ms_) >= static_cast<std::uint32_t>(options_.report_interval_s * 1000)) {
            report(now, "");
        }
        if (established_ && options_.duration_s > 0 &&
            seconds_since(established_ms_, now) >= options_.duration_s) {
            stopping_ = true;
        }
        if (established_ && up_ == 0 && establishment_done()) {
            std::printf("pinhole-load: no channel is up and none is being opened: stopping\n");
            stopping_ = true;
        }
    }
    const std::uint32_t end = clock_.monotonic_ms();
    summary(end);
    const bool all_up = up_ == channels_.size();
    for (Channel& channel : channels_) close_channel(channel);
    return all_up ? 0 : 1;
}

bool Engine::establishment_done() const {
    return next_to_start_ >= channels_.size() && retry_queue_.empty() && in_flight_ == 0;
}

void Engine::start_connections(std::uint32_t now) {
    const double seconds = seconds_since(last_token_ms_, now);
    last_token_ms_ = now;
    tokens_ = std::min(tokens_ + options_.handshake_rate * seconds, std::max(1.0, options_.handshake_rate * 0.02));
    while (tokens_ >= 1 && in_flight_ < options_.max_in_flight) {
        std::uint32_t index = 0;
        if (!retry_queue_.empty() && time_after_or_equal(now, channels_[retry_queue_.front()].retry_at_ms)) {
            index = retry_queue_.front();
            retry_queue_.erase(retry_queue_.begin());
        } else if (next_to_start_ < channels_.size()) {
            index = static_cast<std::uint32_t>(next_to_start_++);
        } else {
            break;
        }
        tokens_ -= 1;
        start(channels_[index], index, now);
    }
}

void Engine::start(Channel& channel, std::uint32_t index, std::uint32_t now) {
    if (!started_any_) {
        started_any_ = true;
        first_start_ms_ = now;
    }
    channel.attempts++;
    channel.started_ms = now;
    channel.state = State::connecting;
    in_flight_++;
    const int family = options_.gateway.ss_family;
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(channel, errno == EMFILE || errno == ENFILE ? Failure::fd_limit : Failure::connect, now, errno);
        return;
    }
    channel.fd = fd;
    const int yes = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    if (!options_.sources.empty()) {
        const SourceAddress& source = options_.sources[index % options_.sources.size()];
        // The port is picked at connect(), per destination, not reserved per source at bind().
        (void)::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &yes, sizeof yes);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&source.address), source.length) != 0) {
            fail(channel, errno == EADDRINUSE ? Failure::no_ports : Failure::bind, now, errno);
            return;
        }
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&options_.gateway), options_.gateway_length) != 0 &&
        errno != EINPROGRESS) {
        const int error = errno;
        fail(channel, error == EADDRNOTAVAIL || error == EADDRINUSE ? Failure::no_ports
                      : error == ECONNREFUSED                         ? Failure::refused
                                                                      : Failure::connect,
             now, error);
        return;
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    event.data.u64 = event_tag(index, fd);
    channel.want_write = true;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) fail(channel, Failure::connect, now, errno);
}

void Engine::on_event(std::uint32_t index, int fd, std::uint32_t events, std::uint32_t now) {
    if (index >= channels_.size()) return;
    Channel& channel = channels_[index];
    if (channel.fd != fd) return;  // closed earlier in this batch
    switch (channel.state) {
        case State::connecting:
            on_connected(channel, now);
            break;
        case State::tls:
            (void)advance_tls(channel, now);
            break;
        case State::upgrading:
        case State::handshaking:
        case State::up:
            if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) read_from(channel, now);
            if (channel.fd >= 0 && (events & EPOLLOUT) != 0) {
                if (flush(channel) && channel.active) fill_active(channel, now);
            }
            break;
        case State::waiting:
        case State::failed:
            break;
    }
}

void Engine::on_connected(Channel& channel, std::uint32_t now) {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(channel.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error == EINPROGRESS || error == EALREADY) return;
    if (error != 0) {
        fail(channel, error == ECONNREFUSED ? Failure::refused : error == EADDRNOTAVAIL ? Failure::no_ports : Failure::connect,
             now, error);
        return;
    }
    if (!options_.tls) {
        transport_ready(channel, now);
        return;
    }
    channel.ssl = SSL_new(tls_context_);
    if (channel.ssl == nullptr || SSL_set_fd(channel.ssl, channel.fd) != 1) {
        fail(channel, Failure::tls, now);
        return;
    }
    SSL_set_connect_state(channel.ssl);
    channel.state = State::tls;
    (void)advance_tls(channel, now);
}

bool Engine::advance_tls(Channel& channel, std::uint32_t now) {
    ERR_clear_error();
    const int result = SSL_do_handshake(channel.ssl);
    if (result != 1) {
        const int error = SSL_get_error(channel.ssl, result);
        if (error == SSL_ERROR_WANT_READ) {
            set_want_write(channel, false);
            return false;
        }
        if (error == SSL_ERROR_WANT_WRITE) {
            set_want_write(channel, true);
            return false;
        }
        if (first_error_text_.empty()) {
            std::array<char, 256> text{};
            ERR_error_string_n(ERR_peek_error(), text.data(), text.size());
            first_error_text_ = std::string("TLS: ") + text.data();
        }
        fail(channel, Failure::tls, now);
        return false;
    }
    if (options_.has_cert_sha256) {
        X509* certificate = SSL_get1_peer_certificate(channel.ssl);
        std::array<std::uint8_t, 32> digest{};
        unsigned char* der = nullptr;
        const int der_length = certificate == nullptr ? -1 : i2d_X509(certificate, &der);
        if (der_length > 0) SHA256(der, static_cast<std::size_t>(der_length), digest.data());
        OPENSSL_free(der);
        X509_free(certificate);
        if (der_length <= 0 || digest != options_.cert_sha256) {
            if (first_error_text_.empty()) first_error_text_ = "TLS: the gateway's certificate does not match --cert-sha256";
            fail(channel, Failure::tls, now);
            return false;
        }
    }
    transport_ready(channel, now);
    return true;
}

// TCP (and TLS) is up: the WebSocket upgrade first on ws:// and wss://, then the Noise handshake.
void Engine::transport_ready(Channel& channel, std::uint32_t now) {
    if (!options_.websocket) {
        send_initiation(channel, now);
        return;
    }
    channel.websocket = std::make_unique<WebSocket>();
    std::array<std::uint8_t, 512> request{};
    const Result<std::size_t> encoded =
        relay::ws::make_client_key(random_, channel.websocket->key).ok()
            ? relay::ws::encode_upgrade_request(options_.websocket_host, options_.websocket_path,
                                                channel.websocket->key.key_text(), request)
            : Result<std::size_t>(Errc::io);
    if (!encoded.ok()) {
        fail(channel, Failure::websocket, now);
        return;
    }
    channel.state = State::upgrading;
    channel.unsent.assign(request.begin(), request.begin() + static_cast<std::ptrdiff_t>(encoded.value()));
    channel.unsent_offset = 0;
    (void)flush(channel);
}

void Engine::next_mask(relay::ws::Mask& mask) {
    if (mask_pool_used_ + mask.size() > mask_pool_.size()) {
        if (!random_.fill(mask_pool_).ok()) std::abort();  // getrandom does not fail on Linux
        mask_pool_used_ = 0;
    }
    std::copy_n(mask_pool_.begin() + static_cast<std::ptrdiff_t>(mask_pool_used_), mask.size(), mask.begin());
    mask_pool_used_ += mask.size();
}

// Queues a Noise message (or, on WebSocket, a control frame's payload) behind what waits: in a
// masked frame of its own on ws://, as it is otherwise. Masks `message` in place.
void Engine::queue_message(Channel& channel, std::span<std::uint8_t> message, relay::ws::Opcode opcode) {
    if (channel.websocket) {
        std::array<std::uint8_t, relay::ws::max_frame_header_bytes> header{};
        relay::ws::Mask mask{};
        next_mask(mask);
        const Result<std::size_t> length = relay::ws::encode_frame_header(opcode, message.size(), &mask, header);
        if (!length.ok()) return;
        relay::ws::apply_mask(message, mask, 0);
        channel.unsent.insert(channel.unsent.end(), header.begin(),
                              header.begin() + static_cast<std::ptrdiff_t>(length.value()));
    }
    channel.unsent.insert(channel.unsent.end(), message.begin(), message.end());
}

void Engine::send_initiation(Channel& channel, std::uint32_t now) {
    std::array<std::uint8_t, relay::length_prefix_bytes + relay::message1_bytes> message{};
    const Result<std::size_t> initiation =
        channel.session.start_initiator(keys_[channel.key].pair, options_.gateway_key, random_,
                                        crypto::tai64n_encode(clock_.wall_time()), message);
    if (!initiation.ok()) {
        fail(channel, Failure::handshake_failed, now);
        return;
    }
    channel.state = State::handshaking;
    queue_message(channel, std::span(message.data(), initiation.value()));
    (void)flush(channel);
}

long Engine::transport_write(Channel& channel, const std::uint8_t* bytes, std::size_t length) {
    if (channel.ssl == nullptr) {
        const ssize_t sent = ::send(channel.fd, bytes, length, MSG_NOSIGNAL);
        if (sent < 0) return errno == EAGAIN || errno == EINTR ? would_block : broken;
        return sent;
    }
    // A write that wanted to be retried must be retried with the same length.
    const std::size_t chunk = channel.tls_retry_bytes != 0 ? channel.tls_retry_bytes : std::min(length, tls_write_chunk);
    ERR_clear_error();
    const int written = SSL_write(channel.ssl, bytes, static_cast<int>(chunk));
    if (written > 0) {
        channel.tls_retry_bytes = 0;
        return written;
    }
    const int error = SSL_get_error(channel.ssl, written);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
        channel.tls_retry_bytes = static_cast<std::uint32_t>(chunk);
        return would_block;
    }
    return broken;
}

long Engine::transport_read(Channel& channel, std::uint8_t* out, std::size_t length) {
    if (channel.ssl == nullptr) {
        const ssize_t got = ::recv(channel.fd, out, length, 0);
        if (got < 0) return errno == EAGAIN || errno == EINTR ? would_block : broken;
        return got;
    }
    ERR_clear_error();
    const int got = SSL_read(channel.ssl, out, static_cast<int>(std::min<std::size_t>(length, 1 << 30)));
    if (got > 0) return got;
    const int error = SSL_get_error(channel.ssl, got);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return would_block;
    if (error == SSL_ERROR_ZERO_RETURN) return 0;
    if (error == SSL_ERROR_SYSCALL && errno == 0) return 0;  // EOF without close_notify
    return broken;
}

void Engine::set_want_write(Channel& channel, bool want) {
    if (channel.fd < 0 || channel.want_write == want) return;
    channel.want_write = want;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    event.data.u64 = event_tag(static_cast<std::uint32_t>(&channel - channels_.data()), channel.fd);
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, channel.fd, &event);
}

// Writes what is queued; true when nothing is left.
bool Engine::flush(Channel& channel) {
    while (channel.fd >= 0 && channel.unsent_offset < channel.unsent.size()) {
        const long sent = transport_write(channel, channel.unsent.data() + channel.unsent_offset,
                                          channel.unsent.size() - channel.unsent_offset);
        if (sent == would_block) {
            write_blocked_++;
            set_want_write(channel, true);
            return false;
        }
        if (sent < 0) {
            fail(channel, Failure::reset, clock_.monotonic_ms(), errno);
            return false;
        }
        channel.unsent_offset += static_cast<std::size_t>(sent);
    }
    if (channel.fd < 0) return false;
    channel.unsent.clear();
    channel.unsent_offset = 0;
    if (!channel.active) {
        channel.unsent.shrink_to_fit();  // an idle channel keeps no buffer
        set_want_write(channel, false);
    } else {
        // As fast as possible: wake when the socket takes more; at a set rate the timer does.
        const bool sending = options_.pair_rate <= 0 && channel.state == State::up && channel.partner >= 0 &&
                             channels_[static_cast<std::size_t>(channel.partner)].state == State::up;
        set_want_write(channel, sending);
    }
    return true;
}

// Seals a frame and sends it, or queues it behind bytes already waiting.
bool Engine::send_frame(Channel& channel, std::span<const std::uint8_t> frame) {
    std::array<std::uint8_t, relay::length_prefix_bytes + relay::max_transport_message_bytes> sealed{};
    const Result<std::size_t> length = channel.session.seal(frame, sealed);
    if (!length.ok()) return false;
    queue_message(channel, std::span(sealed.data(), length.value()));
    return flush(channel);
}

// An active channel with nothing waiting: a batch of data_to frames to its partner.
void Engine::fill_active(Channel& channel, std::uint32_t now) {
    if (channel.state != State::up || channel.partner < 0 || !channel.unsent.empty()) return;
    const Channel& partner = channels_[static_cast<std::size_t>(channel.partner)];
    if (partner.state != State::up) {
        set_want_write(channel, false);
        return;
    }
    const std::size_t sealed_bytes = relay::length_prefix_bytes + relay::frame_header_bytes + crypto::x25519_key_bytes +
                                     dummy_.size() + noise::tag_bytes;
    std::size_t frames = batch_bytes / sealed_bytes;
    if (options_.pair_rate > 0) frames = std::min(frames, static_cast<std::size_t>(channel.send_credit));
    if (frames == 0) return;
    std::array<std::uint8_t, relay::max_frame_bytes> frame{};
    const Result<std::size_t> encoded =
        relay::encode_data(relay::FrameType::data_to, keys_[partner.key].pair.public_key, dummy_, frame);
    if (!encoded.ok()) return;
    // Sealed after room for a WebSocket frame header: on ws:// the batch is one binary frame.
    const std::size_t room = relay::ws::max_frame_header_bytes;
    std::size_t used = 0;
    for (std::size_t i = 0; i < frames; i++) {
        const Result<std::size_t> sealed = channel.session.seal(std::span(frame.data(), encoded.value()),
                                                                std::span(write_buffer_).subspan(room + used));
        if (!sealed.ok()) break;
        used += sealed.value();
        channel.sent++;
        tx_datagrams_++;
        if (options_.pair_rate > 0) channel.send_credit -= 1;
    }
    std::size_t written = room;
    used += room;
    if (channel.websocket) {
        std::array<std::uint8_t, relay::ws::max_frame_header_bytes> header{};
        relay::ws::Mask mask{};
        next_mask(mask);
        const Result<std::size_t> length =
            relay::ws::encode_frame_header(relay::ws::Opcode::binary, used - room, &mask, header);
        if (!length.ok()) return;
        relay::ws::apply_mask(std::span(write_buffer_).subspan(room, used - room), mask, 0);
        written = room - length.value();
        std::copy_n(header.begin(), length.value(), write_buffer_.begin() + static_cast<std::ptrdiff_t>(written));
    }
    while (written < used) {
        const long sent = transport_write(channel, write_buffer_.data() + written, used - written);
        if (sent == would_block) break;
        if (sent < 0) {
            fail(channel, Failure::reset, now, errno);
            return;
        }
        written += static_cast<std::size_t>(sent);
    }
    if (written < used) {
        write_blocked_++;
        channel.unsent.assign(write_buffer_.begin() + static_cast<std::ptrdiff_t>(written),
                              write_buffer_.begin() + static_cast<std::ptrdiff_t>(used));
        channel.unsent_offset = 0;
        set_want_write(channel, true);
    } else {
        set_want_write(channel, options_.pair_rate <= 0);
    }
}

void Engine::read_from(Channel& channel, std::uint32_t now) {
    for (int round = 0; round < max_read_rounds && channel.fd >= 0; round++) {
        std::size_t carried = channel.partial.size();
        std::copy(channel.partial.begin(), channel.partial.end(), read_buffer_.begin());
        long got = transport_read(channel, read_buffer_.data() + carried, read_buffer_bytes);
        if (got == would_block) return;
        if (got <= 0) {
            const int error = errno;
            const bool established = channel.state == State::up;
            fail(channel,
                 got == 0 ? (established ? Failure::closed_up : Failure::closed_handshake)
                          : (established ? Failure::reset : Failure::closed_handshake),
                 now, got == 0 ? 0 : error);
            return;
        }
        channel.last_received_ms = now;
        std::size_t carried_payload = carried;
        if (channel.state == State::upgrading && !finish_upgrade(channel, carried_payload, got, now)) return;
        if (channel.websocket && !decode_websocket(channel, carried_payload, got, now)) return;
        carried = carried_payload;
        const std::size_t total = carried + static_cast<std::size_t>(got);
        std::size_t used = 0;
        while (channel.fd >= 0) {
            const std::span<const std::uint8_t> rest(read_buffer_.data() + used, total - used);
            const Result<std::size_t> length = relay::next_message_bytes(rest);
            if (!length.ok() && length.error() == Errc::would_block) break;
            if (!length.ok()) {
                fail(channel, Failure::malformed, now);
                return;
            }
            if (rest.size() < relay::length_prefix_bytes + length.value()) break;
            if (!handle_message(channel, std::span(read_buffer_.data() + used + relay::length_prefix_bytes, length.value()),
                                now)) {
                return;
            }
            used += relay::length_prefix_bytes + length.value();
        }
        if (channel.fd < 0) return;
        channel.partial.assign(read_buffer_.begin() + static_cast<std::ptrdiff_t>(used),
                               read_buffer_.begin() + static_cast<std::ptrdiff_t>(total));
        if (channel.partial.empty() && !channel.active) channel.partial.shrink_to_fit();
        if (static_cast<std::size_t>(got) < read_buffer_bytes && channel.ssl == nullptr) return;
    }
}

// The answer to the upgrade, read so far into the read buffer (carried + got bytes): false while
// it is incomplete (kept in `partial`) or when it failed. Once whole, the Noise handshake starts
// and the bytes after the head are the first frames (carried = 0, got = their count).
bool Engine::finish_upgrade(Channel& channel, std::size_t& carried, long& got, std::uint32_t now) {
    const std::size_t total = carried + static_cast<std::size_t>(got);
    relay::ws::ResponseInfo info;
    const Result<std::size_t> head = relay::ws::parse_upgrade_response(
        std::span(read_buffer_.data(), total), channel.websocket->key.accept_text(), info);
    if (!head.ok() && head.error() == Errc::would_block && total < relay::ws::max_head_bytes) {
        channel.partial.assign(read_buffer_.begin(), read_buffer_.begin() + static_cast<std::ptrdiff_t>(total));
        return false;
    }
    if (!head.ok()) {
        if (first_error_text_.empty()) {
            first_error_text_ = std::string("WebSocket upgrade: ") + relay::ws::describe(info.failure) +
                                (info.status != 0 ? " (HTTP " + std::to_string(info.status) + ")" : "");
        }
        fail(channel, Failure::websocket, now);
        return false;
    }
    std::memmove(read_buffer_.data(), read_buffer_.data() + head.value(), total - head.value());
    carried = 0;
    got = static_cast<long>(total - head.value());
    channel.partial.clear();
    send_initiation(channel, now);
    return channel.fd >= 0;
}

// Frames to payload, in place: the `got` bytes after `carried` become the payload they carry.
// Answers a ping; false when the stream ended (a close, a refused frame).
bool Engine::decode_websocket(Channel& channel, std::size_t carried, long& got, std::uint32_t now) {
    relay::ws::Decoder& decoder = channel.websocket->decoder;
    const Result<std::size_t> payload =
        decoder.decode(std::span(read_buffer_.data() + carried, static_cast<std::size_t>(got)));
    if (!payload.ok()) {
        if (first_error_text_.empty()) first_error_text_ = std::string("WebSocket: ") + relay::ws::describe(decoder.failure());
        fail(channel, Failure::websocket, now);
        return false;
    }
    got = static_cast<long>(payload.value());
    if (decoder.ping_pending()) {
        std::array<std::uint8_t, relay::ws::max_control_payload_bytes> pong{};
        const std::span<const std::uint8_t> ping = decoder.ping_payload();
        std::copy(ping.begin(), ping.end(), pong.begin());
        decoder.clear_ping();
        queue_message(channel, std::span(pong.data(), ping.size()), relay::ws::Opcode::pong);
        if (!flush(channel) && channel.fd < 0) return false;
    }
    if (decoder.closed()) {
        fail(channel, channel.state == State::up ? Failure::closed_up : Failure::closed_handshake, now);
        return false;
    }
    return true;
}

bool Engine::handle_message(Channel& channel, std::span<std::uint8_t> message, std::uint32_t now) {
    if (channel.state == State::handshaking) {
        if (!channel.session.finish_initiator(message).ok()) {
            fail(channel, Failure::handshake_failed, now);
            return false;
        }
        channel.state = State::up;
        in_flight_--;
        up_++;
        last_up_ms_ = now;
        handshake_ms_.push_back(elapsed_ms(now, channel.started_ms));
        std::uint8_t spread[4] = {};
        (void)random_.fill(spread);
        const std::uint32_t offset =
            (static_cast<std::uint32_t>(spread[0]) << 24 | spread[1] << 16 | spread[2] << 8 | spread[3]) %
            std::max<std::uint32_t>(1, options_.ping_interval_ms);
        channel.next_ping_ms = deadline_after(now, offset);
        if (channel.active && options_.pair_rate <= 0 &&
            channels_[static_cast<std::size_t>(channel.partner)].state == State::up) {
            fill_active(channel, now);
            fill_active(channels_[static_cast<std::size_t>(channel.partner)], now);
        }
        return channel.fd >= 0;
    }
    const Result<std::span<std::uint8_t>> opened = channel.session.open(message);
    if (!opened.ok()) {
        fail(channel, Failure::authentication, now);
        return false;
    }
    const Result<relay::Frame> frame = relay::parse_frame(opened.value());
    if (!frame.ok()) {
        unexpected_++;
        return true;
    }
    handle_frame(channel, frame.value());
    return channel.fd >= 0;
}

void Engine::handle_frame(Channel& channel, const relay::Frame& frame) {
    switch (frame.type) {
        case relay::FrameType::data_from:
            if (channel.partner < 0 ||
                frame.peer_key != keys_[channels_[static_cast<std::size_t>(channel.partner)].key].pair.public_key) {
                unexpected_++;
                break;
            }
            channel.received++;
            rx_datagrams_++;
            rx_bytes_ += frame.datagram.size();
            break;
        case relay::FrameType::ping: {
            std::array<std::uint8_t, 16> pong{};
            const Result<std::size_t> encoded = relay::encode_ping(relay::FrameType::pong, frame.nonce, pong);
            if (encoded.ok()) (void)send_frame(channel, std::span(pong.data(), encoded.value()));
            break;
        }
        case relay::FrameType::pong:
            pongs_++;
            break;
        case relay::FrameType::presence:
            presence_++;
            break;
        case relay::FrameType::error:
            errors_received_++;
            if (first_error_text_.empty()) {
                first_error_text_ = "the gateway says: " + std::string(relay::describe(frame.error)) + ": " +
                                    std::string(frame.text);
            }
            break;
        case relay::FrameType::data_to:
            unexpected_++;
            break;
    }
}

void Engine::timers(std::uint32_t now) {
    const std::uint32_t silent_after = options_.ping_interval_ms * 3 + 5'000;
    for (Channel& channel : channels_) {
        switch (channel.state) {
            case State::connecting:
            case State::tls:
            case State::upgrading:
            case State::handshaking:
                if (elapsed_ms(now, channel.started_ms) >= options_.handshake_timeout_ms) {
                    fail(channel, Failure::handshake_timeout, now);
                }
                break;
            case State::up:
                if (elapsed_ms(now, channel.last_received_ms) >= silent_after) {
                    fail(channel, Failure::silent, now);
                } else if (time_after_or_equal(now, channel.next_ping_ms)) {
                    channel.next_ping_ms = deadline_after(now, options_.ping_interval_ms);
                    std::array<std::uint8_t, 16> ping{};
                    const Result<std::size_t> encoded = relay::encode_ping(relay::FrameType::ping, ++channel.ping_nonce, ping);
                    // Behind an active channel's queued batch, or at once.
                    if (encoded.ok()) {
                        pings_sent_++;
                        (void)send_frame(channel, std::span(ping.data(), encoded.value()));
                    }
                }
                break;
            case State::waiting:
            case State::failed:
                break;
        }
    }
}

void Engine::fail(Channel& channel, Failure why, std::uint32_t now, int error) {
    failures_[static_cast<std::size_t>(why)]++;
    if (first_error_text_.empty() && error != 0) {
        first_error_text_ = std::string(describe(why)) + ": " + std::strerror(error);
    }
    if (channel.state == State::up) {
        up_--;
    } else if (channel.state != State::waiting && channel.state != State::failed) {
        in_flight_--;
    }
    close_channel(channel);
    if (channel.attempts <= options_.retries && !stopping_) {
        channel.state = State::waiting;
        channel.retry_at_ms = deadline_after(now, retry_after_ms);
        retry_queue_.push_back(static_cast<std::uint32_t>(&channel - channels_.data()));
    } else {
        channel.state = State::failed;
    }
}

void Engine::close_channel(Channel& channel) {
    if (channel.ssl != nullptr) {
        SSL_free(channel.ssl);
        channel.ssl = nullptr;
    }
    if (channel.fd >= 0) {
        (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, channel.fd, nullptr);
        ::close(channel.fd);
        channel.fd = -1;
    }
    channel.want_write = false;
    channel.tls_retry_bytes = 0;
    channel.session.clear();
    channel.websocket.reset();
    std::vector<std::uint8_t>().swap(channel.partial);
    std::vector<std::uint8_t>().swap(channel.unsent);
    channel.unsent_offset = 0;
}

void Engine::report(std::uint32_t now, const char* label) {
    const double seconds = std::max(0.001, seconds_since(last_report_ms_, now));
    const double mb_per_s = static_cast<double>(rx_bytes_ - last_report_rx_bytes_) / seconds / 1e6;
    const double datagrams_per_s = static_cast<double>(rx_datagrams_ - last_report_rx_datagrams_) / seconds;
    std::uint64_t failed = 0;
    for (const std::uint64_t count : failures_) failed += count;
    const double since_start = started_any_ ? seconds_since(first_start_ms_, now) : 0.0;
    std::printf("pinhole-load: [%7.1f s%s%s] up %zu/%zu, in handshake %zu, failures %llu; received %.2f MB/s, %.0f "
                "datagrams/s; pongs %llu, errors %llu\n",
                since_start, *label != 0 ? ", " : "", label, up_, channels_.size(), in_flight_,
                static_cast<unsigned long long>(failed), mb_per_s, datagrams_per_s,
                static_cast<unsigned long long>(pongs_), static_cast<unsigned long long>(errors_received_));
    last_report_ms_ = now;
    last_report_rx_bytes_ = rx_bytes_;
    last_report_rx_datagrams_ = rx_datagrams_;
}

void Engine::summary(std::uint32_t now) {
    if (!established_) {
        established_ms_ = now;
        window_rx_datagrams_ = rx_datagrams_;
        window_rx_bytes_ = rx_bytes_;
        window_tx_datagrams_ = tx_datagrams_;
    }
    const double window = seconds_since(established_ms_, now);
    const double rx_datagrams = static_cast<double>(rx_datagrams_ - window_rx_datagrams_);
    const double rx_bytes = static_cast<double>(rx_bytes_ - window_rx_bytes_);
    const double tx_datagrams = static_cast<double>(tx_datagrams_ - window_tx_datagrams_);
    const double safe_window = std::max(window, 0.001);
    std::uint64_t failed = 0;
    std::string reasons;
    std::string reasons_keyed;
    for (std::size_t i = 0; i < failures_.size(); i++) {
        failed += failures_[i];
        if (failures_[i] == 0) continue;
        reasons += (reasons.empty() ? "" : ", ") + std::to_string(failures_[i]) + " " + describe(static_cast<Failure>(i));
    }
    std::printf("pinhole-load: summary: %zu of %zu channels up at the end (%zu idle, %zu active pairs); failures: %s\n",
                up_, channels_.size(), options_.idle, options_.pairs, failed == 0 ? "none" : reasons.c_str());
    if (!first_error_text_.empty()) std::printf("pinhole-load: summary: first error: %s\n", first_error_text_.c_str());
    if (options_.pairs > 0) {
        std::printf("pinhole-load: summary: over %.2f s after establishment the pairs received %.0f datagrams/s, %.2f "
                    "MB/s of datagrams (sent %.0f/s; %.1f %% not delivered: dropped by the gateway or in flight)\n",
                    window, rx_datagrams / safe_window, rx_bytes / safe_window / 1e6, tx_datagrams / safe_window,
                    tx_datagrams > 0 ? 100.0 * std::max(0.0, tx_datagrams - rx_datagrams) / tx_datagrams : 0.0);
    }
    std::printf("pinhole-load: result channels=%zu up=%zu failed=%llu establish_s=%.3f window_s=%.3f rx_datagrams=%.0f "
                "rx_bytes=%.0f rx_dps=%.0f rx_MBps=%.3f tx_dps=%.0f pings=%llu pongs=%llu errors=%llu unexpected=%llu\n",
                channels_.size(), up_, static_cast<unsigned long long>(failed),
                !handshake_ms_.empty() ? seconds_since(first_start_ms_, last_up_ms_) : 0.0, window, rx_datagrams, rx_bytes,
                rx_datagrams / safe_window, rx_bytes / safe_window / 1e6, tx_datagrams / safe_window,
                static_cast<unsigned long long>(pings_sent_), static_cast<unsigned long long>(pongs_),
                static_cast<unsigned long long>(errors_received_), static_cast<unsigned long long>(unexpected_));
    std::fflush(stdout);
}

}  // namespace pinhole::load
