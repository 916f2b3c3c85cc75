// The gateway (DESIGN §2): nodes behind NAT dial it over TCP, plain or TLS (told apart by the
// first byte, so one port serves both), and inside either the Noise stream straight or in
// WebSocket frames after an HTTP Upgrade to /pinhole (first bytes "GET "; nginx or a CDN may
// terminate TLS in front and pass the upgrade on); each runs a Noise_IK session to the gateway's key
// (core/relay/channel_session.h) and the gateway relays WireGuard datagrams between node keys
// that authorized_keys lets reach each other. It never holds a session key of theirs:
// it sees only ciphertext. A slow receiver loses datagrams, never grows the gateway's memory.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/gateway/authorized_keys.h"
#include "apps/gateway/tls_server.h"
#include "config/schema.h"
#include "core/keys/keys.h"
#include "core/relay/channel_session.h"
#include "core/relay/frames.h"
#include "core/relay/websocket.h"
#include "port/posix/event_loop.h"
#include "port/posix/services.h"

namespace pinhole::gateway {

struct GatewayCounters {
    std::uint64_t channels_opened = 0;
    std::uint64_t refused_unknown_key = 0;
    std::uint64_t refused_handshake = 0;
    std::uint64_t refused_replay = 0;
    std::uint64_t refused_limit = 0;
    std::uint64_t refused_unauthenticated_limit = 0;  // too many connections still handshaking
    std::uint64_t refused_handshake_rate = 0;         // one source opened too many too fast
    std::uint64_t refused_websocket = 0;              // upgrades answered 400/404/426, refused frames
    std::uint64_t out_of_descriptors = 0;  // pauses of the listeners (EMFILE)
    std::uint64_t reloads = 0;
    std::uint64_t cut_by_reload = 0;
    std::uint64_t handshake_timeouts = 0;
    std::uint64_t datagrams_relayed = 0;
    std::uint64_t dropped_not_authorized = 0;
    std::uint64_t dropped_offline = 0;
    std::uint64_t dropped_buffer_full = 0;
};

class GatewayServer final : private posix::FdHandler {
public:
    GatewayServer(posix::EventLoop& loop, const keys::KeyPair& key, AuthorizedKeys authorized,
                  const config::GatewayLimits& limits);
    GatewayServer(const GatewayServer&) = delete;
    GatewayServer& operator=(const GatewayServer&) = delete;
    ~GatewayServer();

    // Listens on `at` (TCP); false with a message on stderr.
    [[nodiscard]] bool listen(const net::Endpoint& at);
    // Accept TLS (tls://) besides plain TCP on every listener; `tls` outlives the server.
    void use_tls(const TlsServerConfig& tls);
    // Test only (PINHOLE_GATEWAY_FRAME_DUMP): appends every decrypted relay frame to `path`, so a
    // test can show that what the gateway decrypts holds no plaintext of the nodes' traffic.
    [[nodiscard]] bool dump_frames_to(const char* path);
    // A new authorized_keys (SIGHUP): channels whose key it no longer lists are cut; a changed
    // reach applies to the next datagram; presence frames follow for pairs whose reach changed.
    void replace_authorized_keys(AuthorizedKeys authorized);
    // Handshake deadlines and dead channels; call about once a second.
    void tick();
    [[nodiscard]] std::vector<std::string> status_lines() const;

private:
    struct Channel;
    void on_fd_events(int fd, std::uint32_t events) noexcept override;
    void accept_from(int listener);
    void pause_listeners();
    [[nodiscard]] bool admit(const net::Endpoint& from);
    [[nodiscard]] bool identify_wire(Channel& channel);
    [[nodiscard]] long receive(Channel& channel, std::span<std::uint8_t> out);
    [[nodiscard]] long transmit(Channel& channel, std::span<const std::uint8_t> bytes);
    void read_from(Channel& channel);
    void take_bytes(Channel& channel, std::span<std::uint8_t> bytes);
    void read_upgrade(Channel& channel, std::size_t new_bytes);
    void unwrap(Channel& channel, std::span<std::uint8_t> bytes);
    void handle_messages(Channel& channel);
    [[nodiscard]] std::size_t framing_bytes(const Channel& channel, std::size_t message_bytes) const;
    void append_message(Channel& channel, std::span<const std::uint8_t> message);
    void send_control(Channel& channel, relay::ws::Opcode opcode, std::span<const std::uint8_t> payload);
    void schedule_flush(Channel& channel);
    void handle_message(Channel& channel, std::span<std::uint8_t> message);
    void handle_initiation(Channel& channel, std::span<std::uint8_t> message);
    void handle_frame(Channel& channel, std::span<std::uint8_t> frame);
    void relay(Channel& from, const crypto::X25519Key& to, std::span<const std::uint8_t> datagram);
    void send_frame(Channel& channel, std::span<const std::uint8_t> frame);
    void send_presence(const crypto::X25519Key& key, bool up);
    void tell_undeliverable(Channel& from, const crypto::X25519Key& to, relay::ErrorCode code, std::string_view why);
    void tell_present_peers(Channel& channel);
    void flush(Channel& channel);
    void flush_pending();
    void close(Channel& channel, const std::string& why);

    posix::EventLoop& loop_;
    posix::PosixClock clock_;
    posix::PosixRandom random_;
    keys::KeyPair key_;
    AuthorizedKeys authorized_;
    config::GatewayLimits limits_;
    std::vector<int> listeners_;
    std::map<int, std::unique_ptr<Channel>> channels_;          // by fd
    std::map<crypto::X25519Key, Channel*> by_key_;              // established channels
    std::map<crypto::X25519Key, crypto::Tai64n> last_initiation_;  // replay protection per node
    // Connections per source address in the current second (handshake flood control).
    std::map<std::array<std::uint8_t, 16>, std::uint32_t> accepted_this_second_;  // by address bytes
    std::uint32_t rate_window_start_ms_ = 0;
    std::size_t unauthenticated_ = 0;
    bool listeners_paused_ = false;
    std::uint32_t listeners_resume_ms_ = 0;
    std::vector<int> closing_;        // fds to free after the current event
    std::vector<int> pending_flush_;  // fds with frames queued during the current event
    GatewayCounters counters_;
    std::FILE* frame_dump_ = nullptr;
    const TlsServerConfig* tls_ = nullptr;
};

}  // namespace pinhole::gateway
