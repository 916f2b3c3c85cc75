// The WireGuard device in memory, one datagram at a time: peer configuration errors, send()'s
// refusals, staging while the handshake runs (oldest dropped, counted), padding removed by the
// IP header's length, and the allowed-source and IP-header checks on what decrypts.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/wireguard/device.h"

namespace pinhole::wireguard {
namespace {

// xorshift64*: deterministic, distinct draws (indices must not collide).
struct TestRandom final : port::Random {
    Status fill(std::span<std::uint8_t> out) noexcept override {
        for (auto& byte : out) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            byte = static_cast<std::uint8_t>((state * 0x2545F4914F6CDD1DULL) >> 56);
        }
        return {};
    }
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
};

struct Recorder final : DeviceOutput {
    void send_datagram(const Endpoint& to, std::span<const std::uint8_t> datagram) noexcept override {
        sent.emplace_back(datagram.begin(), datagram.end());
        last_destination = to;
    }
    void deliver(PeerId peer, std::span<const std::uint8_t> packet) noexcept override {
        delivered.emplace_back(packet.begin(), packet.end());
        delivered_from.push_back(peer);
    }
    std::vector<std::vector<std::uint8_t>> sent;
    Endpoint last_destination;
    std::vector<std::vector<std::uint8_t>> delivered;
    std::vector<PeerId> delivered_from;
};

StaticIdentity identity_for(std::uint8_t seed) {
    StaticIdentity identity;
    identity.private_key.fill(seed);
    crypto::x25519_clamp(identity.private_key);
    EXPECT_TRUE(crypto::x25519_public_key(identity.public_key, identity.private_key).ok());
    return identity;
}

const Endpoint alice_endpoint = Endpoint::direct({net::IpAddress::v4(192, 0, 2, 1), 51820});
const Endpoint bob_endpoint = Endpoint::direct({net::IpAddress::v4(192, 0, 2, 2), 51820});
const net::Prefix alice_sources[] = {{net::IpAddress::v4(10, 0, 0, 1), 32}};
const net::Prefix bob_sources[] = {{net::IpAddress::v4(10, 0, 0, 2), 32}};

// An IPv4 packet of `total_bytes` from `source` carrying `marker`.
std::vector<std::uint8_t> ipv4_packet(std::uint8_t source_last, std::size_t total_bytes,
                                      std::uint8_t marker) {
    std::vector<std::uint8_t> packet(total_bytes, marker);
    packet[0] = 0x45;
    packet[2] = static_cast<std::uint8_t>(total_bytes >> 8);
    packet[3] = static_cast<std::uint8_t>(total_bytes);
    const std::uint8_t addresses[] = {10, 0, 0, source_last, 10, 0, 0, 9};
    std::copy(std::begin(addresses), std::end(addresses), packet.begin() + 12);
    return packet;
}

class WgDevice : public ::testing::Test {
protected:
    WgDevice()
        : alice_identity(identity_for(1)),
          bob_identity(identity_for(2)),
          alice(std::make_unique<Device>(alice_identity, random, alice_out)),
          bob(std::make_unique<Device>(bob_identity, random, bob_out)) {
        PeerConfig to_bob;
        to_bob.public_key = bob_identity.public_key;
        to_bob.endpoint = bob_endpoint;
        to_bob.allowed_sources = bob_sources;
        bob_at_alice = alice->add_peer(to_bob, now_ms).value();
        PeerConfig to_alice;
        to_alice.public_key = alice_identity.public_key;
        to_alice.allowed_sources = alice_sources;  // no endpoint: learnt from her initiation
        alice_at_bob = bob->add_peer(to_alice, now_ms).value();
    }

    // Hands every datagram each side sent to the other until both are quiet.
    void exchange() {
        for (int round = 0; round < 10; ++round) {
            auto to_bob = std::move(alice_out.sent);
            auto to_alice = std::move(bob_out.sent);
            alice_out.sent.clear();
            bob_out.sent.clear();
            if (to_bob.empty() && to_alice.empty()) return;
            for (const auto& datagram : to_bob) bob->receive(alice_endpoint, datagram, now_ms, wall);
            for (const auto& datagram : to_alice) alice->receive(bob_endpoint, datagram, now_ms, wall);
        }
    }

    TestRandom random;
    StaticIdentity alice_identity;
    StaticIdentity bob_identity;
    Recorder alice_out;
    Recorder bob_out;
    std::unique_ptr<Device> alice;
    std::unique_ptr<Device> bob;
    PeerId bob_at_alice = 0;
    PeerId alice_at_bob = 0;
    std::uint32_t now_ms = 1'000;
    port::WallTime wall{1'767'225'600, 0};
};

TEST_F(WgDevice, AddPeerRefusesOurKeyADuplicateAndALowOrderKeyAndAddsNothing) {
    PeerConfig config;
    config.public_key = alice_identity.public_key;
    EXPECT_EQ(alice->add_peer(config, now_ms).error(), Errc::already_exists);
    config.public_key = bob_identity.public_key;
    EXPECT_EQ(alice->add_peer(config, now_ms).error(), Errc::already_exists);
    config.public_key = {};  // a low-order point: DH with it is all zeros
    EXPECT_EQ(alice->add_peer(config, now_ms).error(), Errc::weak_key);
    EXPECT_FALSE(alice->find_peer(config.public_key).has_value());
    EXPECT_EQ(alice->peer_counters(1), nullptr);
}

TEST_F(WgDevice, AddPeerStopsAtTheTableCapacity) {
    std::size_t added = 1;  // bob
    for (std::uint8_t seed = 10; added < PeerTable::capacity; ++seed, ++added) {
        PeerConfig config;
        config.public_key = identity_for(seed).public_key;
        ASSERT_TRUE(alice->add_peer(config, now_ms).ok());
    }
    PeerConfig one_more;
    one_more.public_key = identity_for(200).public_key;
    EXPECT_EQ(alice->add_peer(one_more, now_ms).error(), Errc::no_space);
}

TEST_F(WgDevice, SendRefusesUnknownPeersOversizedPacketsAndPeersWithoutAnEndpoint) {
    const auto packet = ipv4_packet(1, 60, 0);
    EXPECT_EQ(alice->send(77, packet, now_ms, wall).error(), Errc::invalid_argument);
    EXPECT_EQ(alice->counters().unknown_peer_id, 1u);
    const auto too_large = ipv4_packet(1, max_ip_packet_bytes + 1, 0);
    EXPECT_EQ(alice->send(bob_at_alice, too_large, now_ms, wall).error(), Errc::invalid_argument);
    EXPECT_EQ(alice->counters().packet_too_large, 1u);
    // Bob has never heard from alice and was given no endpoint for her.
    EXPECT_EQ(bob->send(alice_at_bob, packet, now_ms, wall).error(), Errc::unreachable);
    EXPECT_EQ(bob->peer_counters(alice_at_bob)->no_endpoint, 1u);
    EXPECT_TRUE(bob_out.sent.empty());
}

TEST_F(WgDevice, PacketsWaitForTheHandshakeAndTheOldestAreDroppedWhenTheQueueIsFull) {
    constexpr std::size_t extra = 3;
    for (std::size_t i = 0; i < staged_packets_per_peer + extra; ++i) {
        ASSERT_TRUE(alice->send(bob_at_alice, ipv4_packet(1, 40 + i, static_cast<std::uint8_t>(i)),
                                now_ms, wall).ok());
    }
    ASSERT_EQ(alice_out.sent.size(), 1u);  // one initiation, not one per packet
    EXPECT_EQ(alice_out.sent[0].size(), initiation_bytes);
    EXPECT_EQ(alice->peer_counters(bob_at_alice)->staged_dropped_oldest, extra);
    EXPECT_TRUE(alice->next_deadline_ms().has_value());  // the retransmission

    exchange();
    EXPECT_TRUE(alice->has_session(bob_at_alice, now_ms));
    EXPECT_TRUE(bob->has_session(alice_at_bob, now_ms));
    ASSERT_EQ(bob_out.delivered.size(), staged_packets_per_peer);
    for (std::size_t i = 0; i < staged_packets_per_peer; ++i) {
        // In order, unpadded (the IP header's length), the newest ones.
        EXPECT_EQ(bob_out.delivered[i], ipv4_packet(1, 40 + extra + i, static_cast<std::uint8_t>(extra + i)));
        EXPECT_EQ(bob_out.delivered_from[i], alice_at_bob);
    }
    EXPECT_EQ(bob->peer_endpoint(alice_at_bob), alice_endpoint);  // learnt from the handshake
}

TEST_F(WgDevice, DecryptedPacketsFromOutsideTheAllowedSourcesOrWithoutAnIpHeaderAreCounted) {
    ASSERT_TRUE(alice->initiate_handshake(bob_at_alice, now_ms, wall).ok());
    exchange();
    ASSERT_TRUE(bob->has_session(alice_at_bob, now_ms));
    ASSERT_TRUE(alice->send(bob_at_alice, ipv4_packet(2, 60, 1), now_ms, wall).ok());  // bob's address
    std::vector<std::uint8_t> not_ip(60, 0);
    not_ip[0] = 0x55;  // version 5
    ASSERT_TRUE(alice->send(bob_at_alice, not_ip, now_ms, wall).ok());
    auto too_long = ipv4_packet(1, 60, 2);
    too_long[3] = 200;  // claims more bytes than it has
    ASSERT_TRUE(alice->send(bob_at_alice, too_long, now_ms, wall).ok());
    ASSERT_TRUE(alice->send(bob_at_alice, ipv4_packet(1, 60, 3), now_ms, wall).ok());
    exchange();
    const PeerCounters& counters = *bob->peer_counters(alice_at_bob);
    EXPECT_EQ(counters.disallowed_source, 1u);
    EXPECT_EQ(counters.malformed_ip_packet, 2u);
    ASSERT_EQ(bob_out.delivered.size(), 1u);
    EXPECT_EQ(bob_out.delivered[0], ipv4_packet(1, 60, 3));
}

TEST_F(WgDevice, PersistentKeepaliveSendsAKeepaliveAfterEachQuietInterval) {
    PeerConfig config;
    config.public_key = identity_for(3).public_key;
    config.endpoint = bob_endpoint;
    config.persistent_keepalive_s = 25;
    Recorder out;
    Device carol(identity_for(4), random, out);
    const PeerId peer = carol.add_peer(config, now_ms).value();
    ASSERT_TRUE(carol.next_deadline_ms().has_value());
    EXPECT_EQ(*carol.next_deadline_ms(), now_ms + 25'000);
    carol.tick(now_ms + 24'999, wall);
    EXPECT_TRUE(out.sent.empty());
    carol.tick(now_ms + 25'000, wall);
    // No session yet: the keepalive starts a handshake instead.
    ASSERT_EQ(out.sent.size(), 1u);
    EXPECT_EQ(out.sent[0].size(), initiation_bytes);
    EXPECT_EQ(carol.peer_counters(peer)->initiations_sent, 1u);
}

TEST_F(WgDevice, ADatagramLargerThanAnyDataMessageIsCounted) {
    std::vector<std::uint8_t> datagram(data_header_bytes + max_ip_packet_bytes + data_tag_bytes + 1, 0);
    datagram[0] = 4;
    bob->receive(alice_endpoint, datagram, now_ms, wall);
    EXPECT_EQ(bob->counters().datagram_too_large, 1u);
}

TEST(WgHandshakeRateLimiter, ABurstThenTheRatePerSource) {
    HandshakeRateLimiter limiter;
    const Endpoint first = Endpoint::direct({net::IpAddress::v4(203, 0, 113, 1), 1000});
    const Endpoint same_address = Endpoint::direct({net::IpAddress::v4(203, 0, 113, 1), 2000});
    const Endpoint second = Endpoint::direct({net::IpAddress::v4(203, 0, 113, 2), 1000});
    std::uint32_t now_ms = 5'000;
    for (std::uint32_t i = 0; i < HandshakeRateLimiter::burst; ++i) EXPECT_TRUE(limiter.allow(first, now_ms));
    EXPECT_FALSE(limiter.allow(same_address, now_ms));  // the port does not make a new source
    EXPECT_TRUE(limiter.allow(second, now_ms));
    now_ms += 1'000 / HandshakeRateLimiter::per_second;
    EXPECT_TRUE(limiter.allow(first, now_ms));
    EXPECT_FALSE(limiter.allow(first, now_ms));
}

TEST(WgHandshakeRateLimiter, IPv6SourcesShareABucketPerSlash64) {
    HandshakeRateLimiter limiter;
    net::IpAddress a{net::Family::v6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1}};
    net::IpAddress b = a;
    b.bytes[15] = 0x99;  // same /64
    for (std::uint32_t i = 0; i < HandshakeRateLimiter::burst; ++i) {
        EXPECT_TRUE(limiter.allow(Endpoint::direct({a, 1}), 0));
    }
    EXPECT_FALSE(limiter.allow(Endpoint::direct({b, 1}), 0));
}

TEST(WgHandshakeRateLimiter, AFullTableRefusesNewSourcesUntilBucketsGoIdle) {
    HandshakeRateLimiter limiter;
    const auto source = [](std::size_t i) {
        return Endpoint::direct({net::IpAddress::v4(10, static_cast<std::uint8_t>(i >> 8),
                                                    static_cast<std::uint8_t>(i), 1), 1});
    };
    for (std::size_t i = 0; i < HandshakeRateLimiter::capacity; ++i) EXPECT_TRUE(limiter.allow(source(i), 0));
    const Endpoint newcomer = source(HandshakeRateLimiter::capacity);
    EXPECT_FALSE(limiter.allow(newcomer, 500));
    EXPECT_TRUE(limiter.allow(newcomer, HandshakeRateLimiter::idle_ms));
}

}  // namespace
}  // namespace pinhole::wireguard
