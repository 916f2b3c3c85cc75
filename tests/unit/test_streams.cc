// The exit proxy's streams (core/overlay/streams.h) without a network: an overlay peer is played
// with hand-made IPv6/TCP packets, the real sockets are a fake port::Tcp the test drives by hand.
#include "core/overlay/streams.h"

#include <lwip/memp.h>
#include <lwip/stats.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/keys/keys.h"
#include "tests/unit/fakes.h"
#include "tests/unit/packets.h"

namespace pinhole::overlay {
namespace {

using namespace packets;

class CapturingOutput final : public OverlayOutput {
public:
    void send_packet(PeerId /*peer*/, std::span<const std::uint8_t> ip_packet) noexcept override {
        sent.emplace_back(ip_packet.begin(), ip_packet.end());
    }
    std::vector<std::vector<std::uint8_t>> sent;
};

class NullSink final : public port::LogSink {
public:
    void write(port::LogLevel /*level*/, std::string_view /*line*/) noexcept override {}
};

// Connections the test completes, feeds and inspects by hand. Ids are 1-based indices.
class FakeTcp final : public port::Tcp {
public:
    struct Connection {
        net::Endpoint to;
        port::TcpEvents* events = nullptr;
        std::string inbound;   // what read() returns next
        bool eof = false;      // read() returns 0 once `inbound` is empty
        std::string written;   // everything write() took
        int gathered_writes = 0;  // write_gather calls
        std::size_t write_room = std::numeric_limits<std::size_t>::max();  // 0: would_block
        bool write_shut = false;
        bool closed = false;
        bool reset = false;
    };

    Result<port::TcpConnectionId> connect(const net::Endpoint& to, port::TcpEvents& events) noexcept override {
        Connection& connection = connections.emplace_back();
        connection.to = to;
        connection.events = &events;
        return static_cast<port::TcpConnectionId>(connections.size());
    }
    Result<std::size_t> read(port::TcpConnectionId id, std::span<std::uint8_t> out) noexcept override {
        Connection& connection = at(id);
        if (connection.inbound.empty()) return connection.eof ? Result<std::size_t>(0) : Errc::would_block;
        const std::size_t length = std::min(out.size(), connection.inbound.size());
        std::copy_n(connection.inbound.begin(), length, out.begin());
        connection.inbound.erase(0, length);
        return length;
    }
    Result<std::size_t> write(port::TcpConnectionId id, std::span<const std::uint8_t> bytes) noexcept override {
        Connection& connection = at(id);
        const std::size_t length = std::min(bytes.size(), connection.write_room);
        if (length == 0) return Errc::would_block;
        connection.written.append(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
        if (connection.write_room != std::numeric_limits<std::size_t>::max()) connection.write_room -= length;
        return length;
    }
    Result<std::size_t> write_gather(port::TcpConnectionId id,
                                     std::span<const std::span<const std::uint8_t>> pieces) noexcept override {
        at(id).gathered_writes++;
        return port::Tcp::write_gather(id, pieces);
    }
    Status shutdown_write(port::TcpConnectionId id) noexcept override {
        at(id).write_shut = true;
        return {};
    }
    void close(port::TcpConnectionId id, bool reset) noexcept override {
        EXPECT_FALSE(at(id).closed) << "closed twice: " << id;
        at(id).closed = true;
        at(id).reset = reset;
    }
    void set_events(port::TcpConnectionId id, port::TcpEvents& events) noexcept override { at(id).events = &events; }
    Result<port::TcpListenerId> listen(const net::Endpoint&, port::TcpListenEvents&) noexcept override {
        return Errc::unsupported;
    }
    Result<net::Endpoint> listener_endpoint(port::TcpListenerId) noexcept override { return Errc::unsupported; }
    void close_listener(port::TcpListenerId) noexcept override {}

    Connection& at(port::TcpConnectionId id) { return connections.at(id - 1u); }
    std::deque<Connection> connections;
};

class NoResolver final : public port::Resolver {
public:
    Result<port::ResolveId> resolve(std::string_view, net::Family, port::ResolveEvents&) noexcept override {
        return Errc::unsupported;
    }
    void cancel(port::ResolveId) noexcept override {}
};

constexpr std::uint16_t allowed_port = 22, denied_port = 25;

// Port 22 is allowed and connects to 127.0.0.1:2222; everything else is refused.
class PortPolicy final : public ExitPolicy {
public:
    acl::Decision decide(PeerId /*peer*/, const net::Endpoint& destination) noexcept override {
        asked++;
        if (destination.port != allowed_port) return acl::Decision{acl::Refusal::no_matching_rule, nullptr, {}};
        return acl::Decision{acl::Refusal::none, nullptr, config::HostPort{{}, target}};
    }
    net::Endpoint target{net::IpAddress::v4(127, 0, 0, 1), 2222};
    int asked = 0;
};

crypto::X25519Key public_key_of(std::uint8_t seed) {
    crypto::X25519Key private_key{};
    private_key.fill(seed);
    return keys::key_pair_from_private(private_key).value().public_key;
}

// One TCP connection of the overlay peer: its ports and where both sequence numbers are.
struct Flow {
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint32_t initial_sequence = 0;
    std::uint32_t sequence = 0;         // the peer's next
    std::uint32_t acknowledgement = 0;  // the node's next, as far as the peer has seen
    port::TcpConnectionId socket = 0;
};

class StreamTest : public ::testing::Test {
protected:
    static constexpr PeerId peer = 4;

    void SetUp() override {
        fakes::initialise_lwip_once();
        settings.connect_timeout_ms = 5'000;
        settings.idle_timeout_ms = 60'000;
        clock.monotonic = 1'000'000;
        stack = std::make_unique<OverlayStack>(output, public_key_of(1));
        ASSERT_TRUE(stack->add_peer(peer, 1420, peer_key, {}).ok());
        table = std::make_unique<StreamTable>(*stack, StreamTable::Ports{tcp, resolver, clock}, policy, logger,
                                              settings);
    }

    // lwIP outlives the test: flows of earlier tests may still have pcbs, so none reuses a port.
    Flow new_flow(std::uint16_t destination_port) {
        static std::uint16_t next_source_port = 40000;
        const std::uint32_t sequence = 1000u * next_source_port;
        return Flow{next_source_port++, destination_port, sequence, sequence, 0, 0};
    }

    void send(Flow& flow, std::uint8_t flags, const std::string& payload = "") {
        stack->deliver(peer, ipv6_packet(peer_address, destination, 6,
                                         tcp_segment(flow.destination_port, flow.sequence, flow.acknowledgement,
                                                     flags, payload, flow.source_port),
                                         tcp_checksum_offset));
        flow.sequence += static_cast<std::uint32_t>(payload.size()) + ((flags & (tcp_syn | tcp_fin)) ? 1 : 0);
    }

    // What lwIP sent on `flow` since the last call; moves flow.acknowledgement past it.
    std::vector<TcpView> take_sent(Flow& flow) {
        std::vector<TcpView> taken;
        std::vector<std::vector<std::uint8_t>> others;
        for (const auto& packet : output.sent) {
            if (!is_ipv6_tcp(packet) || parse_tcp(packet).destination_port != flow.source_port) {
                others.push_back(packet);
                continue;
            }
            TcpView view = parse_tcp(packet);
            const auto length = static_cast<std::uint32_t>(view.payload.size()) +
                                ((view.flags & (tcp_syn | tcp_fin)) ? 1 : 0);
            if (length > 0) flow.acknowledgement = view.sequence + length;
            taken.push_back(std::move(view));
        }
        output.sent = std::move(others);
        return taken;
    }

    static std::string payload_of(const std::vector<TcpView>& segments) {
        std::string payload;
        for (const TcpView& segment : segments) payload += segment.payload;
        return payload;
    }

    static bool has_flags(const std::vector<TcpView>& segments, std::uint8_t flags) {
        return std::any_of(segments.begin(), segments.end(),
                           [flags](const TcpView& segment) { return (segment.flags & flags) == flags; });
    }

    // SYN, the real connect succeeds, SYN-ACK, ACK: an open stream.
    Flow open_stream() {
        Flow flow = new_flow(allowed_port);
        send(flow, tcp_syn);
        flow.socket = static_cast<port::TcpConnectionId>(tcp.connections.size());
        EXPECT_EQ(tcp.at(flow.socket).to, policy.target);
        table->on_connected(flow.socket, Errc::ok);
        const std::vector<TcpView> syn_ack = take_sent(flow);
        EXPECT_EQ(syn_ack.size(), 1u);
        EXPECT_TRUE(has_flags(syn_ack, tcp_syn | tcp_ack));
        send(flow, tcp_ack);
        return flow;
    }

    const crypto::X25519Key peer_key = public_key_of(2);
    const net::IpAddress peer_address = keys::overlay_address(peer_key);
    const net::IpAddress destination = net::parse_address("fd00:99::5").value();
    CapturingOutput output;
    FakeTcp tcp;
    NoResolver resolver;
    fakes::FakeClock clock;
    PortPolicy policy;
    NullSink sink;
    Logger logger{sink, port::LogLevel::debug};
    StreamSettings settings;
    std::unique_ptr<OverlayStack> stack;  // declared before the table: destroyed after it
    std::unique_ptr<StreamTable> table;
};

TEST_F(StreamTest, ASynToADeniedDestinationIsResetAtOnce) {
    Flow flow = new_flow(denied_port);
    send(flow, tcp_syn);

    const std::vector<TcpView> sent = take_sent(flow);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].flags, tcp_rst | tcp_ack);
    EXPECT_EQ(sent[0].acknowledgement, flow.initial_sequence + 1);
    EXPECT_EQ(sent[0].source, destination);
    EXPECT_EQ(sent[0].source_port, denied_port);
    EXPECT_EQ(sent[0].destination, peer_address);
    EXPECT_EQ(table->counters().exit_refused_by_policy, 1u);
    EXPECT_EQ(policy.asked, 1);
    EXPECT_TRUE(tcp.connections.empty());
    EXPECT_EQ(table->open_streams(), 0u);
}

TEST_F(StreamTest, TheSynIsAnsweredOnlyOnceTheRealConnectionIsUp) {
    Flow flow = new_flow(allowed_port);
    send(flow, tcp_syn);
    ASSERT_EQ(tcp.connections.size(), 1u);
    EXPECT_EQ(tcp.at(1).to, policy.target);
    EXPECT_TRUE(take_sent(flow).empty());

    flow.sequence = flow.initial_sequence;  // the peer retransmits its SYN
    send(flow, tcp_syn);
    EXPECT_EQ(table->counters().exit_duplicate_syn, 1u);
    EXPECT_TRUE(take_sent(flow).empty());
    EXPECT_EQ(tcp.connections.size(), 1u);
    EXPECT_EQ(policy.asked, 1);

    table->on_connected(1, Errc::ok);
    const std::vector<TcpView> syn_ack = take_sent(flow);
    ASSERT_EQ(syn_ack.size(), 1u);
    EXPECT_EQ(syn_ack[0].flags, tcp_syn | tcp_ack);
    EXPECT_EQ(syn_ack[0].acknowledgement, flow.initial_sequence + 1);
    EXPECT_EQ(syn_ack[0].source, destination);
    EXPECT_EQ(syn_ack[0].source_port, allowed_port);
    EXPECT_EQ(table->open_streams(), 0u);  // not before the peer's ACK

    send(flow, tcp_ack);
    EXPECT_EQ(table->open_streams(), 1u);
    EXPECT_EQ(table->counters().exit_opened, 1u);
    EXPECT_FALSE(tcp.at(1).closed);
}

TEST_F(StreamTest, AFailedConnectIsAnsweredWithReset) {
    Flow flow = new_flow(allowed_port);
    send(flow, tcp_syn);
    table->on_connected(1, Errc::refused);  // the port released the connection

    const std::vector<TcpView> sent = take_sent(flow);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].flags, tcp_rst | tcp_ack);
    EXPECT_EQ(sent[0].acknowledgement, flow.initial_sequence + 1);
    EXPECT_EQ(sent[0].source, destination);
    EXPECT_EQ(table->counters().exit_connect_failed, 1u);
    EXPECT_FALSE(tcp.at(1).closed);  // released by the port, not closed again
    EXPECT_EQ(table->open_streams(), 0u);
}

TEST_F(StreamTest, ASilentDestinationIsResetAfterTheConnectTimeout) {
    Flow flow = new_flow(allowed_port);
    send(flow, tcp_syn);

    clock.monotonic += settings.connect_timeout_ms - 1;
    table->tick();
    EXPECT_TRUE(take_sent(flow).empty());
    EXPECT_FALSE(tcp.at(1).closed);

    clock.monotonic += 1;
    table->tick();
    const std::vector<TcpView> sent = take_sent(flow);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].flags, tcp_rst | tcp_ack);
    EXPECT_EQ(sent[0].acknowledgement, flow.initial_sequence + 1);
    EXPECT_EQ(table->counters().exit_connect_failed, 1u);
    EXPECT_TRUE(tcp.at(1).closed);
    EXPECT_TRUE(tcp.at(1).reset);

    table->on_connected(1, Errc::ok);  // too late: forgotten
    EXPECT_TRUE(take_sent(flow).empty());
    EXPECT_EQ(table->open_streams(), 0u);
}

TEST_F(StreamTest, BytesFlowBothWays) {
    Flow flow = open_stream();
    send(flow, tcp_psh_ack, "hello from the peer");
    EXPECT_EQ(tcp.at(flow.socket).written, "hello from the peer");

    tcp.at(flow.socket).inbound = "hello from the service";
    table->on_readable(flow.socket);
    EXPECT_EQ(payload_of(take_sent(flow)), "hello from the service");
    EXPECT_TRUE(tcp.at(flow.socket).inbound.empty());
    send(flow, tcp_ack);

    EXPECT_EQ(table->counters().bytes_to_socket, 19u);
    EXPECT_EQ(table->counters().bytes_to_overlay, 22u);
    EXPECT_EQ(table->open_streams(), 1u);
}

TEST_F(StreamTest, BytesTheSocketCannotTakeWaitForOnWritable) {
    Flow flow = open_stream();
    FakeTcp::Connection& socket = tcp.at(flow.socket);
    socket.write_room = 4;
    send(flow, tcp_psh_ack, "hello ");
    EXPECT_EQ(socket.written, "hell");

    send(flow, tcp_psh_ack, "world");  // the socket is full: would_block
    EXPECT_EQ(socket.written, "hell");

    socket.write_room = 3;
    table->on_writable(flow.socket);
    EXPECT_EQ(socket.written, "hello w");

    socket.write_room = std::numeric_limits<std::size_t>::max();
    table->on_writable(flow.socket);
    EXPECT_EQ(socket.written, "hello world");
    table->on_writable(flow.socket);  // nothing left: nothing written twice
    EXPECT_EQ(socket.written, "hello world");

    send(flow, tcp_psh_ack, "!");
    EXPECT_EQ(socket.written, "hello world!");
    EXPECT_EQ(table->counters().bytes_to_socket, 12u);
}

// A node's loop defers socket writes: a turn's segments reach the socket in one gathered write
// at flush_sockets(); the peer's FIN still writes what waits and shuts the socket at once.
TEST_F(StreamTest, DeferredWritesReachTheSocketOncePerTurn) {
    table->set_deferred_socket_writes(true);
    Flow flow = open_stream();
    FakeTcp::Connection& socket = tcp.at(flow.socket);
    for (const char* part : {"a", "bb", "ccc"}) send(flow, tcp_psh_ack, part);
    EXPECT_EQ(socket.written, "");
    table->flush_sockets();
    EXPECT_EQ(socket.written, "abbccc");
    EXPECT_EQ(socket.gathered_writes, 1);
    table->flush_sockets();  // nothing due: no write
    EXPECT_EQ(socket.gathered_writes, 1);

    send(flow, tcp_psh_ack, "dd");
    send(flow, tcp_fin | tcp_ack);
    EXPECT_EQ(socket.written, "abbcccdd");
    EXPECT_TRUE(socket.write_shut);
    EXPECT_EQ(table->counters().bytes_to_socket, 8u);
}

// Segments that wait for the socket form a pbuf chain; writing them out must give every pbuf back
// to lwIP's pool (a leaked one per chained segment once starved the pool and stalled transfers).
TEST_F(StreamTest, WrittenSegmentsGoBackToThePbufPool) {
    Flow flow = open_stream();
    FakeTcp::Connection& socket = tcp.at(flow.socket);
    const u16_t pool_used_before = lwip_stats.memp[MEMP_PBUF_POOL]->used;
    socket.write_room = 0;
    for (const char* part : {"a", "bb", "ccc", "dddd"}) send(flow, tcp_psh_ack, part);
    EXPECT_GT(lwip_stats.memp[MEMP_PBUF_POOL]->used, pool_used_before);  // held for the socket

    socket.write_room = std::numeric_limits<std::size_t>::max();
    table->on_writable(flow.socket);
    EXPECT_EQ(socket.written, "abbcccdddd");
    EXPECT_EQ(lwip_stats.memp[MEMP_PBUF_POOL]->used, pool_used_before);
}

TEST_F(StreamTest, BytesLwipCannotSendYetWaitForThePeersAcks) {
    Flow flow = open_stream();
    std::string service_bytes;
    for (int i = 0; service_bytes.size() < 3 * stream_chunk_bytes + 1000; i++) {
        service_bytes += std::to_string(i) + ",";  // no two stretches alike: a duplicate shows
    }
    tcp.at(flow.socket).inbound = service_bytes;
    table->on_readable(flow.socket);

    std::string received;
    for (int round = 0; round < 1000 && received.size() < service_bytes.size(); round++) {
        const std::string payload = payload_of(take_sent(flow));
        if (payload.empty()) break;  // stalled: nothing more without an event
        received += payload;
        send(flow, tcp_ack);  // lwIP's `sent` callback resumes the pump
    }
    EXPECT_EQ(received.size(), service_bytes.size());
    EXPECT_TRUE(received == service_bytes) << "bytes lost, reordered or duplicated";
    EXPECT_TRUE(tcp.at(flow.socket).inbound.empty());
    EXPECT_EQ(table->counters().bytes_to_overlay, service_bytes.size());
}

TEST_F(StreamTest, BytesWaitingBeforeThePeersAckAreSentOnceOpen) {
    Flow flow = new_flow(allowed_port);
    send(flow, tcp_syn);
    tcp.at(1).inbound = "SSH-2.0-banner\r\n";
    table->on_readable(1);  // while connecting: remembered
    table->on_connected(1, Errc::ok);
    const std::vector<TcpView> syn_ack = take_sent(flow);
    ASSERT_EQ(syn_ack.size(), 1u);
    EXPECT_TRUE(syn_ack[0].payload.empty());

    send(flow, tcp_ack);
    EXPECT_EQ(payload_of(take_sent(flow)), "SSH-2.0-banner\r\n");
}

TEST_F(StreamTest, APeerFinShutsTheSocketAndItsEndOfStreamClosesCleanly) {
    Flow flow = open_stream();
    send(flow, tcp_fin | tcp_ack);
    EXPECT_TRUE(tcp.at(flow.socket).write_shut);
    EXPECT_FALSE(tcp.at(flow.socket).closed);
    EXPECT_EQ(table->open_streams(), 1u);

    tcp.at(flow.socket).inbound = "bye";  // the service answers, then ends
    tcp.at(flow.socket).eof = true;
    table->on_readable(flow.socket);
    const std::vector<TcpView> sent = take_sent(flow);
    EXPECT_EQ(payload_of(sent), "bye");
    EXPECT_TRUE(has_flags(sent, tcp_fin));
    EXPECT_FALSE(has_flags(sent, tcp_rst));

    EXPECT_TRUE(tcp.at(flow.socket).closed);
    EXPECT_FALSE(tcp.at(flow.socket).reset);
    EXPECT_EQ(table->counters().closed_cleanly, 1u);
    EXPECT_EQ(table->open_streams(), 0u);
    send(flow, tcp_ack);  // the peer acknowledges our FIN: lwIP frees its pcb
    EXPECT_FALSE(has_flags(take_sent(flow), tcp_rst));
}

TEST_F(StreamTest, ASocketEndOfStreamSendsFinAndThePeerMayStillSend) {
    Flow flow = open_stream();
    tcp.at(flow.socket).eof = true;
    table->on_readable(flow.socket);
    EXPECT_TRUE(has_flags(take_sent(flow), tcp_fin | tcp_ack));
    EXPECT_FALSE(tcp.at(flow.socket).closed);
    EXPECT_EQ(table->open_streams(), 1u);

    send(flow, tcp_psh_ack, "late");  // also acknowledges our FIN
    EXPECT_EQ(tcp.at(flow.socket).written, "late");
    EXPECT_FALSE(tcp.at(flow.socket).write_shut);

    send(flow, tcp_fin | tcp_ack);
    EXPECT_TRUE(tcp.at(flow.socket).write_shut);
    EXPECT_TRUE(tcp.at(flow.socket).closed);
    EXPECT_FALSE(tcp.at(flow.socket).reset);
    EXPECT_EQ(table->counters().closed_cleanly, 1u);
    EXPECT_EQ(table->open_streams(), 0u);
    EXPECT_FALSE(has_flags(take_sent(flow), tcp_rst));
}

TEST_F(StreamTest, APeerResetResetsTheSocket) {
    Flow flow = open_stream();
    send(flow, tcp_rst | tcp_ack);
    EXPECT_TRUE(tcp.at(flow.socket).closed);
    EXPECT_TRUE(tcp.at(flow.socket).reset);
    EXPECT_EQ(table->counters().reset_by_overlay, 1u);
    EXPECT_EQ(table->open_streams(), 0u);
    EXPECT_FALSE(has_flags(take_sent(flow), tcp_rst));  // no answer to a RST
}

TEST_F(StreamTest, AFailedSocketResetsThePeer) {
    Flow flow = open_stream();
    table->on_closed(flow.socket, Errc::closed);  // the port released the connection
    const std::vector<TcpView> sent = take_sent(flow);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(sent[0].flags & tcp_rst);
    EXPECT_EQ(sent[0].sequence, flow.acknowledgement);
    EXPECT_EQ(table->counters().reset_by_socket, 1u);
    EXPECT_FALSE(tcp.at(flow.socket).closed);  // not closed again
    EXPECT_EQ(table->open_streams(), 0u);
}

TEST_F(StreamTest, AnIdleStreamIsResetBothWays) {
    Flow flow = open_stream();
    clock.monotonic += settings.idle_timeout_ms / 2;
    send(flow, tcp_psh_ack, "still here");  // traffic postpones the deadline
    clock.monotonic += settings.idle_timeout_ms / 2;
    table->tick();
    EXPECT_EQ(table->open_streams(), 1u);
    EXPECT_FALSE(has_flags(take_sent(flow), tcp_rst));

    clock.monotonic += settings.idle_timeout_ms / 2;
    table->tick();
    EXPECT_TRUE(has_flags(take_sent(flow), tcp_rst));
    EXPECT_TRUE(tcp.at(flow.socket).closed);
    EXPECT_TRUE(tcp.at(flow.socket).reset);
    EXPECT_EQ(table->counters().idle_timeouts, 1u);
    EXPECT_EQ(table->open_streams(), 0u);
}

TEST_F(StreamTest, ASynBeyondTheStreamLimitIsResetWhileOpenStreamsGoOn) {
    Flow open = open_stream();
    std::vector<Flow> pending;
    for (std::size_t i = 1; i < max_streams; i++) {
        pending.push_back(new_flow(allowed_port));
        send(pending.back(), tcp_syn);
    }
    ASSERT_EQ(tcp.connections.size(), max_streams);

    Flow refused = new_flow(allowed_port);
    send(refused, tcp_syn);
    const std::vector<TcpView> sent = take_sent(refused);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].flags, tcp_rst | tcp_ack);
    EXPECT_EQ(sent[0].acknowledgement, refused.initial_sequence + 1);
    EXPECT_EQ(table->counters().refused_stream_limit, 1u);
    EXPECT_EQ(tcp.connections.size(), max_streams);  // no connect for it

    send(open, tcp_psh_ack, "ping");
    EXPECT_EQ(tcp.at(open.socket).written, "ping");
    tcp.at(open.socket).inbound = "pong";
    table->on_readable(open.socket);
    EXPECT_EQ(payload_of(take_sent(open)), "pong");

    const port::TcpConnectionId first_pending = 2;  // after the open stream's
    table->on_connected(first_pending, Errc::refused);  // a slot frees up
    EXPECT_TRUE(has_flags(take_sent(pending[0]), tcp_rst | tcp_ack));
    Flow next = new_flow(allowed_port);
    send(next, tcp_syn);
    EXPECT_TRUE(take_sent(next).empty());  // held, not refused
    EXPECT_EQ(tcp.connections.size(), max_streams + 1);
}

}  // namespace
}  // namespace pinhole::overlay
