// The overlay stack's glue without a network: the routing hooks pick the peer, one stack per
// process, and hand-made IPv6 packets from a peer reach lwIP's ICMPv6 echo and the echo service.
#include "core/overlay/overlay_stack.h"

#include <lwip/init.h>
#include <lwip/ip_addr.h>
#include <lwip/udp.h>

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"
#include "tests/unit/packets.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/keys/keys.h"

namespace pinhole::overlay {
namespace {

struct SentPacket {
    PeerId peer;
    std::vector<std::uint8_t> bytes;
};

class CapturingOutput final : public OverlayOutput {
public:
    void send_packet(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept override {
        sent.push_back({peer, {ip_packet.begin(), ip_packet.end()}});
    }
    std::vector<SentPacket> sent;
};

crypto::X25519Key public_key_of(std::uint8_t seed) {
    crypto::X25519Key private_key{};
    private_key.fill(seed);
    const Result<keys::KeyPair> pair = keys::key_pair_from_private(private_key);
    EXPECT_TRUE(pair.ok());
    return pair.value().public_key;
}

net::Prefix prefix(const char* text) {
    const Result<net::Prefix> parsed = net::parse_prefix(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.value();
}

net::IpAddress address(const char* text) {
    const Result<net::IpAddress> parsed = net::parse_address(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.value();
}

using namespace packets;

class OverlayTest : public ::testing::Test {
protected:
    void SetUp() override { fakes::initialise_lwip_once(); }

    const crypto::X25519Key node_key = public_key_of(1);
    const crypto::X25519Key peer_a_key = public_key_of(2);
    const crypto::X25519Key peer_b_key = public_key_of(3);
    CapturingOutput output;
};

TEST_F(OverlayTest, RoutesTheLongestPrefixAndTheKeyDerivedAddress) {
    OverlayStack stack(output, node_key);
    ASSERT_TRUE(stack.add_address(address("10.0.0.1")).ok());
    const net::Prefix a_routes[] = {prefix("10.0.0.0/24"), prefix("fd00:1::/64")};
    const net::Prefix b_routes[] = {prefix("10.0.0.128/25")};
    ASSERT_TRUE(stack.add_peer(7, 1420, peer_a_key, a_routes).ok());
    ASSERT_TRUE(stack.add_peer(9, 1420, peer_b_key, b_routes).ok());

    EXPECT_EQ(stack.route(address("10.0.0.5")), PeerId{7});
    EXPECT_EQ(stack.route(address("10.0.0.200")), PeerId{9});
    EXPECT_EQ(stack.route(address("fd00:1::42")), PeerId{7});
    EXPECT_EQ(stack.route(keys::overlay_address(peer_b_key)), PeerId{9});
    EXPECT_EQ(stack.route(keys::overlay_address(peer_a_key)), PeerId{7});
    EXPECT_EQ(stack.route(address("192.0.2.1")), std::nullopt);
    EXPECT_EQ(stack.add_peer(7, 1420, peer_b_key, {}).error(), Errc::already_exists);
}

TEST_F(OverlayTest, LwipSendsThroughTheNetifOfThePeerThatRoutesTheDestination) {
    OverlayStack stack(output, node_key);
    ASSERT_TRUE(stack.add_address(address("10.0.0.1")).ok());
    const net::Prefix a_routes[] = {prefix("10.0.0.0/24")};
    const net::Prefix b_routes[] = {prefix("10.0.0.128/25")};
    ASSERT_TRUE(stack.add_peer(7, 1420, peer_a_key, a_routes).ok());
    ASSERT_TRUE(stack.add_peer(9, 1420, peer_b_key, b_routes).ok());
    udp_pcb* pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    ASSERT_NE(pcb, nullptr);
    const auto send_to = [pcb](const char* text) {
        ip_addr_t destination{};
        EXPECT_EQ(ipaddr_aton(text, &destination), 1);
        pbuf* payload = pbuf_alloc(PBUF_TRANSPORT, 4, PBUF_RAM);
        const err_t sent = udp_sendto(pcb, payload, &destination, 9999);
        pbuf_free(payload);
        return sent;
    };
    EXPECT_EQ(send_to("10.0.0.200"), ERR_OK);
    EXPECT_EQ(send_to("10.0.0.5"), ERR_OK);
    std::array<char, net::address_text_bytes> b_text{};
    ASSERT_TRUE(net::format_address(keys::overlay_address(peer_b_key), b_text).ok());
    EXPECT_EQ(send_to(b_text.data()), ERR_OK);
    EXPECT_NE(send_to("192.0.2.1"), ERR_OK);  // no peer routes it
    udp_remove(pcb);

    ASSERT_EQ(output.sent.size(), 3u);
    EXPECT_EQ(output.sent[0].peer, 9);
    EXPECT_EQ(output.sent[1].peer, 7);
    EXPECT_EQ(output.sent[2].peer, 9);
    EXPECT_EQ(output.sent[2].bytes[0] >> 4, 6);
}

TEST_F(OverlayTest, AnswersIcmpv6EchoOnTheKeyDerivedAddress) {
    OverlayStack stack(output, node_key);
    ASSERT_TRUE(stack.add_peer(4, 1420, peer_a_key, {}).ok());
    const std::vector<std::uint8_t> echo_request = {128, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
    stack.deliver(4, ipv6_packet(keys::overlay_address(peer_a_key), stack.overlay_address(), 58,
                                 echo_request, 2));
    ASSERT_EQ(output.sent.size(), 1u);
    const std::vector<std::uint8_t>& reply = output.sent[0].bytes;
    EXPECT_EQ(output.sent[0].peer, 4);
    ASSERT_EQ(reply.size(), 40u + echo_request.size());
    EXPECT_EQ(reply[6], 58);
    EXPECT_EQ(reply[40], 129);  // echo reply
    EXPECT_EQ(std::memcmp(&reply[24], keys::overlay_address(peer_a_key).bytes.data(), 16), 0);
    EXPECT_EQ(stack.counters().packets_delivered, 1u);
}

TEST_F(OverlayTest, TcpFromAPeerReachesTheEchoService) {
    OverlayStack stack(output, node_key);
    ASSERT_TRUE(stack.add_peer(4, 1420, peer_a_key, {}).ok());
    const net::IpAddress peer_address = keys::overlay_address(peer_a_key);
    const auto send = [&](std::uint32_t sequence, std::uint32_t acknowledgement, std::uint8_t flags,
                          const std::string& payload) {
        stack.deliver(4, ipv6_packet(peer_address, stack.overlay_address(), 6,
                                     tcp_segment(echo_port, sequence, acknowledgement, flags, payload), 16));
    };
    send(1000, 0, tcp_syn, "");
    ASSERT_EQ(output.sent.size(), 1u);
    const std::vector<std::uint8_t> syn_ack = output.sent[0].bytes;
    ASSERT_GE(syn_ack.size(), 60u);
    EXPECT_EQ(syn_ack[40 + 13], 0x12);  // SYN | ACK
    EXPECT_EQ(be32(syn_ack, 40 + 8), 1001u);
    const std::uint32_t server_sequence = be32(syn_ack, 40 + 4);

    send(1001, server_sequence + 1, tcp_ack, "");
    send(1001, server_sequence + 1, tcp_psh_ack, "hello");
    const auto echoed = std::find_if(output.sent.begin(), output.sent.end(), [](const SentPacket& sent) {
        const std::size_t header_bytes = 40 + static_cast<std::size_t>(sent.bytes[40 + 12] >> 4) * 4;
        return sent.bytes.size() == header_bytes + 5 &&
               std::memcmp(&sent.bytes[header_bytes], "hello", 5) == 0;
    });
    ASSERT_NE(echoed, output.sent.end());
    EXPECT_EQ(echoed->peer, 4);
    EXPECT_EQ(stack.counters().echo_bytes, 5u);
    EXPECT_EQ(stack.open_connections(), 1u);
}

TEST_F(OverlayTest, DropsPacketsForUnknownPeersAndAboveTheMtu) {
    OverlayStack stack(output, node_key);
    ASSERT_TRUE(stack.add_peer(4, 1280, peer_a_key, {}).ok());
    stack.deliver(5, std::vector<std::uint8_t>(60, 0));
    stack.deliver(4, std::vector<std::uint8_t>(1281, 0));
    EXPECT_EQ(stack.counters().unknown_peer, 1u);
    EXPECT_EQ(stack.counters().packet_too_large, 1u);
    EXPECT_EQ(stack.add_peer(5, 1279, peer_b_key, {}).error(), Errc::invalid_argument);
}

using OverlayDeathTest = OverlayTest;

TEST_F(OverlayDeathTest, TwoStacksCannotCoexist) {
    OverlayStack first(output, node_key);
    EXPECT_DEATH({ OverlayStack second(output, peer_a_key); }, "assertion failed");
}

}  // namespace
}  // namespace pinhole::overlay
