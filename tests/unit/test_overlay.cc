// The overlay stack's glue without a network: the routing hooks pick the peer, one stack per
// process, and hand-made IPv6 packets from a peer reach lwIP's ICMPv6 echo and the echo service.
#include "core/overlay/overlay_stack.h"

#include <lwip/init.h>
#include <lwip/ip_addr.h>
#include <lwip/udp.h>

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

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

// The Internet checksum over the IPv6 pseudo-header and the upper-layer bytes.
std::uint16_t ipv6_checksum(const std::vector<std::uint8_t>& packet) {
    std::uint32_t sum = 0;
    const auto add_words = [&sum](const std::uint8_t* bytes, std::size_t length) {
        for (std::size_t i = 0; i < length; i += 2) {
            sum += static_cast<std::uint32_t>(bytes[i] << 8) | (i + 1 < length ? bytes[i + 1] : 0);
        }
    };
    const std::size_t upper_length = packet.size() - 40;
    add_words(&packet[8], 32);  // source and destination
    sum += static_cast<std::uint32_t>(upper_length) + packet[6];
    add_words(&packet[40], upper_length);
    for (int i = 0; i < 4; i++) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> ipv6_packet(const net::IpAddress& source, const net::IpAddress& destination,
                                      std::uint8_t next_header, const std::vector<std::uint8_t>& upper,
                                      std::size_t checksum_offset) {
    std::vector<std::uint8_t> packet(40, 0);
    packet[0] = 0x60;
    packet[4] = static_cast<std::uint8_t>(upper.size() >> 8);
    packet[5] = static_cast<std::uint8_t>(upper.size());
    packet[6] = next_header;
    packet[7] = 64;
    std::copy(source.bytes.begin(), source.bytes.end(), packet.begin() + 8);
    std::copy(destination.bytes.begin(), destination.bytes.end(), packet.begin() + 24);
    packet.insert(packet.end(), upper.begin(), upper.end());
    const std::uint16_t checksum = ipv6_checksum(packet);
    packet[40 + checksum_offset] = static_cast<std::uint8_t>(checksum >> 8);
    packet[40 + checksum_offset + 1] = static_cast<std::uint8_t>(checksum);
    return packet;
}

void put_be32(std::vector<std::uint8_t>& bytes, std::size_t offset, std::uint32_t value) {
    for (int i = 0; i < 4; i++) bytes[offset + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

std::uint32_t be32(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(bytes[offset] << 24 | bytes[offset + 1] << 16 | bytes[offset + 2] << 8 |
                                      bytes[offset + 3]);
}

constexpr std::uint8_t tcp_syn = 0x02, tcp_psh_ack = 0x18, tcp_ack = 0x10;

std::vector<std::uint8_t> tcp_segment(std::uint16_t destination_port, std::uint32_t sequence,
                                      std::uint32_t acknowledgement, std::uint8_t flags,
                                      const std::string& payload) {
    std::vector<std::uint8_t> segment(20, 0);
    segment[0] = 0xC3;  // source port 50000
    segment[1] = 0x50;
    segment[2] = static_cast<std::uint8_t>(destination_port >> 8);
    segment[3] = static_cast<std::uint8_t>(destination_port);
    put_be32(segment, 4, sequence);
    put_be32(segment, 8, acknowledgement);
    segment[12] = 5 << 4;  // header length: 5 words
    segment[13] = flags;
    segment[14] = 0xFF;  // window 65535
    segment[15] = 0xFF;
    segment.insert(segment.end(), payload.begin(), payload.end());
    return segment;
}

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
