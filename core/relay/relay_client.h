// The node's relay channel (DESIGN §2): one byte stream to the gateway carrying a Noise_IK
// session to the gateway's pinned key (core/relay/channel_session.h), with relay frames inside
// (core/relay/frames.h). WireGuard datagrams for a peer whose endpoint is relay(gateway, key)
// go out as data_to frames; data_from frames come back in as datagrams from relay(gateway, key).
//
// Staying up: a failed connect, handshake or channel is retried with exponential backoff and
// jitter (capped), re-resolving the gateway's host name each time; a ping every
// ping_interval_ms and no frame for dead_after_ms mark the channel dead. Outgoing messages wait
// in a bounded buffer; when it is full a datagram is dropped (WireGuard's inner TCP recovers) —
// memory never grows.
//
// Transports: tcp:// (the Noise session straight on TCP), ws:// (the same stream in WebSocket
// binary frames after an HTTP/1.1 Upgrade: core/relay/websocket.h) and, where the board has
// TLS, tls:// and wss:// (core/relay/tls_client.h) with the certificate pinned, checked against
// a CA, or not at all — the Noise session authenticates the gateway either way, also through a
// TLS-terminating front (nginx, a CDN) whose certificate is the one TLS sees.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "board_budget.h"
#include "config/schema.h"
#include "core/crypto/tai64n.h"
#include "core/keys/keys.h"
#include "core/relay/channel_session.h"
#include "core/relay/frames.h"
#include "core/relay/tls_client.h"
#include "core/relay/websocket.h"
#include "core/util/log.h"
#include "core/util/ring_buffer.h"
#include "port/clock.h"
#include "port/random.h"
#include "port/resolver.h"
#include "port/tcp.h"

namespace pinhole::relay {

struct RelaySettings {
    std::uint32_t backoff_initial_ms = 500;
    std::uint32_t backoff_max_ms = 30'000;
    std::uint32_t handshake_timeout_ms = 5'000;
    std::uint32_t ping_interval_ms = 5'000;
    std::uint32_t dead_after_ms = 15'000;
    // tls:// and wss:// with gateway.ca_file: the CA's PEM, NUL-terminated (the app reads the file).
    std::span<const std::uint8_t> tls_ca_pem;
};

struct RelayCounters {
    std::uint64_t connects = 0;
    std::uint64_t established = 0;
    std::uint64_t failures = 0;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t datagrams_received = 0;
    std::uint64_t dropped_not_up = 0;
    std::uint64_t dropped_buffer_full = 0;
    std::uint64_t errors_received = 0;
    std::uint64_t malformed_frames = 0;
};

class RelayEvents {
public:
    virtual void on_relay_datagram(const crypto::X25519Key& from, std::span<const std::uint8_t> datagram) noexcept = 0;
    virtual void on_presence(const crypto::X25519Key& peer, bool up) noexcept = 0;
    // The channel to the gateway is (again) up: datagrams sent while it was down were lost.
    virtual void on_relay_up() noexcept = 0;

protected:
    ~RelayEvents() = default;
};

class RelayClient final : public port::TcpEvents, public port::ResolveEvents {
public:
    struct Ports {
        port::Tcp& tcp;
        port::Resolver& resolver;
        port::Random& random;
        port::Clock& clock;
    };
    RelayClient(Ports ports, const keys::KeyPair& node, const config::NodeGateway& gateway, RelayEvents& events,
                const Logger& logger, const RelaySettings& settings) noexcept;
    RelayClient(const RelayClient&) = delete;
    RelayClient& operator=(const RelayClient&) = delete;
    ~RelayClient();

    // Writes what send() queued, connects (again) when due, pings, finds a dead channel. Call it
    // once per turn of the node's loop (at least once a second): a turn's datagrams share a write.
    void tick() noexcept;
    // A WireGuard datagram for `peer` through the gateway; dropped (counted) when the channel is
    // not up or its buffer is full.
    void send(const crypto::X25519Key& peer, std::span<const std::uint8_t> datagram) noexcept;
    [[nodiscard]] bool up() const noexcept { return phase_ == Phase::up; }
    [[nodiscard]] const crypto::X25519Key& gateway_key() const noexcept { return gateway_key_; }
    [[nodiscard]] const RelayCounters& counters() const noexcept { return counters_; }

    void on_connected(port::TcpConnectionId connection, Errc result) noexcept override;
    void on_readable(port::TcpConnectionId connection) noexcept override;
    void on_writable(port::TcpConnectionId connection) noexcept override;
    void on_closed(port::TcpConnectionId connection, Errc reason) noexcept override;
    void on_resolved(port::ResolveId id, Errc result, std::span<const net::IpAddress> addresses) noexcept override;

private:
    enum class Phase : std::uint8_t { waiting, resolving, connecting, tls_handshaking, upgrading, handshaking, up };
    // From the board's budget: enough to read many messages per call, and to queue what the
    // overlay's TCP windows put in flight (drops make the TCP inside back off).
    static constexpr std::size_t receive_buffer_bytes = PINHOLE_BUDGET_RELAY_RECEIVE_BYTES;
    static constexpr std::size_t send_buffer_bytes = PINHOLE_BUDGET_RELAY_SEND_BYTES;
    static_assert(receive_buffer_bytes >= 2 * (length_prefix_bytes + max_transport_message_bytes));
    static_assert(send_buffer_bytes >= 2 * (length_prefix_bytes + max_transport_message_bytes));
    static constexpr int max_read_rounds = 8192;
    static constexpr std::size_t flush_threshold_bytes = 32 * 1024;
    static_assert(receive_buffer_bytes >= ws::max_head_bytes);  // the upgrade's answer fits
    static constexpr std::size_t mask_pool_bytes = 256;           // 64 frames' masks per Random call

    void start_connect() noexcept;
    void connect_to(const net::Endpoint& server) noexcept;
    [[nodiscard]] bool transport_supported() const noexcept;
    [[nodiscard]] const char* transport_description() const noexcept;
    [[nodiscard]] const char* closed_reason() const noexcept;
    void start_tls() noexcept;
    void advance_tls() noexcept;
    void transport_ready() noexcept;
    void start_upgrade() noexcept;
    void read_upgrade() noexcept;
    [[nodiscard]] bool finish_upgrade(std::size_t head_bytes) noexcept;
    [[nodiscard]] std::size_t websocket_host(std::span<char> out) const noexcept;
    void start_noise() noexcept;
    void read_messages() noexcept;
    [[nodiscard]] Result<std::size_t> unwrap(std::span<std::uint8_t> bytes) noexcept;
    [[nodiscard]] bool queue_message(std::span<std::uint8_t> message) noexcept;
    [[nodiscard]] bool queue_frame(ws::Opcode opcode, std::span<std::uint8_t> payload) noexcept;
    [[nodiscard]] Status next_mask(ws::Mask& mask) noexcept;
    [[nodiscard]] std::size_t framing_bytes(std::size_t message_bytes) const noexcept;
    [[nodiscard]] bool handle_messages() noexcept;
    [[nodiscard]] Result<std::size_t> transport_read(std::span<std::uint8_t> out) noexcept;
    [[nodiscard]] Result<std::size_t> transport_write(std::span<const std::uint8_t> bytes) noexcept;
    void fail(const char* why, Errc error) noexcept;
    void handle_message(std::span<std::uint8_t> message) noexcept;
    void handle_frame(const Frame& frame) noexcept;
    void send_frame(std::span<const std::uint8_t> frame) noexcept;
    [[nodiscard]] bool queue(std::span<const std::uint8_t> bytes) noexcept;
    void flush() noexcept;
    [[nodiscard]] std::uint32_t now_ms() const noexcept { return ports_.clock.monotonic_ms(); }

    Ports ports_;
    keys::KeyPair node_;
    crypto::X25519Key gateway_key_;
    const config::NodeGateway& gateway_;
    RelayEvents& events_;
    const Logger& logger_;
    RelaySettings settings_;
    RelayCounters counters_;
    ChannelSession session_;
#if PINHOLE_BOARD_HAS_TLS
    TlsClient tls_;
#endif
    bool uses_tls_ = false;
    bool uses_websocket_ = false;
    ws::Decoder websocket_{ws::Role::client};
    ws::ClientKey websocket_key_;
    std::array<std::uint8_t, mask_pool_bytes> mask_pool_{};
    std::size_t mask_pool_used_ = mask_pool_bytes;  // empty: filled on first use
    Phase phase_ = Phase::waiting;
    bool has_connection_ = false;
    port::TcpConnectionId connection_ = 0;
    port::ResolveId resolve_ = 0;
    std::uint32_t backoff_ms_ = 0;
    std::uint32_t next_attempt_ms_ = 0;
    std::uint32_t deadline_ms_ = 0;      // handshake deadline, or when the channel counts as dead
    std::uint32_t next_ping_ms_ = 0;
    std::uint64_t ping_nonce_ = 0;
    std::array<std::uint8_t, receive_buffer_bytes> received_{};
    std::size_t received_bytes_ = 0;
    ByteRing<send_buffer_bytes> unsent_;
    std::array<std::uint8_t, length_prefix_bytes + max_transport_message_bytes> scratch_{};
    std::array<std::uint8_t, max_frame_bytes> frame_{};
};

}  // namespace pinhole::relay
