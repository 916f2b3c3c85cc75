// Datagrams through the simulated network: delay, loss, duplication and reordering at their
// configured rates, partitions, and the UDP socket rules.
#include <algorithm>
#include <set>

#include "sim_test_support.h"

namespace pinhole::sim {
namespace {

using namespace testing_support;

class SimDatagrams : public SimulationTest {
protected:
    SimDatagrams()
        : alice(add_host("alice", {v4(192, 0, 2, 1), v6(0x2001, 1)})),
          bob(add_host("bob", {v4(192, 0, 2, 2), v6(0x2001, 2)})),
          carol(add_host("carol", {v4(192, 0, 2, 3)})),
          inbox(world()) {}

    port::UdpSocketId open(Host& host, std::uint16_t port) {
        const Result<port::UdpSocketId> socket = host.udp().open({{}, port}, inbox);
        EXPECT_TRUE(socket.ok());
        return socket.ok() ? socket.value() : 0;
    }

    // Sends `count` numbered datagrams from alice to bob, `gap_ms` apart, then waits.
    void send_numbered(int count, std::uint64_t gap_ms) {
        const port::UdpSocketId from = open(alice, 0);
        for (int i = 0; i < count; ++i) {
            const std::uint8_t message[2] = {static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
            ASSERT_TRUE(alice.udp().send(from, {v4(192, 0, 2, 2), 7000}, message).ok());
            run_for(gap_ms);
        }
        run_for(5000);
    }

    static int number_of(const ReceivedDatagram& datagram) {
        return datagram.payload[0] << 8 | datagram.payload[1];
    }

    Host& alice;
    Host& bob;
    Host& carol;
    UdpInbox inbox;
};

TEST_F(SimDatagrams, ArriveAfterTheLinkDelayWithSourceAndPayload) {
    world().set_link_faults(alice, bob, LinkFaults{42, 0, 0, 0});
    const auto receiver = open(bob, 7000);
    const auto sender = open(alice, 5555);
    const std::uint8_t hello[] = {'h', 'i'};
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, hello).ok());
    run_for(41);
    EXPECT_TRUE(inbox.received.empty());
    run_for(1);
    ASSERT_EQ(inbox.received.size(), 1u);
    EXPECT_EQ(inbox.received[0].at_ms, 42u);
    EXPECT_EQ(inbox.received[0].socket, receiver);
    EXPECT_EQ(inbox.received[0].from, (net::Endpoint{v4(192, 0, 2, 1), 5555}));
    EXPECT_EQ(inbox.received[0].payload, std::vector<std::uint8_t>({'h', 'i'}));

    world().reset_link_faults(alice, bob);  // back to the default: 10 ms
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, hello).ok());
    run_for(10);
    EXPECT_EQ(inbox.received.size(), 2u);
    EXPECT_EQ(inbox.received[1].at_ms, 52u);
}

TEST_F(SimDatagrams, IPv6UsesTheHostsIPv6Address) {
    open(bob, 7000);
    const auto sender = open(alice, 5555);
    const std::uint8_t hello[] = {1};
    ASSERT_TRUE(alice.udp().send(sender, {v6(0x2001, 2), 7000}, hello).ok());
    run_for(100);
    ASSERT_EQ(inbox.received.size(), 1u);
    EXPECT_EQ(inbox.received[0].from, (net::Endpoint{v6(0x2001, 1), 5555}));
    // carol has no IPv6 address: she cannot send to one.
    const auto carols = open(carol, 0);
    EXPECT_EQ(carol.udp().send(carols, {v6(0x2001, 2), 7000}, hello).error(), Errc::unreachable);
}

TEST_F(SimDatagrams, LossAndDuplicationHappenAtRoughlyTheirRates) {
    world().set_default_faults(LinkFaults{10, 0, ppm_from_percent(20), ppm_from_percent(10)});
    open(bob, 7000);
    send_numbered(2000, 1);
    const NetworkStats& stats = world().stats();
    // Binomial(2000, 0.2): mean 400, sd ~18; (1600, 0.1): mean 160, sd ~12. Bounds at ~5 sd.
    EXPECT_GT(stats.datagrams_lost, 310u);
    EXPECT_LT(stats.datagrams_lost, 490u);
    EXPECT_GT(stats.datagrams_duplicated, 100u);
    EXPECT_LT(stats.datagrams_duplicated, 220u);
    EXPECT_EQ(inbox.received.size(), 2000 - stats.datagrams_lost + stats.datagrams_duplicated);
    std::set<int> distinct;
    for (const auto& datagram : inbox.received) distinct.insert(number_of(datagram));
    EXPECT_EQ(distinct.size(), 2000 - stats.datagrams_lost);
}

TEST_F(SimDatagrams, JitterReordersWithoutLosingAnything) {
    world().set_default_faults(LinkFaults{20, 50, 0, 0});
    open(bob, 7000);
    send_numbered(500, 2);
    ASSERT_EQ(inbox.received.size(), 500u);
    int overtaken = 0;
    for (std::size_t i = 1; i < inbox.received.size(); ++i) {
        if (number_of(inbox.received[i]) < number_of(inbox.received[i - 1])) ++overtaken;
        EXPECT_GE(inbox.received[i].at_ms, inbox.received[i - 1].at_ms);
    }
    // Packets 2 ms apart with 0..50 ms of jitter overtake each other most of the time.
    EXPECT_GT(overtaken, 100);
    std::set<int> distinct;
    for (const auto& datagram : inbox.received) distinct.insert(number_of(datagram));
    EXPECT_EQ(distinct.size(), 500u);
}

TEST_F(SimDatagrams, WithoutJitterOrderIsKept) {
    open(bob, 7000);
    send_numbered(100, 0);
    ASSERT_EQ(inbox.received.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(number_of(inbox.received[i]), i);
}

TEST_F(SimDatagrams, APartitionDropsUntilHealedAndOnlyBetweenItsHosts) {
    open(bob, 7000);
    open(carol, 7000);
    const auto sender = open(alice, 0);
    const std::uint8_t ping[] = {0};
    world().partition(alice, bob);
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok());  // silently lost
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 3), 7000}, ping).ok());
    run_for(100);
    ASSERT_EQ(inbox.received.size(), 1u);
    EXPECT_EQ(inbox.received[0].from.address, v4(192, 0, 2, 1));
    EXPECT_EQ(world().stats().datagrams_cut, 1u);
    world().heal(alice, bob);
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok());
    run_for(100);
    EXPECT_EQ(inbox.received.size(), 2u);
}

TEST_F(SimDatagrams, ACutDropsWhatIsAlreadyOnTheWire) {
    world().set_default_faults(LinkFaults{100, 0, 0, 0});
    open(bob, 7000);
    const auto sender = open(alice, 0);
    const std::uint8_t ping[] = {0};
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok());
    run_for(50);
    world().partition(bob, alice);
    run_for(100);
    EXPECT_TRUE(inbox.received.empty());
    EXPECT_EQ(world().stats().datagrams_cut, 1u);
}

TEST_F(SimDatagrams, AnIsolatedHostReachesNobodyButItself) {
    open(bob, 7000);
    const auto alices = open(alice, 7000);
    world().isolate(alice);
    const std::uint8_t ping[] = {0};
    ASSERT_TRUE(alice.udp().send(alices, {v4(192, 0, 2, 2), 7000}, ping).ok());
    ASSERT_TRUE(alice.udp().send(alices, {v4(192, 0, 2, 1), 7000}, ping).ok());  // loopback
    run_for(100);
    ASSERT_EQ(inbox.received.size(), 1u);
    EXPECT_EQ(inbox.received[0].socket, alices);
    world().rejoin(alice);
    ASSERT_TRUE(alice.udp().send(alices, {v4(192, 0, 2, 2), 7000}, ping).ok());
    run_for(100);
    EXPECT_EQ(inbox.received.size(), 2u);
}

TEST_F(SimDatagrams, HostsAreFoundByAddress) {
    EXPECT_EQ(world().host_count(), 3u);
    EXPECT_EQ(world().route(v6(0x2001, 2)), &bob);
    EXPECT_EQ(world().route(v4(192, 0, 2, 3)), &carol);
    EXPECT_EQ(world().route(v4(192, 0, 2, 4)), nullptr);
    EXPECT_EQ(&world().host(carol.index()), &carol);
    EXPECT_EQ(carol.label(), "carol");
}

TEST_F(SimDatagrams, EphemeralPortsAreDeterministicAndDistinct) {
    const auto first = open(alice, 0);
    const auto second = open(alice, 0);
    EXPECT_EQ(alice.udp().local_endpoint(first).value().port, 49152);
    EXPECT_EQ(alice.udp().local_endpoint(second).value().port, 49153);
    const auto bobs = open(bob, 0);
    EXPECT_EQ(bob.udp().local_endpoint(bobs).value().port, 49152);  // per host
}

TEST_F(SimDatagrams, SocketRules) {
    const auto socket = open(alice, 7000);
    // The same port again, on an overlapping address: taken.
    EXPECT_EQ(alice.udp().open({v4(192, 0, 2, 1), 7000}, inbox).error(), Errc::already_exists);
    // An address the host does not have.
    EXPECT_EQ(alice.udp().open({v4(192, 0, 2, 9), 7001}, inbox).error(), Errc::unreachable);
    const std::vector<std::uint8_t> too_big(max_datagram_bytes + 1);
    EXPECT_EQ(alice.udp().send(socket, {v4(192, 0, 2, 2), 7000}, too_big).error(),
              Errc::invalid_argument);
    alice.udp().close(socket);
    const std::uint8_t ping[] = {0};
    EXPECT_EQ(alice.udp().send(socket, {v4(192, 0, 2, 2), 7000}, ping).error(),
              Errc::invalid_argument);  // a stale id is refused, even once its slot is reused
    const auto reused = open(alice, 7000);
    EXPECT_NE(reused, socket);
    EXPECT_EQ(alice.udp().send(socket, {v4(192, 0, 2, 2), 7000}, ping).error(),
              Errc::invalid_argument);
    for (std::size_t i = 1; i < max_udp_sockets_per_host; ++i) open(alice, 0);
    EXPECT_EQ(alice.udp().open({}, inbox).error(), Errc::no_space);
}

TEST_F(SimDatagrams, BindingsOfOnePortMustNotOverlap) {
    UdpInbox specific_inbox(world());
    const auto wildcard = open(bob, 7000);
    const auto specific = bob.udp().open({v4(192, 0, 2, 2), 7000}, specific_inbox);
    EXPECT_EQ(specific.error(), Errc::already_exists);  // as on Linux without SO_REUSEADDR
    bob.udp().close(wildcard);
    const auto v6_only = bob.udp().open({v6(0x2001, 2), 7000}, specific_inbox).value();
    const auto v4_any = bob.udp().open({v4(0, 0, 0, 0), 7000}, inbox).value();
    const auto sender = open(alice, 0);
    const std::uint8_t ping[] = {0};
    ASSERT_TRUE(alice.udp().send(sender, {v6(0x2001, 2), 7000}, ping).ok());
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok());
    run_for(100);
    ASSERT_EQ(specific_inbox.received.size(), 1u);
    EXPECT_EQ(specific_inbox.received[0].socket, v6_only);
    ASSERT_EQ(inbox.received.size(), 1u);
    EXPECT_EQ(inbox.received[0].socket, v4_any);
}

TEST_F(SimDatagrams, NobodyListeningOrNoSuchHostIsSilence) {
    const auto sender = open(alice, 0);
    const std::uint8_t ping[] = {0};
    ASSERT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok());
    ASSERT_TRUE(alice.udp().send(sender, {v4(198, 51, 100, 1), 7000}, ping).ok());
    run_for(100);
    EXPECT_EQ(world().stats().datagrams_unclaimed, 2u);
}

TEST_F(SimDatagrams, AFullEventPoolIsAFullSocketBuffer) {
    world().set_default_faults(LinkFaults{1000, 0, 0, 0});
    const auto sender = open(alice, 0);
    const std::uint8_t ping[] = {0};
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < max_events_in_flight; ++i) {
        if (alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok()) ++accepted;
    }
    EXPECT_EQ(accepted, max_events_in_flight - events_reserved_for_control);
    EXPECT_EQ(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).error(), Errc::would_block);
    run_for(1000);
    EXPECT_TRUE(alice.udp().send(sender, {v4(192, 0, 2, 2), 7000}, ping).ok());
}

}  // namespace
}  // namespace pinhole::sim
