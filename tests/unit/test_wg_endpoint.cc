// Endpoints: equality per kind, WireGuard's roaming to the source of authenticated packets, and
// the refinement that a late relay packet never demotes a validated direct endpoint.
#include <gtest/gtest.h>

#include "core/wireguard/endpoint.h"

namespace pinhole::wireguard {
namespace {

Endpoint udp(std::uint8_t last, std::uint16_t port) {
    return Endpoint::direct(net::Endpoint{net::IpAddress::v4(192, 0, 2, last), port});
}
Endpoint relay(std::uint8_t gateway, std::uint8_t peer) {
    crypto::X25519Key g{}, p{};
    g.fill(gateway);
    p.fill(peer);
    return Endpoint::relay(g, p);
}

TEST(WgEndpoint, EqualityComparesOnlyTheKindsFields) {
    EXPECT_EQ(udp(1, 5), udp(1, 5));
    EXPECT_NE(udp(1, 5), udp(1, 6));
    EXPECT_EQ(relay(1, 2), relay(1, 2));
    EXPECT_NE(relay(1, 2), relay(1, 3));
    EXPECT_NE(relay(1, 2), relay(9, 2));
    Endpoint stale_udp_fields = relay(1, 2);
    stale_udp_fields.udp.port = 99;
    EXPECT_EQ(stale_udp_fields, relay(1, 2));
    EXPECT_NE(udp(1, 5), relay(1, 2));
    EXPECT_EQ(Endpoint{}, Endpoint{});
}

TEST(WgEndpoint, StartsAtTheConfiguredEndpointAndRoams) {
    EndpointTracker tracker;
    tracker.set_configured(udp(1, 51820));
    EXPECT_EQ(tracker.current(), udp(1, 51820));
    EXPECT_FALSE(tracker.direct_validated(0)) << "configured is not validated";
    EXPECT_TRUE(tracker.on_authenticated_packet(udp(2, 4000), 10));
    EXPECT_EQ(tracker.current(), udp(2, 4000));
    EXPECT_FALSE(tracker.on_authenticated_packet(udp(2, 4000), 20)) << "no change";
    EXPECT_FALSE(tracker.on_authenticated_packet(Endpoint{}, 30));
    EXPECT_EQ(tracker.current(), udp(2, 4000));
}

TEST(WgEndpoint, RelayReplacesAnUnvalidatedDirectEndpoint) {
    EndpointTracker tracker;
    tracker.set_configured(udp(1, 51820));
    EXPECT_TRUE(tracker.on_authenticated_packet(relay(7, 8), 100));
    EXPECT_EQ(tracker.current(), relay(7, 8));
}

TEST(WgEndpoint, LateRelayPacketNeverDemotesAValidatedDirectEndpoint) {
    EndpointTracker tracker(15'000);
    tracker.set_configured(relay(7, 8));
    EXPECT_TRUE(tracker.on_authenticated_packet(udp(3, 9000), 1'000));  // the punch worked
    EXPECT_TRUE(tracker.direct_validated(1'000));
    EXPECT_FALSE(tracker.on_authenticated_packet(relay(7, 8), 1'500)) << "late relay packet";
    EXPECT_EQ(tracker.current(), udp(3, 9000));
    EXPECT_FALSE(tracker.on_authenticated_packet(relay(7, 8), 15'999));
    EXPECT_EQ(tracker.current(), udp(3, 9000));
    // The direct path went quiet for the whole validity: the relay takes over again.
    EXPECT_FALSE(tracker.direct_validated(16'000));
    EXPECT_TRUE(tracker.on_authenticated_packet(relay(7, 8), 16'000));
    EXPECT_EQ(tracker.current(), relay(7, 8));
    // And a direct packet moves it back at once.
    EXPECT_TRUE(tracker.on_authenticated_packet(udp(3, 9000), 16'100));
    EXPECT_EQ(tracker.current(), udp(3, 9000));
}

TEST(WgEndpoint, DirectPacketsKeepTheDirectPathValidated) {
    EndpointTracker tracker(15'000);
    (void)tracker.on_authenticated_packet(udp(3, 9000), 0);
    (void)tracker.on_authenticated_packet(udp(3, 9000), 10'000);
    EXPECT_FALSE(tracker.on_authenticated_packet(relay(7, 8), 24'000));
    EXPECT_EQ(tracker.current(), udp(3, 9000));
}

TEST(WgEndpoint, ValidityAcrossClockWrap) {
    EndpointTracker tracker(15'000);
    (void)tracker.on_authenticated_packet(udp(3, 9000), 0xFFFF'FFF0u);
    EXPECT_FALSE(tracker.on_authenticated_packet(relay(7, 8), 1'000));  // 1016 ms later
    EXPECT_TRUE(tracker.on_authenticated_packet(relay(7, 8), 0xFFFF'FFF0u + 15'000));
}

TEST(WgEndpoint, DirectRoamsToAnotherDirectSourceEvenWhenValidated) {
    EndpointTracker tracker;
    (void)tracker.on_authenticated_packet(udp(3, 9000), 0);
    EXPECT_TRUE(tracker.on_authenticated_packet(udp(4, 9001), 1));  // NAT rebinding
    EXPECT_EQ(tracker.current(), udp(4, 9001));
    EXPECT_TRUE(tracker.direct_validated(1));
}

}  // namespace
}  // namespace pinhole::wireguard
