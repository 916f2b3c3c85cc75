// The SOCKS5 server's negotiation (core/proxy/socks5_server.h) over a fake port::Tcp the test
// drives by hand: what the client sends arrives in any slicing, what the server writes is
// compared byte for byte, and what the server leaves unread (a client's early payload) is still
// in the fake socket for the stream that takes the connection over.
#include "core/proxy/socks5_server.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/fake_tcp.h"
#include "tests/unit/fakes.h"

namespace pinhole::proxy {
namespace {

using Bytes = std::vector<std::uint8_t>;
using port::TcpConnectionId;

Bytes text(std::string_view chars) { return Bytes(chars.begin(), chars.end()); }

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes all;
    for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
    return all;
}

net::IpAddress ip(std::string_view literal) { return net::parse_address(literal).value(); }

// ---- what clients send ----------------------------------------------------------------------

const Bytes greeting_no_auth = {5, 1, 0};
const Bytes greeting_curl = {5, 2, 0, 1};               // no-auth and GSSAPI
const Bytes greeting_with_password = {5, 3, 0, 1, 2};   // curl with credentials
const Bytes greeting_password_only = {5, 1, 2};
const Bytes request_ipv4 = {5, 1, 0, 1, 192, 0, 2, 10, 0x1f, 0x90};  // 192.0.2.10:8080
const Bytes request_ipv6 = {5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                            0, 0, 0, 0, 0,    0,    0,    7,    0x01, 0xbb};  // [2001:db8::7]:443
const Bytes payload = text("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");

Bytes request_host(std::uint8_t command, std::string_view name, std::uint16_t port) {
    Bytes bytes = {5, command, 0, 3, static_cast<std::uint8_t>(name.size())};
    bytes.insert(bytes.end(), name.begin(), name.end());
    bytes.push_back(static_cast<std::uint8_t>(port >> 8));
    bytes.push_back(static_cast<std::uint8_t>(port));
    return bytes;
}

Bytes request_v4(std::uint8_t command, std::array<std::uint8_t, 4> address, std::uint16_t port) {
    return {5, command, 0, 1, address[0], address[1], address[2], address[3],
            static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)};
}

Bytes credentials(std::string_view user, std::string_view password) {
    Bytes bytes = {1, static_cast<std::uint8_t>(user.size())};
    bytes.insert(bytes.end(), user.begin(), user.end());
    bytes.push_back(static_cast<std::uint8_t>(password.size()));
    bytes.insert(bytes.end(), password.begin(), password.end());
    return bytes;
}

// ---- what the server answers ----------------------------------------------------------------

Bytes method_choice(std::uint8_t method) { return {5, method}; }
Bytes auth_status(std::uint8_t status) { return {1, status}; }
// A refusal carries 0.0.0.0:0.
Bytes refusal(ReplyCode code) { return {5, static_cast<std::uint8_t>(code), 0, 1, 0, 0, 0, 0, 0, 0}; }

constexpr std::string_view user = "alice";
constexpr std::string_view password = "s3cret";

const net::Endpoint client_v4{net::IpAddress::v4(127, 0, 0, 1), 40001};

// Records what the owner is told; `answer` (if set) answers from inside the callback.
class RecordingOwner final : public Socks5Events {
public:
    struct Connect {
        TcpConnectionId connection;
        SocksAddress destination;
    };
    struct Udp {
        TcpConnectionId connection;
        net::Endpoint client;
    };
    void on_socks_connect(TcpConnectionId connection, const SocksAddress& destination) noexcept override {
        connects.push_back({connection, destination});
        if (answer) answer(connection);
    }
    void on_socks_udp_associate(TcpConnectionId connection, const net::Endpoint& client) noexcept override {
        udp.push_back({connection, client});
        if (answer) answer(connection);
    }
    void on_socks_abandoned(TcpConnectionId connection) noexcept override { abandoned.push_back(connection); }

    std::vector<Connect> connects;
    std::vector<Udp> udp;
    std::vector<TcpConnectionId> abandoned;
    std::function<void(TcpConnectionId)> answer;
};

class Socks5ServerTest : public ::testing::Test {
protected:
    void start(const Socks5Settings& with = Socks5Settings{}) {
        settings = with;
        server = std::make_unique<Socks5Server>(tcp, clock, owner, settings);
    }
    static Socks5Settings timeout_of(std::uint32_t ms) {
        Socks5Settings with;
        with.negotiation_timeout_ms = ms;
        return with;
    }
    void start_with_password() {
        Socks5Settings with;
        with.user = user;
        with.password = password;
        start(with);
    }

    TcpConnectionId accept_one(const net::Endpoint& from = client_v4) {
        const TcpConnectionId connection = tcp.open();
        EXPECT_TRUE(server->accept(connection, from).ok());
        return connection;
    }
    // The client sends `bytes` in one segment.
    void send(TcpConnectionId connection, const Bytes& bytes) {
        tcp.feed(connection, bytes);
        tcp.readable(connection);
    }
    // ... one byte per segment, an event after each.
    void send_byte_by_byte(TcpConnectionId connection, const Bytes& bytes) {
        for (const std::uint8_t byte : bytes) send(connection, Bytes{byte});
    }
    const Bytes& output(TcpConnectionId connection) { return tcp.at(connection).output; }
    bool closed(TcpConnectionId connection) { return tcp.at(connection).closed; }

    // Every slot is free: max_socks_negotiations new connections are taken, one more is not.
    // Frees them again (the deadline) so the test may go on.
    void expect_every_slot_free() {
        std::vector<TcpConnectionId> taken;
        for (std::size_t i = 0; i < max_socks_negotiations; i++) {
            const TcpConnectionId connection = tcp.open();
            ASSERT_TRUE(server->accept(connection, client_v4).ok()) << "slot " << i << " of " << max_socks_negotiations;
            taken.push_back(connection);
        }
        const std::uint64_t busy_before = server->counters().refused_busy;
        const TcpConnectionId extra = tcp.open();
        const Status refused = server->accept(extra, client_v4);
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error(), Errc::no_space);
        EXPECT_TRUE(closed(extra));
        EXPECT_TRUE(output(extra).empty());
        EXPECT_EQ(server->counters().refused_busy, busy_before + 1);
        clock.monotonic += settings.negotiation_timeout_ms;
        server->tick();
        for (const TcpConnectionId connection : taken) EXPECT_TRUE(closed(connection));
    }

    // Whatever a test left negotiating times out; nothing else may hold a slot.
    void TearDown() override {
        if (server) {
            clock.monotonic += settings.negotiation_timeout_ms;
            server->tick();
            expect_every_slot_free();
        }
        EXPECT_EQ(tcp.misuse, 0) << "the server touched a connection that was not open";
    }

    fakes::FakeTcp tcp;
    fakes::FakeClock clock;
    RecordingOwner owner;
    Socks5Settings settings;
    std::unique_ptr<Socks5Server> server;
};

// ---- CONNECT without authentication ---------------------------------------------------------

TEST_F(Socks5ServerTest, ConnectIpv4KeepsTheEarlyPayloadInTheSocket) {
    start();
    const TcpConnectionId connection = accept_one();
    EXPECT_EQ(tcp.at(connection).events, server.get());
    send(connection, concat({greeting_no_auth, request_ipv4, payload}));

    EXPECT_EQ(output(connection), method_choice(0));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(owner.connects[0].connection, connection);
    EXPECT_TRUE(owner.connects[0].destination.host_name.view().empty());
    EXPECT_EQ(owner.connects[0].destination.endpoint, (net::Endpoint{ip("192.0.2.10"), 8080}));
    EXPECT_EQ(tcp.unread(connection), payload);  // not a byte of it taken

    // More events while the owner works read nothing.
    tcp.readable(connection);
    EXPECT_EQ(tcp.unread(connection), payload);

    ASSERT_TRUE(server->succeed(connection, net::Endpoint{net::IpAddress::v4(10, 1, 2, 3), 1080}).ok());
    EXPECT_EQ(output(connection), concat({method_choice(0), {5, 0, 0, 1, 10, 1, 2, 3, 0x04, 0x38}}));
    EXPECT_FALSE(closed(connection));
    EXPECT_EQ(tcp.unread(connection), payload);
    EXPECT_EQ(server->counters().requests, 1u);
    EXPECT_TRUE(owner.abandoned.empty());

    // The connection is the owner's now: the server ignores its events and answers no more.
    tcp.readable(connection);
    EXPECT_EQ(tcp.unread(connection), payload);
    EXPECT_FALSE(server->succeed(connection, net::Endpoint{}).ok());
    server->refuse(connection, ReplyCode::general_failure);
    EXPECT_FALSE(closed(connection));
    EXPECT_EQ(output(connection).size(), 12u);
    // Nor does the deadline reach it.
    clock.monotonic += 60'000;
    server->tick();
    EXPECT_FALSE(closed(connection));
}

TEST_F(Socks5ServerTest, ConnectIpv6) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_curl, request_ipv6, payload}));
    EXPECT_EQ(output(connection), method_choice(0));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(owner.connects[0].destination.endpoint, (net::Endpoint{ip("2001:db8::7"), 443}));
    EXPECT_EQ(tcp.unread(connection), payload);

    ASSERT_TRUE(server->succeed(connection, net::Endpoint{ip("2001:db8::1"), 0x1234}).ok());
    const Bytes reply = {5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x12, 0x34};
    EXPECT_EQ(output(connection), concat({method_choice(0), reply}));
    EXPECT_EQ(tcp.unread(connection), payload);
    EXPECT_FALSE(closed(connection));
}

TEST_F(Socks5ServerTest, ConnectHostName) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_no_auth, request_host(1, "example.com", 80), payload}));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(owner.connects[0].destination.host_name.view(), "example.com");
    EXPECT_EQ(owner.connects[0].destination.endpoint.address.family, net::Family::none);
    EXPECT_EQ(owner.connects[0].destination.endpoint.port, 80);
    EXPECT_EQ(tcp.unread(connection), payload);

    // An address of Family::none goes out as 0.0.0.0.
    ASSERT_TRUE(server->succeed(connection, net::Endpoint{}).ok());
    EXPECT_EQ(output(connection), concat({method_choice(0), {5, 0, 0, 1, 0, 0, 0, 0, 0, 0}}));
    EXPECT_EQ(tcp.unread(connection), payload);
}

TEST_F(Socks5ServerTest, TheLongestHostName) {
    start();
    const std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                             std::string(61, 'd');
    ASSERT_EQ(name.size(), 253u);
    const TcpConnectionId connection = accept_one();
    send_byte_by_byte(connection, concat({greeting_no_auth, request_host(1, name, 65535)}));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(owner.connects[0].destination.host_name.view(), name);
    EXPECT_EQ(owner.connects[0].destination.endpoint.port, 65535);
    server->refuse(connection, ReplyCode::host_unreachable);
    EXPECT_TRUE(closed(connection));
}

TEST_F(Socks5ServerTest, TheOwnerMayAnswerFromInsideTheCallback) {
    start();
    owner.answer = [&](TcpConnectionId told) {
        EXPECT_TRUE(server->succeed(told, net::Endpoint{net::IpAddress::v4(0, 0, 0, 0), 0}).ok());
    };
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_no_auth, request_ipv4, payload}));
    EXPECT_EQ(output(connection), concat({method_choice(0), {5, 0, 0, 1, 0, 0, 0, 0, 0, 0}}));
    EXPECT_EQ(tcp.unread(connection), payload);
    EXPECT_FALSE(closed(connection));

    owner.answer = [&](TcpConnectionId told) { server->refuse(told, ReplyCode::not_allowed); };
    const TcpConnectionId refused = accept_one();
    send(refused, concat({greeting_no_auth, request_ipv4, payload}));
    EXPECT_EQ(output(refused), concat({method_choice(0), refusal(ReplyCode::not_allowed)}));
    EXPECT_TRUE(closed(refused));
    EXPECT_TRUE(owner.abandoned.empty());
}

// ---- slicing --------------------------------------------------------------------------------

TEST_F(Socks5ServerTest, ByteByByte) {
    start();
    const TcpConnectionId connection = accept_one();
    const Bytes request = request_host(1, "example.com", 443);
    for (std::size_t i = 0; i < greeting_no_auth.size(); i++) {
        EXPECT_TRUE(output(connection).empty()) << "after " << i << " bytes";
        send(connection, Bytes{greeting_no_auth[i]});
    }
    EXPECT_EQ(output(connection), method_choice(0));
    for (std::size_t i = 0; i < request.size(); i++) {
        EXPECT_TRUE(owner.connects.empty()) << "after " << i << " bytes";
        send(connection, Bytes{request[i]});
    }
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(owner.connects[0].destination.host_name.view(), "example.com");
    EXPECT_EQ(owner.connects[0].destination.endpoint.port, 443);
    // What follows, byte by byte too, stays in the socket.
    send_byte_by_byte(connection, payload);
    EXPECT_EQ(tcp.unread(connection), payload);
    EXPECT_EQ(output(connection), method_choice(0));
    ASSERT_TRUE(server->succeed(connection, net::Endpoint{}).ok());
    EXPECT_EQ(tcp.unread(connection), payload);
}

TEST_F(Socks5ServerTest, EverySplitOfGreetingAndRequest) {
    start();
    const Bytes message = concat({greeting_curl, request_ipv6});
    for (std::size_t split = 0; split <= message.size(); split++) {
        SCOPED_TRACE(split);
        owner.connects.clear();
        const TcpConnectionId connection = accept_one();
        send(connection, Bytes(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(split)));
        send(connection, concat({Bytes(message.begin() + static_cast<std::ptrdiff_t>(split), message.end()), payload}));
        ASSERT_EQ(owner.connects.size(), 1u);
        EXPECT_EQ(owner.connects[0].destination.endpoint, (net::Endpoint{ip("2001:db8::7"), 443}));
        EXPECT_EQ(tcp.unread(connection), payload);
        ASSERT_TRUE(server->succeed(connection, net::Endpoint{}).ok());
        tcp.close(connection, false);  // the owner's
    }
}

TEST_F(Socks5ServerTest, ASocketThatReturnsOneByteAtATime) {
    start_with_password();
    const TcpConnectionId connection = tcp.open();
    tcp.at(connection).read_limit = 1;
    ASSERT_TRUE(server->accept(connection, client_v4).ok());
    // Everything is there at once; one event must be enough.
    send(connection, concat({greeting_with_password, credentials(user, password), request_ipv4, payload}));
    EXPECT_EQ(output(connection), concat({method_choice(2), auth_status(0)}));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(tcp.unread(connection), payload);
    server->refuse(connection, ReplyCode::connection_refused);
    EXPECT_EQ(output(connection),
              concat({method_choice(2), auth_status(0), refusal(ReplyCode::connection_refused)}));
}

// ---- user name and password -----------------------------------------------------------------

TEST_F(Socks5ServerTest, UserPasswordAccepted) {
    start_with_password();
    const TcpConnectionId connection = accept_one();
    send(connection, greeting_with_password);
    EXPECT_EQ(output(connection), method_choice(2));
    send(connection, credentials(user, password));
    EXPECT_EQ(output(connection), concat({method_choice(2), auth_status(0)}));
    send(connection, concat({request_ipv4, payload}));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(tcp.unread(connection), payload);
    ASSERT_TRUE(server->succeed(connection, net::Endpoint{}).ok());
    EXPECT_EQ(server->counters().refused_credentials, 0u);
    EXPECT_EQ(server->counters().requests, 1u);
}

TEST_F(Socks5ServerTest, UserPasswordAllInOneSegmentAndByteByByte) {
    start_with_password();
    const Bytes everything = concat({greeting_password_only, credentials(user, password), request_ipv6, payload});
    const TcpConnectionId at_once = accept_one();
    send(at_once, everything);
    const TcpConnectionId trickled = accept_one();
    send_byte_by_byte(trickled, everything);
    for (const TcpConnectionId connection : {at_once, trickled}) {
        EXPECT_EQ(output(connection), concat({method_choice(2), auth_status(0)}));
        EXPECT_EQ(tcp.unread(connection), payload);
    }
    ASSERT_EQ(owner.connects.size(), 2u);
    EXPECT_EQ(owner.connects[1].destination.endpoint, (net::Endpoint{ip("2001:db8::7"), 443}));
    server->refuse(at_once, ReplyCode::general_failure);
    server->refuse(trickled, ReplyCode::general_failure);
}

TEST_F(Socks5ServerTest, TheLongestCredentials) {
    const std::string long_user(255, 'u');
    const std::string long_password(255, 'p');
    Socks5Settings with;
    with.user = long_user;
    with.password = long_password;
    start(with);
    Bytes greeting = {5, 255};
    for (int method = 0; method < 255; method++) greeting.push_back(static_cast<std::uint8_t>(255 - method - 1));
    const TcpConnectionId connection = accept_one();
    send_byte_by_byte(connection, concat({greeting, credentials(long_user, long_password), request_ipv4}));
    EXPECT_EQ(output(connection), concat({method_choice(2), auth_status(0)}));
    ASSERT_EQ(owner.connects.size(), 1u);
    server->refuse(connection, ReplyCode::general_failure);
}

TEST_F(Socks5ServerTest, UserPasswordRefused) {
    start_with_password();
    const std::vector<std::pair<std::string, std::string>> wrong = {
        {"alice", "s3creT"}, {"alicE", "s3cret"}, {"alice", "s3cre"},  {"alice", "s3crett"},
        {"alic", "s3cret"},  {"bob", "hunter2"},  {"s3cret", "alice"},
    };
    std::uint64_t refused = 0;
    for (const auto& [given_user, given_password] : wrong) {
        SCOPED_TRACE(given_user + ":" + given_password);
        const TcpConnectionId connection = accept_one();
        send(connection, concat({greeting_with_password, credentials(given_user, given_password), request_ipv4}));
        EXPECT_EQ(output(connection), concat({method_choice(2), auth_status(1)}));
        EXPECT_TRUE(closed(connection));
        EXPECT_FALSE(tcp.at(connection).reset);
        EXPECT_EQ(server->counters().refused_credentials, ++refused);
        // The request after the refused credentials is never read.
        EXPECT_EQ(tcp.unread(connection), request_ipv4);
    }
    EXPECT_TRUE(owner.connects.empty());
    EXPECT_EQ(server->counters().requests, 0u);
}

TEST_F(Socks5ServerTest, AClientWithoutAPasswordGetsNoAcceptableMethod) {
    start_with_password();
    for (const Bytes& greeting : {greeting_no_auth, greeting_curl, Bytes{5, 1, 1}}) {
        const TcpConnectionId connection = accept_one();
        send(connection, concat({greeting, request_ipv4}));
        EXPECT_EQ(output(connection), method_choice(0xff));
        EXPECT_TRUE(closed(connection));
        EXPECT_EQ(tcp.unread(connection), request_ipv4);
    }
    EXPECT_EQ(server->counters().refused_method, 3u);
    EXPECT_TRUE(owner.connects.empty());
}

TEST_F(Socks5ServerTest, AServerWithoutPasswordsRefusesAClientThatOffersOnlyOne) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, greeting_password_only);
    EXPECT_EQ(output(connection), method_choice(0xff));
    EXPECT_TRUE(closed(connection));
    EXPECT_EQ(server->counters().refused_method, 1u);

    // Offered both, no-auth is chosen.
    const TcpConnectionId both = accept_one();
    send(both, greeting_with_password);
    EXPECT_EQ(output(both), method_choice(0));
    EXPECT_FALSE(closed(both));
}

// RFC 1929: a failure status (01 01), then the connection is closed.
TEST_F(Socks5ServerTest, MalformedCredentialsAreClosed) {
    start_with_password();
    const std::vector<Bytes> malformed = {
        {2, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', 'e', 't'},  // version 2
        {1, 0, 6, 's', '3', 'c', 'r', 'e', 't'},                           // empty user name
        {1, 5, 'a', 'l', 'i', 'c', 'e', 0},                                 // empty password
    };
    std::uint64_t count = 0;
    for (const Bytes& message : malformed) {
        const TcpConnectionId connection = accept_one();
        send(connection, concat({greeting_with_password, message}));
        EXPECT_EQ(output(connection), concat({method_choice(2), Bytes{1, 1}}));
        EXPECT_TRUE(closed(connection));
        EXPECT_EQ(server->counters().refused_malformed, ++count);
        EXPECT_EQ(server->counters().refused_credentials, 0u);
    }
}

TEST_F(Socks5ServerTest, AnOwnerThatNeverAnswersIsToldAfterTheAnswerTimeout) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_no_auth, request_v4(1, {192, 0, 2, 1}, 80)}));
    ASSERT_EQ(owner.connects.size(), 1u);
    clock.monotonic += Socks5Settings{}.answer_timeout_ms - 1;
    server->tick();
    EXPECT_FALSE(closed(connection));
    clock.monotonic += 1;
    server->tick();
    EXPECT_TRUE(closed(connection));
    EXPECT_EQ(server->counters().timed_out, 1u);
    ASSERT_EQ(owner.abandoned.size(), 1u);
    EXPECT_EQ(owner.abandoned[0], connection);
}

// ---- requests refused -----------------------------------------------------------------------

TEST_F(Socks5ServerTest, BindIsNotSupported) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_no_auth, request_v4(2, {192, 0, 2, 1}, 21)}));
    EXPECT_EQ(output(connection), concat({method_choice(0), refusal(ReplyCode::command_not_supported)}));
    EXPECT_TRUE(closed(connection));
    EXPECT_EQ(server->counters().refused_command, 1u);
    EXPECT_EQ(server->counters().requests, 0u);
    EXPECT_TRUE(owner.connects.empty());
    EXPECT_TRUE(owner.udp.empty());
}

TEST_F(Socks5ServerTest, AnUnknownCommandIsNotSupported) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_no_auth, request_v4(9, {192, 0, 2, 1}, 21)}));
    EXPECT_EQ(output(connection), concat({method_choice(0), refusal(ReplyCode::command_not_supported)}));
    EXPECT_TRUE(closed(connection));
    EXPECT_EQ(server->counters().refused_malformed, 1u);
}

TEST_F(Socks5ServerTest, AnUnknownAddressType) {
    start();
    for (const std::uint8_t atyp : {0, 2, 5, 0xff}) {
        SCOPED_TRACE(atyp);
        const TcpConnectionId connection = accept_one();
        // The server answers as soon as the type is known (it cannot know the address's length).
        send(connection, concat({greeting_no_auth, {5, 1, 0, atyp, 1}}));
        EXPECT_EQ(output(connection), concat({method_choice(0), refusal(ReplyCode::address_type_not_supported)}));
        EXPECT_TRUE(closed(connection));
    }
    EXPECT_EQ(server->counters().refused_malformed, 4u);
    EXPECT_TRUE(owner.connects.empty());
}

TEST_F(Socks5ServerTest, MalformedGreetingsAreClosedWithoutAnswer) {
    start();
    const std::vector<Bytes> malformed = {
        {4, 1, 0},                   // SOCKS4's version
        {5, 0},                      // no methods
        text("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" + std::string(60, 'x')),  // not SOCKS at all
    };
    std::uint64_t count = 0;
    for (const Bytes& greeting : malformed) {
        const TcpConnectionId connection = accept_one();
        send(connection, greeting);
        EXPECT_TRUE(output(connection).empty());
        EXPECT_TRUE(closed(connection));
        EXPECT_EQ(server->counters().refused_malformed, ++count);
    }
}

TEST_F(Socks5ServerTest, MalformedRequestsAreAnsweredAndClosed) {
    start();
    const std::vector<Bytes> malformed = {
        {5, 1, 1, 1, 192, 0, 2, 10, 0x1f, 0x90},  // RSV != 0
        {4, 1, 0, 1, 192, 0, 2, 10, 0x1f, 0x90},  // version 4
        request_host(1, "", 80),                  // an empty name
        request_host(1, "exa mple.com", 80),      // a space in it
        request_host(1, std::string(254, 'a'), 80),  // too long
    };
    std::uint64_t count = 0;
    for (const Bytes& request : malformed) {
        SCOPED_TRACE(count);
        const TcpConnectionId connection = accept_one();
        send(connection, concat({greeting_no_auth, request, payload}));
        EXPECT_EQ(output(connection), concat({method_choice(0), refusal(ReplyCode::general_failure)}));
        EXPECT_TRUE(closed(connection));
        EXPECT_EQ(server->counters().refused_malformed, ++count);
    }
    EXPECT_TRUE(owner.connects.empty());
    EXPECT_EQ(server->counters().requests, 0u);
}

// ---- UDP ASSOCIATE --------------------------------------------------------------------------

TEST_F(Socks5ServerTest, UdpAssociateNamesTheClientsAddressAndPort) {
    start();
    const net::Endpoint from{ip("2001:db8::99"), 40002};
    const TcpConnectionId connection = accept_one(from);
    // The address it names is ignored (it is the connection's); the port is taken.
    send(connection, concat({greeting_no_auth, request_v4(3, {10, 9, 8, 7}, 5353)}));
    EXPECT_EQ(output(connection), method_choice(0));
    ASSERT_EQ(owner.udp.size(), 1u);
    EXPECT_EQ(owner.udp[0].connection, connection);
    EXPECT_EQ(owner.udp[0].client, (net::Endpoint{from.address, 5353}));
    EXPECT_TRUE(owner.connects.empty());
    EXPECT_EQ(server->counters().udp_associations, 1u);

    ASSERT_TRUE(server->succeed(connection, net::Endpoint{net::IpAddress::v4(127, 0, 0, 1), 9999}).ok());
    EXPECT_EQ(output(connection), concat({method_choice(0), {5, 0, 0, 1, 127, 0, 0, 1, 0x27, 0x0f}}));
    EXPECT_FALSE(closed(connection));
}

TEST_F(Socks5ServerTest, UdpAssociateWithoutAPort) {
    start();
    const TcpConnectionId unnamed = accept_one();
    send(unnamed, concat({greeting_no_auth, request_v4(3, {0, 0, 0, 0}, 0)}));
    const TcpConnectionId by_name = accept_one();
    send(by_name, concat({greeting_no_auth, request_host(3, "client.example", 7000)}));
    ASSERT_EQ(owner.udp.size(), 2u);
    EXPECT_EQ(owner.udp[0].client, (net::Endpoint{client_v4.address, 0}));
    EXPECT_EQ(owner.udp[1].client, (net::Endpoint{client_v4.address, 0}));
    server->refuse(unnamed, ReplyCode::general_failure);
    EXPECT_EQ(output(unnamed), concat({method_choice(0), refusal(ReplyCode::general_failure)}));
    EXPECT_TRUE(closed(unnamed));
    ASSERT_TRUE(server->succeed(by_name, net::Endpoint{net::IpAddress::v4(127, 0, 0, 1), 1}).ok());
}

// ---- the client leaves, the owner refuses, the deadline -------------------------------------

TEST_F(Socks5ServerTest, TheClientLeavesWhileTheOwnerWorks) {
    start();
    const TcpConnectionId connection = accept_one();
    send(connection, concat({greeting_no_auth, request_ipv4}));
    ASSERT_EQ(owner.connects.size(), 1u);
    tcp.fail(connection);
    EXPECT_EQ(owner.abandoned, std::vector<TcpConnectionId>{connection});
    EXPECT_EQ(server->counters().abandoned, 1u);
    // A late answer finds nothing, and touches nothing.
    const std::size_t written = output(connection).size();
    EXPECT_EQ(server->succeed(connection, net::Endpoint{}).error(), Errc::invalid_argument);
    server->refuse(connection, ReplyCode::general_failure);
    EXPECT_EQ(output(connection).size(), written);
}

TEST_F(Socks5ServerTest, TheClientLeavesDuringTheNegotiation) {
    start_with_password();
    // Its end of stream before the greeting is whole, in the middle of the credentials, before
    // the request; and a reset. The owner hears of none of them.
    const TcpConnectionId in_greeting = accept_one();
    tcp.feed(in_greeting, {5, 3, 0});
    tcp.finish(in_greeting);
    tcp.readable(in_greeting);
    EXPECT_TRUE(closed(in_greeting));
    EXPECT_TRUE(output(in_greeting).empty());

    const TcpConnectionId in_credentials = accept_one();
    tcp.feed(in_credentials, concat({greeting_with_password, {1, 5, 'a', 'l'}}));
    tcp.finish(in_credentials);
    tcp.readable(in_credentials);
    EXPECT_TRUE(closed(in_credentials));
    EXPECT_EQ(output(in_credentials), method_choice(2));

    const TcpConnectionId before_request = accept_one();
    send(before_request, concat({greeting_with_password, credentials(user, password)}));
    tcp.finish(before_request);
    tcp.readable(before_request);
    EXPECT_TRUE(closed(before_request));

    const TcpConnectionId reset = accept_one();
    send(reset, greeting_with_password);
    tcp.fail(reset);
    EXPECT_FALSE(closed(reset));  // released by the port, not closed again

    EXPECT_EQ(server->counters().abandoned, 4u);
    EXPECT_TRUE(owner.abandoned.empty());
    EXPECT_TRUE(owner.connects.empty());
}

TEST_F(Socks5ServerTest, RefuseAnswersWithTheCodeAndCloses) {
    start();
    for (const ReplyCode code : {ReplyCode::general_failure, ReplyCode::not_allowed, ReplyCode::network_unreachable,
                                 ReplyCode::host_unreachable, ReplyCode::connection_refused, ReplyCode::ttl_expired}) {
        SCOPED_TRACE(static_cast<int>(code));
        const TcpConnectionId connection = accept_one();
        send(connection, concat({greeting_no_auth, request_ipv4, payload}));
        ASSERT_FALSE(owner.connects.empty());
        EXPECT_EQ(owner.connects.back().connection, connection);
        server->refuse(connection, code);
        EXPECT_EQ(output(connection), concat({method_choice(0), refusal(code)}));
        EXPECT_TRUE(closed(connection));
        EXPECT_FALSE(server->succeed(connection, net::Endpoint{}).ok());
    }
    EXPECT_TRUE(owner.abandoned.empty());
}

TEST_F(Socks5ServerTest, SucceedBeforeTheRequestIsRefused) {
    start();
    const TcpConnectionId connection = accept_one();
    EXPECT_EQ(server->succeed(connection, net::Endpoint{}).error(), Errc::invalid_argument);
    send(connection, greeting_no_auth);
    EXPECT_EQ(server->succeed(connection, net::Endpoint{}).error(), Errc::invalid_argument);
    EXPECT_EQ(server->succeed(999, net::Endpoint{}).error(), Errc::invalid_argument);
    EXPECT_EQ(output(connection), method_choice(0));
    EXPECT_FALSE(closed(connection));
}

TEST_F(Socks5ServerTest, TheDeadlineClosesASilentClient) {
    start(timeout_of(5'000));
    clock.monotonic = 0xffff'f000u;  // and across the clock's wrap
    const TcpConnectionId silent = accept_one();
    const TcpConnectionId slow = accept_one();
    send(slow, greeting_no_auth);
    send(slow, {5, 1, 0});
    clock.monotonic += 4'999;
    server->tick();
    EXPECT_FALSE(closed(silent));
    EXPECT_FALSE(closed(slow));
    EXPECT_EQ(server->counters().timed_out, 0u);
    clock.monotonic += 1;
    server->tick();
    EXPECT_TRUE(closed(silent));
    EXPECT_TRUE(closed(slow));
    EXPECT_TRUE(output(silent).empty());
    EXPECT_EQ(output(slow), method_choice(0));
    EXPECT_EQ(server->counters().timed_out, 2u);
    EXPECT_TRUE(owner.abandoned.empty());
    server->tick();
    EXPECT_EQ(server->counters().timed_out, 2u);
}

TEST_F(Socks5ServerTest, TheDeadlineCountsFromTheAccept) {
    start(timeout_of(5'000));
    const TcpConnectionId connection = accept_one();
    clock.monotonic += 3'000;
    send(connection, greeting_no_auth);  // progress does not move the deadline
    clock.monotonic += 2'000;
    server->tick();
    EXPECT_TRUE(closed(connection));
    EXPECT_EQ(server->counters().timed_out, 1u);
}

// ---- capacity and failures to write ---------------------------------------------------------

TEST_F(Socks5ServerTest, OneMoreThanTheSlotsIsRefused) {
    start();
    std::vector<TcpConnectionId> taken;
    for (std::size_t i = 0; i < max_socks_negotiations; i++) taken.push_back(accept_one());
    const TcpConnectionId extra = tcp.open();
    EXPECT_EQ(server->accept(extra, client_v4).error(), Errc::no_space);
    EXPECT_TRUE(closed(extra));
    EXPECT_TRUE(tcp.at(extra).reset);
    EXPECT_EQ(server->counters().refused_busy, 1u);
    // One finishes (handed over), one is refused, one leaves: three slots again.
    send(taken[0], concat({greeting_no_auth, request_ipv4}));
    ASSERT_TRUE(server->succeed(taken[0], net::Endpoint{}).ok());
    send(taken[1], concat({greeting_no_auth, request_ipv4}));
    server->refuse(taken[1], ReplyCode::not_allowed);
    tcp.fail(taken[2]);
    for (int i = 0; i < 3; i++) accept_one();
    const TcpConnectionId again = tcp.open();
    EXPECT_EQ(server->accept(again, client_v4).error(), Errc::no_space);
    EXPECT_EQ(server->counters().refused_busy, 2u);
    clock.monotonic += settings.negotiation_timeout_ms;
    server->tick();
}

TEST_F(Socks5ServerTest, AClientThatDoesNotReadIsGone) {
    start();
    // The method choice does not fit.
    const TcpConnectionId full = accept_one();
    tcp.at(full).write_room = 0;
    send(full, concat({greeting_no_auth, request_ipv4}));
    EXPECT_TRUE(closed(full));
    EXPECT_TRUE(owner.connects.empty());
    // Half of it does.
    const TcpConnectionId half = accept_one();
    tcp.at(half).write_room = 1;
    send(half, concat({greeting_no_auth, request_ipv4}));
    EXPECT_TRUE(closed(half));
    EXPECT_TRUE(owner.connects.empty());
    // The success reply does not fit: succeed says so and the connection is closed.
    const TcpConnectionId late = accept_one();
    tcp.at(late).write_room = 2 + 5;
    send(late, concat({greeting_no_auth, request_ipv4}));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(server->succeed(late, net::Endpoint{}).error(), Errc::closed);
    EXPECT_TRUE(closed(late));
    EXPECT_TRUE(owner.abandoned.empty());  // the owner knows from succeed's result
    // Nor the refusal.
    const TcpConnectionId refused = accept_one();
    tcp.at(refused).write_room = 2;
    send(refused, concat({greeting_no_auth, request_ipv4}));
    server->refuse(refused, ReplyCode::not_allowed);
    EXPECT_TRUE(closed(refused));
    EXPECT_EQ(server->counters().abandoned, 4u);
}

TEST_F(Socks5ServerTest, TheDestructorResetsWhatIsStillNegotiating) {
    start();
    const TcpConnectionId negotiating = accept_one();
    const TcpConnectionId waiting = accept_one();
    send(waiting, concat({greeting_no_auth, request_ipv4}));
    const TcpConnectionId handed_over = accept_one();
    send(handed_over, concat({greeting_no_auth, request_ipv4}));
    ASSERT_TRUE(server->succeed(handed_over, net::Endpoint{}).ok());
    server.reset();
    EXPECT_TRUE(closed(negotiating));
    EXPECT_TRUE(tcp.at(negotiating).reset);
    EXPECT_TRUE(closed(waiting));
    EXPECT_TRUE(tcp.at(waiting).reset);
    EXPECT_FALSE(closed(handed_over));
}

TEST_F(Socks5ServerTest, ReusedIdsStartAfresh) {
    start();
    const TcpConnectionId first = accept_one();
    send(first, {5, 2, 0});  // one method still missing
    tcp.fail(first);
    const TcpConnectionId second = accept_one();
    ASSERT_EQ(second, first);  // the fake reuses ids as ports do
    send(second, concat({greeting_no_auth, request_ipv4}));
    EXPECT_EQ(output(second), method_choice(0));
    ASSERT_EQ(owner.connects.size(), 1u);
    EXPECT_EQ(owner.connects[0].destination.endpoint, (net::Endpoint{ip("192.0.2.10"), 8080}));
    server->refuse(second, ReplyCode::general_failure);
}

}  // namespace
}  // namespace pinhole::proxy
