// Streams through the simulated network: TCP's guarantees under loss, reordering and
// duplication, flow control, refused and timed-out connects, half-close, reset, partitions.
#include <algorithm>

#include "port/sim/seed.h"
#include "sim_test_support.h"

namespace pinhole::sim {
namespace {

using namespace testing_support;

class SimStreams : public SimulationTest {
protected:
    SimStreams()
        : client(add_host("client", {v4(192, 0, 2, 1)})),
          server_host(add_host("server", {v4(192, 0, 2, 2), v6(0x2001, 2)})),
          server(world(), server_host) {
        EXPECT_TRUE(server_host.listen(80, server).ok());
    }

    static constexpr net::Endpoint service{net::IpAddress::v4(192, 0, 2, 2), 80};

    port::TcpConnectionId connect(StreamRecorder& events, net::Endpoint to = service) {
        const Result<port::TcpConnectionId> id = client.tcp().connect(to, events);
        EXPECT_TRUE(id.ok());
        return id.ok() ? id.value() : 0;
    }

    StreamRecorder& accepted(std::size_t index = 0) {
        EXPECT_GT(server.accepted.size(), index);
        return *server.accepted.at(index);
    }

    Host& client;
    Host& server_host;
    TestServer server;
};

TEST_F(SimStreams, ConnectAfterARoundTripThenCarryBytesBothWays) {
    world().set_default_faults(LinkFaults{25, 0, 0, 0});
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(49);
    EXPECT_FALSE(events.connected_result.has_value());
    run_for(1);
    ASSERT_EQ(events.connected_result, Errc::ok);
    EXPECT_EQ(events.connected_at_ms, 50u);
    EXPECT_EQ(events.id, id);
    ASSERT_EQ(server.peers.size(), 1u);
    EXPECT_EQ(server.peers[0], (net::Endpoint{v4(192, 0, 2, 1), 49152}));

    const std::vector<std::uint8_t> request = pattern(100, 1);
    EXPECT_EQ(client.tcp().write(id, request).value(), request.size());
    run_for(25);
    EXPECT_EQ(accepted().bytes, request);
    const std::vector<std::uint8_t> reply = pattern(5000, 2);
    BulkSender replier(world(), server_host.tcp(), reply);
    replier.id = accepted().id;
    for (int i = 0; i < 10; ++i) {  // more than one buffer: the writer comes back for the rest
        replier.send_more();
        run_for(100);
    }
    EXPECT_EQ(events.bytes, reply);
}

TEST_F(SimStreams, EveryByteArrivesInOrderThroughLossReorderingAndDuplication) {
    world().set_default_faults(LinkFaults{10, 40, ppm_from_percent(20), ppm_from_percent(10)});
    const std::vector<std::uint8_t> data = pattern(200'000, 3);
    BulkSender sender(world(), client.tcp(), data);
    sender.close_when_done = true;
    connect(sender);
    run_for(600'000);
    ASSERT_EQ(server.accepted.size(), 1u);
    EXPECT_EQ(sender.offset, data.size());
    EXPECT_EQ(accepted().bytes.size(), data.size());
    EXPECT_TRUE(accepted().bytes == data) << "bytes lost, doubled or reordered";
    EXPECT_TRUE(accepted().end_of_stream);
    EXPECT_FALSE(accepted().closed);
    EXPECT_GT(world().stats().stream_retransmissions, 20u);
}

TEST_F(SimStreams, FlowControlStopsAWriterWhoseReaderDoesNotRead) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    ASSERT_EQ(events.connected_result, Errc::ok);
    accepted().read_automatically = false;
    const std::vector<std::uint8_t> chunk = pattern(1000);
    std::size_t accepted_bytes = 0;
    Errc stopped_by = Errc::ok;
    for (int round = 0; round < 100 && stopped_by == Errc::ok; ++round) {
        for (int i = 0; i < 10; ++i) {
            const Result<std::size_t> written = client.tcp().write(id, chunk);
            if (!written.ok()) {
                stopped_by = written.error();
                break;
            }
            accepted_bytes += written.value();
        }
        run_for(50);
    }
    EXPECT_EQ(stopped_by, Errc::would_block);
    // The writer's buffer and the reader's: nothing more is taken.
    EXPECT_EQ(accepted_bytes, 2 * stream_buffer_bytes);
    const int writable_before = events.writable_calls;
    run_for(1000);
    EXPECT_EQ(events.writable_calls, writable_before);

    accepted().drain(accepted().id);  // the reader reads: the writer may go on
    run_for(100);
    EXPECT_EQ(accepted().bytes.size(), stream_buffer_bytes);
    EXPECT_GT(events.writable_calls, writable_before);
    EXPECT_TRUE(client.tcp().write(id, chunk).ok());
}

TEST_F(SimStreams, AnAcceptorMayWriteAndCloseBeforeItReturns) {
    world().set_default_faults(LinkFaults{10, 30, 0, 0});
    server.greeting = pattern(300, 8);
    server.close_at_once = true;
    StreamRecorder events(world(), client.tcp());
    connect(events);
    run_for(1000);
    EXPECT_EQ(events.connected_result, Errc::ok);
    EXPECT_EQ(events.bytes, server.greeting);
    EXPECT_TRUE(events.end_of_stream);
    EXPECT_EQ(accepted().readable_calls, 0);  // closed: its recorder hears nothing more
}

TEST_F(SimStreams, AClosedPortRefusesAfterARoundTrip) {
    world().set_default_faults(LinkFaults{30, 0, 0, 0});
    StreamRecorder events(world(), client.tcp());
    connect(events, {v4(192, 0, 2, 2), 81});
    run_for(59);
    EXPECT_FALSE(events.connected_result.has_value());
    run_for(1);
    EXPECT_EQ(events.connected_result, Errc::refused);
}

TEST_F(SimStreams, AnAcceptorMayRefuse) {
    server.refuse = true;
    StreamRecorder events(world(), client.tcp());
    connect(events);
    run_for(100);
    EXPECT_EQ(events.connected_result, Errc::refused);
    EXPECT_TRUE(server.accepted.empty());
}

TEST_F(SimStreams, NoSuchHostOrAPartitionTimesTheConnectOut) {
    StreamRecorder nowhere(world(), client.tcp());
    connect(nowhere, {v4(198, 51, 100, 7), 80});
    world().partition(client, server_host);
    StreamRecorder cut_off(world(), client.tcp());
    connect(cut_off);
    const std::uint64_t timeout_ms = world().options().connect_timeout_ms;
    run_for(timeout_ms - 1);
    EXPECT_FALSE(nowhere.connected_result.has_value());
    EXPECT_FALSE(cut_off.connected_result.has_value());
    run_for(1);
    EXPECT_EQ(nowhere.connected_result, Errc::timed_out);
    EXPECT_EQ(cut_off.connected_result, Errc::timed_out);
    EXPECT_TRUE(server.accepted.empty());
}

TEST_F(SimStreams, APartitionHealedInTimeOnlyDelays) {
    world().set_default_faults(LinkFaults{10, 0, 0, 0});
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    world().partition(client, server_host);
    const std::vector<std::uint8_t> data = pattern(3000);
    EXPECT_EQ(client.tcp().write(id, data).value(), data.size());
    run_for(5000);
    EXPECT_TRUE(accepted().bytes.empty());
    world().heal(client, server_host);
    run_for(20'000);  // the next retransmission gets through
    EXPECT_EQ(accepted().bytes, data);
    EXPECT_FALSE(events.closed);
}

TEST_F(SimStreams, APartitionThatLastsTimesTheWriterOut) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    world().isolate(server_host);
    const std::uint8_t byte[] = {1};
    EXPECT_TRUE(client.tcp().write(id, byte).ok());
    run_for(800'000);
    EXPECT_FALSE(events.closed);  // TCP is patient: ~14 minutes, as Linux
    run_for(100'000);
    EXPECT_TRUE(events.closed);
    EXPECT_EQ(events.closed_reason, Errc::timed_out);
    EXPECT_EQ(client.tcp().write(id, byte).error(), Errc::invalid_argument);  // id released
    EXPECT_FALSE(accepted().closed);  // the reader never heard: a half-open connection
}

TEST_F(SimStreams, HalfCloseEndsOneDirectionOnly) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    const std::vector<std::uint8_t> request = pattern(500, 4);
    EXPECT_TRUE(client.tcp().write(id, request).ok());
    EXPECT_TRUE(client.tcp().shutdown_write(id).ok());
    EXPECT_EQ(client.tcp().write(id, request).error(), Errc::closed);
    run_for(100);
    EXPECT_EQ(accepted().bytes, request);
    EXPECT_TRUE(accepted().end_of_stream);
    EXPECT_EQ(server_host.tcp().read(accepted().id, std::span<std::uint8_t>()).value(), 0u);

    const std::vector<std::uint8_t> reply = pattern(700, 5);
    EXPECT_TRUE(server_host.tcp().write(accepted().id, reply).ok());
    run_for(100);
    EXPECT_EQ(events.bytes, reply);
    EXPECT_FALSE(events.end_of_stream);
    server_host.tcp().close(accepted().id, false);
    run_for(100);
    EXPECT_TRUE(events.end_of_stream);
    EXPECT_FALSE(events.closed);
    client.tcp().close(id, false);
    run_for(100);
    EXPECT_FALSE(accepted().closed);
}

TEST_F(SimStreams, AnOrderlyCloseStillDeliversWhatWasWritten) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    ASSERT_EQ(events.connected_result, Errc::ok);
    world().set_default_faults(LinkFaults{10, 20, ppm_from_percent(30), 0});
    const std::vector<std::uint8_t> data = pattern(4000, 6);
    EXPECT_EQ(client.tcp().write(id, data).value(), data.size());
    client.tcp().close(id, false);
    EXPECT_EQ(client.tcp().write(id, data).error(), Errc::invalid_argument);
    run_for(120'000);
    EXPECT_EQ(accepted().bytes, data);
    EXPECT_TRUE(accepted().end_of_stream);
    // The lingering connection is gone once everything arrived: every slot is free again.
    std::vector<std::unique_ptr<StreamRecorder>> more;
    for (std::size_t i = 0; i < max_tcp_connections_per_host; ++i) {
        more.push_back(std::make_unique<StreamRecorder>(world(), client.tcp()));
        EXPECT_TRUE(client.tcp().connect(service, *more.back()).ok()) << i;
    }
}

TEST_F(SimStreams, AResetClosesThePeer) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    const std::vector<std::uint8_t> data = pattern(3000);
    EXPECT_TRUE(client.tcp().write(id, data).ok());
    client.tcp().close(id, true);
    run_for(100);
    EXPECT_TRUE(accepted().closed);
    EXPECT_EQ(accepted().closed_reason, Errc::closed);
    EXPECT_FALSE(events.closed);  // the owner closed it: no callback
}

TEST_F(SimStreams, WritingToAConnectionThePeerClosedIsReset) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    server_host.tcp().close(accepted().id, false);
    run_for(100);
    EXPECT_TRUE(events.end_of_stream);
    const std::uint8_t byte[] = {1};
    EXPECT_TRUE(client.tcp().write(id, byte).ok());  // as on Linux: the first write succeeds
    run_for(100);
    EXPECT_TRUE(events.closed);
    EXPECT_EQ(events.closed_reason, Errc::closed);
}

TEST_F(SimStreams, AFloodOfDatagramsDelaysAStreamButCannotWedgeIt) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    run_for(100);
    Host& sink = add_host("sink", {v4(192, 0, 2, 9)});
    world().set_link_faults(client, sink, LinkFaults{1000, 0, 0, 0});
    UdpInbox ignored(world());
    const auto flooder = client.udp().open({}, ignored).value();
    const std::uint8_t junk[1] = {0};
    while (client.udp().send(flooder, {v4(192, 0, 2, 9), 9}, junk).ok()) {
    }
    const std::vector<std::uint8_t> data = pattern(2000);
    EXPECT_EQ(client.tcp().write(id, data).value(), data.size());  // buffered: no event for it
    run_for(999);
    EXPECT_TRUE(accepted().bytes.empty());
    run_for(100);  // the flood lands, events free up, the stream goes on by itself
    EXPECT_EQ(accepted().bytes, data);
}

TEST_F(SimStreams, ALoopbackConnectionWorks) {
    StreamRecorder events(world(), server_host.tcp());
    const auto id = server_host.tcp().connect({v6(0x2001, 2), 80}, events).value();
    run_for(0);
    ASSERT_EQ(events.connected_result, Errc::ok);
    const std::vector<std::uint8_t> data = pattern(10'000, 7);
    BulkSender sender(world(), server_host.tcp(), data);
    sender.id = accepted().id;
    for (int i = 0; i < 5; ++i) {
        sender.send_more();
        run_for(0);  // loopback has no delay: no time passes
    }
    EXPECT_EQ(events.bytes, data);
    EXPECT_EQ(world().now_ms(), 0u);
    server_host.tcp().close(id, false);
}

TEST_F(SimStreams, IdsAreCheckedAndLimited) {
    StreamRecorder events(world(), client.tcp());
    const auto id = connect(events);
    std::uint8_t buffer[8];
    EXPECT_EQ(client.tcp().read(id, buffer).error(), Errc::invalid_argument);  // not yet open
    run_for(100);
    EXPECT_EQ(client.tcp().read(id, buffer).error(), Errc::would_block);
    client.tcp().close(id, false);
    EXPECT_EQ(client.tcp().read(id, buffer).error(), Errc::invalid_argument);
    EXPECT_EQ(client.tcp().connect({v6(0x2001, 2), 80}, events).error(), Errc::unreachable);
    EXPECT_EQ(server_host.listen(80, server).error(), Errc::already_exists);
    server_host.tcp().stop_listening(80);
    StreamRecorder refused(world(), client.tcp());
    connect(refused);
    run_for(100);
    EXPECT_EQ(refused.connected_result, Errc::refused);
}

// Many seeds, several streams at once in both directions, faults everywhere and a flapping
// link: whatever the seed, every byte arrives once and in order.
TEST(SimStreamSoak, EveryStreamDeliversExactlyUnderManySeeds) {
    const std::uint64_t first_seed = seed_from_environment(1000);
    for (std::uint64_t seed = first_seed; seed < first_seed + 12; ++seed) {
        WorldOptions options;
        options.seed = seed;
        options.seed_source = SeedSource::given_only;
        options.faults = LinkFaults{5, 60, ppm_from_percent(15), ppm_from_percent(15)};
        options.connect_timeout_ms = 60'000;
        auto world = std::make_unique<World>(options);
        SCOPED_TRACE(seed_message(seed));
        const std::vector<net::IpAddress> a_address = {v4(10, 0, 0, 1)};
        const std::vector<net::IpAddress> b_address = {v4(10, 0, 0, 2)};
        Host& a = world->add_host({"a", a_address});
        Host& b = world->add_host({"b", b_address});
        TestServer server_a(*world, a);
        TestServer server_b(*world, b);
        ASSERT_TRUE(a.listen(1, server_a).ok());
        ASSERT_TRUE(b.listen(1, server_b).ok());
        std::vector<std::unique_ptr<BulkSender>> senders;
        for (std::uint8_t i = 0; i < 6; ++i) {
            Host& from = i % 2 == 0 ? a : b;
            const net::Endpoint to{i % 2 == 0 ? v4(10, 0, 0, 2) : v4(10, 0, 0, 1), 1};
            senders.push_back(std::make_unique<BulkSender>(*world, from.tcp(), pattern(30'000 + i * 7'777, i)));
            senders.back()->close_when_done = i % 3 == 0;
            ASSERT_TRUE(from.tcp().connect(to, *senders.back()).ok());
        }
        for (int flap = 0; flap < 20; ++flap) {
            ASSERT_TRUE(world->run_for(2'000 + world->prng().below(3'000)).ok());
            world->partition(a, b);
            ASSERT_TRUE(world->run_for(world->prng().below(2'000)).ok());
            world->heal(a, b);
        }
        ASSERT_TRUE(world->run_for(600'000).ok());
        ASSERT_EQ(server_a.accepted.size(), 3u);
        ASSERT_EQ(server_b.accepted.size(), 3u);
        for (std::size_t i = 0; i < senders.size(); ++i) {
            // Connections are accepted in whatever order their SYNs got through: each stream's
            // first byte (its pattern's salt) tells which sender it came from.
            const TestServer& server = i % 2 == 0 ? server_b : server_a;
            const auto match = std::find_if(server.accepted.begin(), server.accepted.end(), [&](const auto& r) {
                return !r->bytes.empty() && r->bytes[0] == i;
            });
            ASSERT_NE(match, server.accepted.end()) << i;
            const StreamRecorder& received = **match;
            EXPECT_EQ(received.bytes, pattern(30'000 + i * 7'777, static_cast<std::uint8_t>(i))) << i;
            EXPECT_EQ(received.end_of_stream, senders[i]->close_when_done) << i;
            EXPECT_FALSE(senders[i]->closed) << i;
        }
    }
}

}  // namespace
}  // namespace pinhole::sim
