// The SOCKS5 server's side of a connection up to its request (RFC 1928, RFC 1929): the method
// choice, the user name and password when the server demands them, then the request. What a
// CONNECT leads to is the owner's business (Socks5Events): it answers with succeed() — from then
// on the connection is the owner's — or refuse(). Every negotiation has a deadline; every
// refusal is answered with the code RFC 1928 names, counted, and the connection closed.
//
// Fixed capacity (the board's stream budget), no heap; one small buffer per negotiation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "board_budget.h"
#include "core/proxy/socks5_wire.h"
#include "core/util/result.h"
#include "port/clock.h"
#include "port/tcp.h"

namespace pinhole::proxy {

inline constexpr std::size_t max_socks_negotiations = PINHOLE_BUDGET_MAX_STREAMS;

struct Socks5Settings {
    std::uint32_t negotiation_timeout_ms = 10'000;
    // The owner's answer (its dial, lookup or resolution each give up sooner than this).
    std::uint32_t answer_timeout_ms = 30'000;
    // Both empty: no authentication. Views into the owner's storage, which outlives the server.
    std::string_view user;
    std::string_view password;
};

struct Socks5Counters {
    std::uint64_t requests = 0;
    std::uint64_t refused_busy = 0;          // every negotiation slot in use
    std::uint64_t refused_method = 0;        // no method both sides accept
    std::uint64_t refused_credentials = 0;   // wrong user name or password
    std::uint64_t refused_malformed = 0;     // a message the wire parser refused
    std::uint64_t udp_associations = 0;
    std::uint64_t refused_command = 0;       // BIND (not offered)
    std::uint64_t refused_by_owner = 0;      // refuse(): the agent's outcome, or the owner's
    std::uint64_t timed_out = 0;             // negotiating, or waiting for the owner's answer
    std::uint64_t abandoned = 0;             // the client left before the answer
};

class Socks5Events {
public:
    // A CONNECT request: answer with succeed() or refuse(), now or later.
    virtual void on_socks_connect(port::TcpConnectionId connection, const SocksAddress& destination) noexcept = 0;
    // A UDP ASSOCIATE from `client` (its address, and the port it will send from or 0): answer
    // with succeed(relay endpoint) and keep the connection (the association ends with it), or
    // refuse().
    virtual void on_socks_udp_associate(port::TcpConnectionId connection, const net::Endpoint& client) noexcept = 0;
    // The client went away (or the deadline passed) while the owner worked on its request:
    // forget it (the connection is closed already).
    virtual void on_socks_abandoned(port::TcpConnectionId connection) noexcept = 0;

protected:
    ~Socks5Events() = default;
};

class Socks5Server final : public port::TcpEvents {
public:
    Socks5Server(port::Tcp& tcp, port::Clock& clock, Socks5Events& events, const Socks5Settings& settings) noexcept;
    Socks5Server(const Socks5Server&) = delete;
    Socks5Server& operator=(const Socks5Server&) = delete;
    ~Socks5Server();

    // Negotiates on an accepted connection (its events come here). Errc::no_space when every
    // slot is busy: the connection is then closed.
    [[nodiscard]] Status accept(port::TcpConnectionId connection, const net::Endpoint& from) noexcept;
    // Answers a CONNECT with success and hands the connection over: its events go nowhere until
    // the caller gives it a handler (set_events).
    [[nodiscard]] Status succeed(port::TcpConnectionId connection, const net::Endpoint& bound) noexcept;
    // Answers with `code` and closes the connection.
    void refuse(port::TcpConnectionId connection, ReplyCode code) noexcept;
    // Deadlines; call about once a second.
    void tick() noexcept;
    [[nodiscard]] const Socks5Counters& counters() const noexcept { return counters_; }

    void on_connected(port::TcpConnectionId, Errc) noexcept override {}
    void on_readable(port::TcpConnectionId connection) noexcept override;
    void on_writable(port::TcpConnectionId) noexcept override {}
    void on_closed(port::TcpConnectionId connection, Errc reason) noexcept override;

private:
    enum class Phase : std::uint8_t { free, greeting, credentials, request, owner_answers };
    struct Negotiation {
        Phase phase = Phase::free;
        port::TcpConnectionId connection = 0;
        net::Endpoint from;  // the client's TCP end
        std::uint32_t deadline_ms = 0;
        std::size_t buffered = 0;
        std::array<std::uint8_t, max_user_password_bytes> buffer{};
    };

    [[nodiscard]] Negotiation* find(port::TcpConnectionId connection) noexcept;
    void advance(Negotiation& negotiation) noexcept;
    [[nodiscard]] std::size_t handle_greeting(Negotiation& negotiation) noexcept;
    [[nodiscard]] std::size_t handle_credentials(Negotiation& negotiation) noexcept;
    [[nodiscard]] std::size_t handle_request(Negotiation& negotiation) noexcept;
    [[nodiscard]] bool send(Negotiation& negotiation, std::span<const std::uint8_t> bytes) noexcept;
    void close(Negotiation& negotiation, bool tell_owner) noexcept;
    void refuse_request(Negotiation& negotiation, ReplyCode code) noexcept;

    port::Tcp& tcp_;
    port::Clock& clock_;
    Socks5Events& events_;
    Socks5Settings settings_;
    Socks5Counters counters_;
    std::array<Negotiation, max_socks_negotiations> negotiations_{};
};

}  // namespace pinhole::proxy
