// Pure ACKs merged within a loop turn (core/overlay/ack_coalescer.h): advancing ACKs of a flow
// merge, duplicates never do, order with the flow's other packets is kept, nothing is lost.
#include <gtest/gtest.h>

#include <vector>

#include "core/overlay/ack_coalescer.h"
#include "core/overlay/overlay_stack.h"
#include "packets.h"

namespace pinhole::overlay {
namespace {

using namespace pinhole::packets;

struct SentLog final : OverlayOutput {
    void send_packet(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept override {
        sent.emplace_back(peer, std::vector<std::uint8_t>(ip_packet.begin(), ip_packet.end()));
    }
    std::vector<std::pair<PeerId, std::vector<std::uint8_t>>> sent;
};

net::IpAddress v6(std::uint8_t last) {
    net::IpAddress address{net::Family::v6, {}};
    address.bytes[0] = 0xfd;
    address.bytes[15] = last;
    return address;
}

std::vector<std::uint8_t> segment(std::uint32_t ack, std::uint8_t flags = tcp_ack, const std::string& payload = "",
                                  std::uint16_t source_port = 50000) {
    return ipv6_packet(v6(1), v6(2), 6, tcp_segment(80, 1000, ack, flags, payload, source_port),
                       tcp_checksum_offset);
}

std::uint32_t ack_of(const std::vector<std::uint8_t>& packet) { return parse_tcp(packet).acknowledgement; }

class AckCoalescing : public ::testing::Test {
protected:
    bool offer(const std::vector<std::uint8_t>& packet, PeerId peer = 1) { return acks.offer(peer, packet, log); }
    AckCoalescer acks;
    SentLog log;
};

TEST_F(AckCoalescing, AdvancingAcksOfAFlowLeaveAsTheLastOne) {
    for (std::uint32_t ack = 1000; ack <= 1000 + 20 * 1360; ack += 1360) EXPECT_TRUE(offer(segment(ack)));
    EXPECT_TRUE(log.sent.empty());
    acks.flush(log);
    ASSERT_EQ(log.sent.size(), 1u);
    EXPECT_EQ(ack_of(log.sent[0].second), 1000u + 20 * 1360);
    EXPECT_EQ(log.sent[0].second, segment(1000 + 20 * 1360));  // the bytes lwIP made, unchanged
    EXPECT_EQ(acks.counters().merged, 20u);
    acks.flush(log);
    EXPECT_EQ(log.sent.size(), 1u);  // nothing held twice
}

TEST_F(AckCoalescing, DuplicateAcksAllLeaveForFastRetransmit) {
    for (int i = 0; i < 4; i++) EXPECT_TRUE(offer(segment(5000)));
    acks.flush(log);
    ASSERT_EQ(log.sent.size(), 4u);
    for (const auto& [peer, packet] : log.sent) EXPECT_EQ(ack_of(packet), 5000u);
    EXPECT_EQ(acks.counters().merged, 0u);
}

TEST_F(AckCoalescing, TheFlowsOtherPacketsGoAfterItsHeldAck) {
    EXPECT_TRUE(offer(segment(7000)));
    for (const std::uint8_t flags : {tcp_psh_ack, tcp_fin, tcp_rst, tcp_syn}) {
        const std::vector<std::uint8_t> other = segment(7100, flags, flags == tcp_psh_ack ? "data" : "");
        EXPECT_FALSE(offer(other));  // the caller sends it now...
        ASSERT_FALSE(log.sent.empty());
        EXPECT_EQ(ack_of(log.sent.back().second), 7000u);  // ...after the held ACK
        log.sent.clear();
        EXPECT_TRUE(offer(segment(7000)));
    }
}

TEST_F(AckCoalescing, AnAckFarAheadLeavesSoTheSendersClockKeepsTicking) {
    const std::uint32_t step = 1360;
    std::uint32_t ack = 0xFFFF0000u;  // across the sequence-space wrap too
    std::size_t offered = 0;
    for (; offered < 200; offered++, ack += step) EXPECT_TRUE(offer(segment(ack)));
    acks.flush(log);
    const std::size_t expected = (200 * step + AckCoalescer::max_merged_advance_bytes - 1) /
                                 AckCoalescer::max_merged_advance_bytes;
    EXPECT_GE(log.sent.size(), expected);
    EXPECT_LE(log.sent.size(), expected + 1);
    for (std::size_t i = 1; i < log.sent.size(); i++) {
        EXPECT_GT(static_cast<std::int32_t>(ack_of(log.sent[i].second) - ack_of(log.sent[i - 1].second)), 0);
    }
    EXPECT_EQ(ack_of(log.sent.back().second), ack - step);
}

TEST_F(AckCoalescing, FlowsAndPeersAreHeldApartAndAFullTableSendsTheOldest) {
    EXPECT_TRUE(offer(segment(100), 1));
    EXPECT_TRUE(offer(segment(100), 2));  // the same addresses from another peer
    for (std::uint16_t port = 1; port < AckCoalescer::max_held_acks; port++) {
        EXPECT_TRUE(offer(segment(100, tcp_ack, "", static_cast<std::uint16_t>(50000 + port))));
    }
    EXPECT_EQ(log.sent.size(), 1u);  // nine flows, eight slots: one had to leave
    acks.flush(log);
    EXPECT_EQ(log.sent.size(), AckCoalescer::max_held_acks + 1);
}

// An IPv4 TCP packet: a 20-byte header (or a fragment of one) around `tcp`.
std::vector<std::uint8_t> ipv4_packet(const std::vector<std::uint8_t>& tcp, bool fragment = false) {
    std::vector<std::uint8_t> packet = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    const auto total = static_cast<std::uint16_t>(packet.size() + tcp.size());
    packet[2] = static_cast<std::uint8_t>(total >> 8);
    packet[3] = static_cast<std::uint8_t>(total);
    if (fragment) packet[6] = 0x20;  // more fragments
    packet.insert(packet.end(), tcp.begin(), tcp.end());
    return packet;
}

TEST_F(AckCoalescing, Ipv4AcksMergeAndFragmentsAreLeftAlone) {
    EXPECT_TRUE(offer(ipv4_packet(tcp_segment(80, 1, 100, tcp_ack, ""))));
    EXPECT_TRUE(offer(ipv4_packet(tcp_segment(80, 1, 200, tcp_ack, ""))));
    EXPECT_FALSE(offer(ipv4_packet(tcp_segment(80, 1, 300, tcp_ack, ""), true)));
    acks.flush(log);
    ASSERT_EQ(log.sent.size(), 1u);
    EXPECT_EQ(log.sent[0].second, ipv4_packet(tcp_segment(80, 1, 200, tcp_ack, "")));
    EXPECT_EQ(acks.counters().merged, 1u);
}

TEST_F(AckCoalescing, AnythingButTcpIsNotHeld) {
    EXPECT_FALSE(offer({}));
    EXPECT_FALSE(offer({0x60, 0, 0}));
    std::vector<std::uint8_t> udp = ipv6_packet(v6(1), v6(2), 17, std::vector<std::uint8_t>(12, 0), 6);
    EXPECT_FALSE(offer(udp));
    std::vector<std::uint8_t> truncated = segment(100);
    truncated.resize(50);
    EXPECT_FALSE(offer(truncated));
    std::vector<std::uint8_t> bad_offset = segment(100);
    bad_offset[40 + 12] = 0x20;  // a TCP header of 8 bytes
    EXPECT_FALSE(offer(bad_offset));
    EXPECT_TRUE(log.sent.empty());
}

}  // namespace
}  // namespace pinhole::overlay
