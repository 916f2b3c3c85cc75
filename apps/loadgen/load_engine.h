// pinhole-load's engine: one epoll loop holding many relay channels to a gateway. Every channel
// is a node identity of the key file and runs what a node runs (core/relay): TCP (or TLS), the
// Noise_IK handshake to the gateway's pinned key (ChannelSession), then sealed frames
// (frames.h). Idle channels only ping, spread over the ping interval; an active pair's two
// channels send each other data_to frames of dummy datagrams as fast as the gateway takes them
// (or at a set rate) and count what arrives.
//
// Memory per idle channel: the Channel record (its Noise session, a few counters) and nothing
// else; receive and send buffers are shared, and a channel keeps bytes of its own only while a
// message is split across reads or the socket refuses a write.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apps/loadgen/load_keys.h"
#include "core/relay/channel_session.h"
#include "core/relay/frames.h"
#include "core/relay/websocket.h"
#include "port/posix/services.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace pinhole::load {

struct SourceAddress {
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string text;
};

struct Options {
    sockaddr_storage gateway{};
    socklen_t gateway_length = 0;
    std::string gateway_text;
    bool tls = false;
    bool websocket = false;               // ws:// or wss:// (tls too): the HTTP upgrade, then frames
    std::string websocket_host;           // the Host header: the URL's host[:port]
    std::string websocket_path = std::string(relay::ws::default_path);
    bool has_cert_sha256 = false;
    std::array<std::uint8_t, 32> cert_sha256{};
    crypto::X25519Key gateway_key{};
    std::vector<SourceAddress> sources;   // empty: the kernel chooses
    std::size_t idle = 0;                 // idle channels to open
    std::size_t pairs = 0;                // active pairs to run
    double handshake_rate = 500;          // new connections per second
    std::size_t max_in_flight = 256;      // connections between connect() and the handshake's end
    std::uint32_t handshake_timeout_ms = 10'000;
    std::uint32_t ping_interval_ms = 20'000;  // the gateway cuts a channel after 30 s of silence
    std::uint32_t retries = 0;            // new attempts per channel after a failure
    std::size_t datagram_bytes = 1400;
    double pair_rate = 0;                 // datagrams/s per direction of each pair; 0: as fast as possible
    double duration_s = 0;                // after establishment; 0: until SIGINT/SIGTERM
    double report_interval_s = 5;         // 0: no periodic report
};

enum class Failure : std::uint8_t {
    fd_limit,           // socket(): EMFILE/ENFILE
    bind,               // the source address cannot be bound
    no_ports,           // connect(): EADDRNOTAVAIL, the ephemeral ports are used up
    refused,            // connect(): ECONNREFUSED
    connect,            // connect(): another error
    tls,                // the TLS handshake failed (or the certificate pin did not match)
    websocket,          // the WebSocket upgrade was refused, or a frame was
    closed_handshake,   // the gateway closed before answering the Noise handshake (refused)
    handshake_failed,   // message 2 did not authenticate
    handshake_timeout,  // no answer within handshake_timeout_ms
    closed_up,          // the gateway closed an established channel
    reset,              // ECONNRESET or another socket error on an established channel
    authentication,     // a transport message failed authentication
    malformed,          // a malformed length or message
    silent,             // nothing from the gateway for three ping intervals
    count_
};
const char* describe(Failure failure);

class Engine {
public:
    Engine(Options options, std::vector<LoadKey> keys, std::vector<std::uint32_t> channels);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Runs until SIGINT/SIGTERM (or the duration); 0 when every channel is up at the end.
    int run();

private:
    enum class State : std::uint8_t { waiting, connecting, tls, upgrading, handshaking, up, failed };
    // A ws:// channel's framing state, allocated for those only.
    struct WebSocket {
        WebSocket() : decoder(relay::ws::Role::client) {}
        relay::ws::Decoder decoder;
        relay::ws::ClientKey key;
    };
    struct Channel {
        int fd = -1;
        State state = State::waiting;
        bool active = false;
        bool want_write = false;          // EPOLLOUT is in the epoll mask
        std::uint8_t attempts = 0;
        std::uint32_t key = 0;            // index into keys_
        std::int32_t partner = -1;        // index into channels_ of the pair's other side
        std::uint32_t started_ms = 0;     // this attempt's connect()
        std::uint32_t last_received_ms = 0;
        std::uint32_t next_ping_ms = 0;
        std::uint32_t retry_at_ms = 0;
        std::uint32_t tls_retry_bytes = 0;  // an SSL_write that wants the same length again
        std::uint64_t ping_nonce = 0;
        double send_credit = 0;           // pair_rate: datagrams it may send now
        std::uint64_t sent = 0;           // datagrams sealed and queued (active)
        std::uint64_t received = 0;       // data_from frames (active)
        SSL* ssl = nullptr;
        std::unique_ptr<WebSocket> websocket;
        relay::ChannelSession session;
        std::vector<std::uint8_t> partial;  // the start of a message split across reads
        std::vector<std::uint8_t> unsent;   // bytes the socket did not take yet
        std::size_t unsent_offset = 0;
    };

    void start_connections(std::uint32_t now);
    void start(Channel& channel, std::uint32_t index, std::uint32_t now);
    void on_event(std::uint32_t index, int fd, std::uint32_t events, std::uint32_t now);
    void on_connected(Channel& channel, std::uint32_t now);
    bool advance_tls(Channel& channel, std::uint32_t now);
    void transport_ready(Channel& channel, std::uint32_t now);
    void send_initiation(Channel& channel, std::uint32_t now);
    [[nodiscard]] bool finish_upgrade(Channel& channel, std::size_t& carried, long& got, std::uint32_t now);
    [[nodiscard]] bool decode_websocket(Channel& channel, std::size_t carried, long& got, std::uint32_t now);
    void queue_message(Channel& channel, std::span<std::uint8_t> message,
                       relay::ws::Opcode opcode = relay::ws::Opcode::binary);
    void next_mask(relay::ws::Mask& mask);
    void read_from(Channel& channel, std::uint32_t now);
    bool handle_message(Channel& channel, std::span<std::uint8_t> message, std::uint32_t now);
    void handle_frame(Channel& channel, const relay::Frame& frame);
    bool send_frame(Channel& channel, std::span<const std::uint8_t> frame);
    void fill_active(Channel& channel, std::uint32_t now);
    bool flush(Channel& channel);
    long transport_write(Channel& channel, const std::uint8_t* bytes, std::size_t length);
    long transport_read(Channel& channel, std::uint8_t* out, std::size_t length);
    void set_want_write(Channel& channel, bool want);
    void fail(Channel& channel, Failure why, std::uint32_t now, int error = 0);
    void close_channel(Channel& channel);
    void timers(std::uint32_t now);
    void report(std::uint32_t now, const char* label);
    void summary(std::uint32_t now);
    [[nodiscard]] bool establishment_done() const;
    [[nodiscard]] double seconds_since(std::uint32_t since_ms, std::uint32_t now) const;

    Options options_;
    std::vector<LoadKey> keys_;
    std::vector<Channel> channels_;
    posix::PosixClock clock_;
    posix::PosixRandom random_;
    int epoll_fd_ = -1;
    int signal_fd_ = -1;
    SSL_CTX* tls_context_ = nullptr;
    std::vector<std::uint8_t> read_buffer_;
    std::vector<std::uint8_t> write_buffer_;  // sealed messages before they go to a socket
    std::vector<std::uint8_t> dummy_;         // the datagram every active channel sends
    std::array<std::uint8_t, 4096> mask_pool_{};  // WebSocket masks, refilled from getrandom
    std::size_t mask_pool_used_ = sizeof(mask_pool_);

    std::size_t next_to_start_ = 0;  // channels_[next_to_start_...] never started
    std::vector<std::uint32_t> retry_queue_;
    std::size_t in_flight_ = 0;
    std::size_t up_ = 0;
    double tokens_ = 0;
    std::uint32_t last_token_ms_ = 0;
    std::uint32_t first_start_ms_ = 0;
    bool started_any_ = false;
    std::uint32_t established_ms_ = 0;  // when establishment ended (every channel up or failed)
    bool established_ = false;
    std::uint32_t last_up_ms_ = 0;
    std::vector<std::uint32_t> handshake_ms_;  // connect() to channel up, per channel up
    std::array<std::uint64_t, static_cast<std::size_t>(Failure::count_)> failures_{};
    std::string first_error_text_;
    std::uint64_t errors_received_ = 0;
    std::uint64_t pongs_ = 0;
    std::uint64_t pings_sent_ = 0;
    std::uint64_t presence_ = 0;
    std::uint64_t unexpected_ = 0;   // data_from from a key that is not the partner
    std::uint64_t rx_datagrams_ = 0;
    std::uint64_t rx_bytes_ = 0;
    std::uint64_t tx_datagrams_ = 0;
    std::uint64_t write_blocked_ = 0;
    // The measurement window: from the end of establishment to the end of the run.
    std::uint64_t window_rx_datagrams_ = 0;
    std::uint64_t window_rx_bytes_ = 0;
    std::uint64_t window_tx_datagrams_ = 0;
    std::uint32_t last_report_ms_ = 0;
    std::uint64_t last_report_rx_bytes_ = 0;
    std::uint64_t last_report_rx_datagrams_ = 0;
    std::uint32_t last_timers_ms_ = 0;
    std::uint32_t last_rate_ms_ = 0;
    bool stopping_ = false;
};

}  // namespace pinhole::load
