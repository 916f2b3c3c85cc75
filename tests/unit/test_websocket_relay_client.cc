// The node's relay channel over ws:// (core/relay/relay_client with core/relay/websocket): the
// upgrade it sends, the answers it refuses, and the Noise session in frames both ways, against
// a gateway played by the test over an in-memory TCP connection.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/keys/keys.h"
#include "core/relay/channel_session.h"
#include "core/relay/frames.h"
#include "core/relay/relay_client.h"
#include "core/relay/websocket.h"
#include "fakes.h"
#include "port/log.h"
#include "port/resolver.h"
#include "port/tcp.h"

namespace pinhole::relay {
namespace {

using Bytes = std::vector<std::uint8_t>;

// One outgoing connection, bytes in and out by hand.
struct OneConnectionTcp final : port::Tcp {
    Result<port::TcpConnectionId> connect(const net::Endpoint& to, port::TcpEvents& handler) noexcept override {
        connects++;
        dialled = to;
        events = &handler;
        open = true;
        input.clear();
        output.clear();
        return port::TcpConnectionId{1};
    }
    Result<std::size_t> read(port::TcpConnectionId, std::span<std::uint8_t> out) noexcept override {
        if (input.empty()) return peer_finished ? Result<std::size_t>(std::size_t{0}) : Result<std::size_t>(Errc::would_block);
        const std::size_t count = std::min(out.size(), input.size());
        std::copy_n(input.begin(), count, out.begin());
        input.erase(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(count));
        return count;
    }
    Result<std::size_t> write(port::TcpConnectionId, std::span<const std::uint8_t> bytes) noexcept override {
        output.insert(output.end(), bytes.begin(), bytes.end());
        return bytes.size();
    }
    Status shutdown_write(port::TcpConnectionId) noexcept override { return {}; }
    void close(port::TcpConnectionId, bool) noexcept override { open = false; }
    void set_events(port::TcpConnectionId, port::TcpEvents& handler) noexcept override { events = &handler; }
    Result<port::TcpListenerId> listen(const net::Endpoint&, port::TcpListenEvents&) noexcept override {
        return Errc::unsupported;
    }
    Result<net::Endpoint> listener_endpoint(port::TcpListenerId) noexcept override { return Errc::unsupported; }
    void close_listener(port::TcpListenerId) noexcept override {}

    port::TcpEvents* events = nullptr;
    net::Endpoint dialled{};
    bool open = false;
    bool peer_finished = false;
    int connects = 0;
    std::deque<std::uint8_t> input;
    Bytes output;
};

struct NoResolver final : port::Resolver {
    Result<port::ResolveId> resolve(std::string_view, net::Family, port::ResolveEvents&) noexcept override {
        return Errc::unsupported;
    }
    void cancel(port::ResolveId) noexcept override {}
};

struct Lines final : port::LogSink {
    void write(port::LogLevel, std::string_view line) noexcept override { lines.emplace_back(line); }
    [[nodiscard]] bool has(std::string_view part) const {
        return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) { return line.find(part) != std::string::npos; });
    }
    std::vector<std::string> lines;
};

std::string text_of(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

// A frame from the gateway (unmasked), `first` being FIN and the opcode.
Bytes server_frame(std::uint8_t first, std::span<const std::uint8_t> payload) {
    Bytes out(ws::max_frame_header_bytes);
    const Result<std::size_t> length = ws::encode_frame_header(ws::Opcode::binary, payload.size(), nullptr, out);
    out.resize(length.value());
    out[0] = first;
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

class WebSocketRelayClient : public ::testing::Test, public RelayEvents {
protected:
    void SetUp() override {
        node_ = keys::generate_key_pair(random_).value();
        gateway_key_ = keys::generate_key_pair(random_).value();
        gateway_.url.transport = config::Transport::ws;
        gateway_.url.server.endpoint = net::Endpoint{net::parse_address("192.0.2.1").value(), 8080};
        ASSERT_TRUE(gateway_.url.path.assign("/pinhole").ok());
        gateway_.public_key = gateway_key_.public_key;
        client_ = std::make_unique<RelayClient>(RelayClient::Ports{tcp_, resolver_, random_, clock_}, node_, gateway_,
                                                *this, logger_, RelaySettings{});
        client_->tick();
        ASSERT_EQ(tcp_.connects, 1);
        client_->on_connected(1, Errc::ok);
    }

    void on_relay_datagram(const crypto::X25519Key& from, std::span<const std::uint8_t> datagram) noexcept override {
        datagrams.emplace_back(datagram.begin(), datagram.end());
        last_from = from;
    }
    void on_presence(const crypto::X25519Key&, bool) noexcept override {}
    void on_relay_up() noexcept override { ups++; }

    // What the node wrote, taken.
    Bytes take_output() {
        Bytes out;
        out.swap(tcp_.output);
        return out;
    }
    void answer(std::span<const std::uint8_t> bytes) {
        tcp_.input.insert(tcp_.input.end(), bytes.begin(), bytes.end());
        client_->on_readable(1);
    }
    void answer(std::string_view text) { answer(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())); }

    // The node's frames since the last call, decoded as the gateway does (masks required).
    Bytes from_node() {
        Bytes wire = take_output();
        const Result<std::size_t> got = from_node_.decode(wire);
        EXPECT_TRUE(got.ok()) << ws::describe(from_node_.failure());
        wire.resize(got.ok() ? got.value() : 0);
        return wire;
    }

    // Reads the node's request, answers 101 for its key.
    void accept_upgrade() {
        const Bytes request = take_output();
        ws::RequestInfo info;
        const Result<std::size_t> head = ws::parse_upgrade_request(request, ws::default_path, info);
        ASSERT_TRUE(head.ok()) << ws::describe(info.failure);
        Bytes response(256);
        const Result<std::size_t> length = ws::encode_upgrade_response(info.key_text(), response);
        response.resize(length.value());
        answer(response);
    }

    // The whole way up: upgrade, Noise message 1 in a masked frame, message 2 back.
    void establish() {
        accept_upgrade();
        const Bytes message1 = from_node();
        ASSERT_GT(message1.size(), length_prefix_bytes);
        ASSERT_TRUE(session_.read_initiation(gateway_key_, std::span(message1).subspan(length_prefix_bytes)).ok());
        Bytes reply(length_prefix_bytes + message2_bytes);
        ASSERT_TRUE(session_.accept(random_, reply).ok());
        answer(server_frame(0x82, reply));
        ASSERT_TRUE(client_->up());
    }

    Bytes sealed(std::span<const std::uint8_t> frame) {
        Bytes out(length_prefix_bytes + max_transport_message_bytes);
        out.resize(session_.seal(frame, out).value());
        return out;
    }

    fakes::FakeClock clock_;
    fakes::CountingRandom random_;
    OneConnectionTcp tcp_;
    NoResolver resolver_;
    Lines log_;
    Logger logger_{log_, port::LogLevel::debug};
    keys::KeyPair node_{};
    keys::KeyPair gateway_key_{};
    config::NodeGateway gateway_{};
    std::unique_ptr<RelayClient> client_;
    ChannelSession session_;  // the gateway's end
    ws::Decoder from_node_{ws::Role::server};
    std::vector<Bytes> datagrams;
    crypto::X25519Key last_from{};
    int ups = 0;
};

TEST_F(WebSocketRelayClient, SendsTheUpgradeFirst) {
    const std::string request = text_of(tcp_.output);
    EXPECT_EQ(request.rfind("GET /pinhole HTTP/1.1\r\nHost: 192.0.2.1:8080\r\nUpgrade: websocket\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("\r\nSec-WebSocket-Version: 13\r\n\r\n"), std::string::npos);
    EXPECT_FALSE(client_->up());
}

TEST_F(WebSocketRelayClient, NoiseInsideFramesBothWays) {
    establish();
    EXPECT_EQ(ups, 1);
    EXPECT_TRUE(log_.has("channel to the gateway up (ws)"));
    // A datagram from a peer, in a message split over a fragment and a continuation.
    const crypto::X25519Key peer{7, 7, 7};
    const Bytes datagram(148, 0x5a);
    Bytes frame(max_frame_bytes);
    frame.resize(encode_data(FrameType::data_from, peer, datagram, frame).value());
    const Bytes message = sealed(frame);
    Bytes wire = server_frame(0x02, std::span(message).first(10));
    const Bytes rest = server_frame(0x80, std::span(message).subspan(10));
    wire.insert(wire.end(), rest.begin(), rest.end());
    answer(wire);
    ASSERT_EQ(datagrams.size(), 1u);
    EXPECT_EQ(datagrams[0], datagram);
    EXPECT_EQ(last_from, peer);
    // One the node sends, in a masked frame after tick().
    client_->send(peer, datagram);
    client_->tick();
    Bytes out = from_node();
    ASSERT_TRUE(next_message_bytes(out).ok());
    const Result<std::span<std::uint8_t>> opened = session_.open(std::span(out).subspan(length_prefix_bytes));
    ASSERT_TRUE(opened.ok());
    const Result<Frame> parsed = parse_frame(opened.value());
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().type, FrameType::data_to);
    EXPECT_TRUE(std::equal(datagram.begin(), datagram.end(), parsed.value().datagram.begin(), parsed.value().datagram.end()));
}

TEST_F(WebSocketRelayClient, AnswersPingsWithMaskedPongs) {
    establish();
    const Bytes payload{'h', 'i'};
    answer(server_frame(0x89, payload));
    client_->tick();
    Bytes wire = take_output();
    ASSERT_EQ(wire.size(), 2u + ws::mask_bytes + payload.size());
    EXPECT_EQ(wire[0], 0x8a);            // FIN, pong
    EXPECT_EQ(wire[1], 0x80 | 2);        // masked, two bytes
    ws::Decoder gateway_side(ws::Role::server);
    ASSERT_TRUE(gateway_side.decode(wire).ok());
    EXPECT_TRUE(client_->up());
}

TEST_F(WebSocketRelayClient, ACloseFrameEndsTheChannel) {
    establish();
    answer(server_frame(0x88, Bytes{0x03, 0xe9}));
    EXPECT_FALSE(client_->up());
    EXPECT_FALSE(tcp_.open);
    EXPECT_TRUE(log_.has("closed the WebSocket, code 1001"));
}

TEST_F(WebSocketRelayClient, RefusesAMaskedFrameFromTheServer) {
    establish();
    Bytes wire{0x82, 0x81, 1, 2, 3, 4, 5};
    answer(wire);
    EXPECT_FALSE(client_->up());
    EXPECT_TRUE(log_.has("a masked WebSocket frame from the server"));
}

TEST_F(WebSocketRelayClient, RefusesATextFrame) {
    establish();
    answer(server_frame(0x81, Bytes{'h', 'i'}));
    EXPECT_FALSE(client_->up());
    EXPECT_TRUE(log_.has("text frame"));
}

TEST_F(WebSocketRelayClient, NamesTheStatusOfARefusedUpgrade) {
    (void)take_output();
    answer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_FALSE(tcp_.open);
    EXPECT_TRUE(log_.has("answered with HTTP 404, not 101")) << (log_.lines.empty() ? "" : log_.lines.back());
    EXPECT_EQ(client_->counters().failures, 1u);
}

TEST_F(WebSocketRelayClient, RefusesAWrongAccept) {
    (void)take_output();
    answer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    EXPECT_FALSE(tcp_.open);
    EXPECT_TRUE(log_.has("does not answer our key"));
}

TEST_F(WebSocketRelayClient, TheAnswerMayComeAByteAtATime) {
    const Bytes request = take_output();
    ws::RequestInfo info;
    ASSERT_TRUE(ws::parse_upgrade_request(request, ws::default_path, info).ok());
    Bytes response(256);
    response.resize(ws::encode_upgrade_response(info.key_text(), response).value());
    for (const std::uint8_t byte : response) answer(Bytes{byte});
    EXPECT_TRUE(tcp_.open);
    EXPECT_GT(from_node().size(), length_prefix_bytes);  // Noise message 1, once the head was whole
}

TEST_F(WebSocketRelayClient, AHeadThatNeverEndsIsRefused) {
    (void)take_output();
    answer("HTTP/1.1 101 Switching Protocols\r\n");
    const std::string padding = "X-Padding: " + std::string(1000, 'a') + "\r\n";
    for (int i = 0; i < 5 && tcp_.open; i++) answer(padding);
    EXPECT_FALSE(tcp_.open);
    EXPECT_TRUE(log_.has("longer than 4 KiB"));
}

TEST_F(WebSocketRelayClient, ASilentUpgradeTimesOut) {
    clock_.monotonic += 5'000;
    client_->tick();
    EXPECT_FALSE(tcp_.open);
    EXPECT_TRUE(log_.has("no answer from the gateway"));
}

}  // namespace
}  // namespace pinhole::relay
