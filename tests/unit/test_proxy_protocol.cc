#include "core/proxy/proxy_protocol.h"

#include <gtest/gtest.h>

#include <vector>

namespace pinhole::proxy {
namespace {

net::Endpoint endpoint(std::string_view text) {
    const auto parsed = net::parse_endpoint(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : net::Endpoint{};
}

std::vector<std::uint8_t> encode(std::string_view source, std::string_view destination) {
    std::array<std::uint8_t, proxy_v2_max_bytes> out{};
    const Result<std::size_t> length = encode_proxy_v2(endpoint(source), endpoint(destination), out);
    EXPECT_TRUE(length.ok());
    return length.ok() ? std::vector<std::uint8_t>(out.begin(), out.begin() + length.value()) : std::vector<std::uint8_t>{};
}

// The examples follow proxy-protocol.txt §2.2 byte by byte.
TEST(ProxyProtocolV2, Ipv4) {
    const std::vector<std::uint8_t> expected = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,  // signature
        0x21, 0x11, 0x00, 0x0C,                                                  // v2 PROXY, TCP4, 12
        192, 0, 2, 21, 192, 0, 2, 22,                                            // addresses
        0xC3, 0x50, 0x1F, 0x90};                                                 // 50000, 8080
    EXPECT_EQ(encode("192.0.2.21:50000", "192.0.2.22:8080"), expected);
}

TEST(ProxyProtocolV2, Ipv6) {
    const std::vector<std::uint8_t> header = encode("[fd7a::1]:443", "[fd7a::2]:22");
    ASSERT_EQ(header.size(), proxy_v2_ipv6_bytes);
    EXPECT_EQ(header[13], 0x21);  // TCP over IPv6
    EXPECT_EQ(header[14], 0x00);
    EXPECT_EQ(header[15], 36);
    EXPECT_EQ(header[16], 0xFD);
    EXPECT_EQ(header[31], 0x01);
    EXPECT_EQ(header[47], 0x02);
    EXPECT_EQ(header[48], 0x01);  // 443
    EXPECT_EQ(header[49], 0xBB);
    EXPECT_EQ(header[50], 0x00);  // 22
    EXPECT_EQ(header[51], 0x16);
}

TEST(ProxyProtocolV2, RefusesMixedFamiliesAndShortBuffers) {
    std::array<std::uint8_t, proxy_v2_max_bytes> out{};
    EXPECT_EQ(encode_proxy_v2(endpoint("192.0.2.1:1"), endpoint("[::1]:2"), out).error(), Errc::invalid_argument);
    EXPECT_EQ(encode_proxy_v2(net::Endpoint{}, net::Endpoint{}, out).error(), Errc::invalid_argument);
    std::array<std::uint8_t, proxy_v2_ipv4_bytes - 1> short_out{};
    EXPECT_EQ(encode_proxy_v2(endpoint("192.0.2.1:1"), endpoint("192.0.2.2:2"), short_out).error(), Errc::no_space);
}

}  // namespace
}  // namespace pinhole::proxy
