// Hand-made IPv6 packets for unit tests that play an overlay peer (test_overlay.cc,
// test_streams.cc): building them with valid checksums, and reading back what lwIP sent.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/net/address.h"

namespace pinhole::packets {

// The Internet checksum over the IPv6 pseudo-header and the upper-layer bytes.
inline std::uint16_t ipv6_checksum(const std::vector<std::uint8_t>& packet) {
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

inline std::vector<std::uint8_t> ipv6_packet(const net::IpAddress& source, const net::IpAddress& destination,
                                             std::uint8_t next_header, const std::vector<std::uint8_t>& upper,
                                             std::size_t checksum_offset) {
    std::vector<std::uint8_t> packet(40, 0);
    packet[0] = 0x60;
    packet[4] = static_cast<std::uint8_t>(upper.size() >> 8);
    packet[5] = static_cast<std::uint8_t>(upper.size());
    packet[6] = next_header;
    packet[7] = 64;
    std::copy(source.bytes.begin(), source.bytes.begin() + 16, packet.begin() + 8);
    std::copy(destination.bytes.begin(), destination.bytes.begin() + 16, packet.begin() + 24);
    packet.insert(packet.end(), upper.begin(), upper.end());
    const std::uint16_t checksum = ipv6_checksum(packet);
    packet[40 + checksum_offset] = static_cast<std::uint8_t>(checksum >> 8);
    packet[40 + checksum_offset + 1] = static_cast<std::uint8_t>(checksum);
    return packet;
}

inline void put_be32(std::vector<std::uint8_t>& bytes, std::size_t offset, std::uint32_t value) {
    for (int i = 0; i < 4; i++) {
        bytes[offset + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
    }
}

inline std::uint16_t be16(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
    return static_cast<std::uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

inline std::uint32_t be32(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
    return static_cast<std::uint32_t>(bytes[offset] << 24 | bytes[offset + 1] << 16 | bytes[offset + 2] << 8 |
                                      bytes[offset + 3]);
}

constexpr std::uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_psh = 0x08, tcp_ack = 0x10;
constexpr std::uint8_t tcp_psh_ack = tcp_psh | tcp_ack;
constexpr std::size_t tcp_checksum_offset = 16;

// A TCP header without options (window 65535, unscaled) and its payload; the checksum is left
// for ipv6_packet to fill in.
inline std::vector<std::uint8_t> tcp_segment(std::uint16_t destination_port, std::uint32_t sequence,
                                             std::uint32_t acknowledgement, std::uint8_t flags,
                                             const std::string& payload, std::uint16_t source_port = 50000) {
    std::vector<std::uint8_t> segment(20, 0);
    segment[0] = static_cast<std::uint8_t>(source_port >> 8);
    segment[1] = static_cast<std::uint8_t>(source_port);
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

// The TCP fields of an IPv6 packet (TCP right after the fixed header, as lwIP sends it).
struct TcpView {
    net::IpAddress source;
    net::IpAddress destination;
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint32_t sequence = 0;
    std::uint32_t acknowledgement = 0;
    std::uint8_t flags = 0;
    std::string payload;
};

inline bool is_ipv6_tcp(const std::vector<std::uint8_t>& packet) {
    return packet.size() >= 60 && (packet[0] >> 4) == 6 && packet[6] == 6;
}

// Only for packets is_ipv6_tcp accepts.
inline TcpView parse_tcp(const std::vector<std::uint8_t>& packet) {
    TcpView view;
    view.source = net::IpAddress{net::Family::v6, {}};
    view.destination = net::IpAddress{net::Family::v6, {}};
    std::copy(packet.begin() + 8, packet.begin() + 24, view.source.bytes.begin());
    std::copy(packet.begin() + 24, packet.begin() + 40, view.destination.bytes.begin());
    view.source_port = be16(packet, 40);
    view.destination_port = be16(packet, 42);
    view.sequence = be32(packet, 44);
    view.acknowledgement = be32(packet, 48);
    view.flags = packet[40 + 13];
    const std::size_t header_bytes = 40 + static_cast<std::size_t>(packet[40 + 12] >> 4) * 4;
    view.payload.assign(packet.begin() + static_cast<std::ptrdiff_t>(header_bytes), packet.end());
    return view;
}

}  // namespace pinhole::packets
