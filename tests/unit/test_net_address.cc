#include "core/net/address.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace pinhole::net {
namespace {

std::string format(const IpAddress& address) {
    std::array<char, address_text_bytes> out{};
    const auto length = format_address(address, out);
    if (!length.ok()) return std::string("error: ") + describe(length.error());
    EXPECT_EQ(out[length.value()], '\0');
    return std::string(out.data(), length.value());
}

std::string format(const Endpoint& endpoint) {
    std::array<char, endpoint_text_bytes> out{};
    const auto length = format_endpoint(endpoint, out);
    if (!length.ok()) return std::string("error: ") + describe(length.error());
    return std::string(out.data(), length.value());
}

IpAddress address(std::string_view text) {
    const auto parsed = parse_address(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : IpAddress{};
}

// Parses and formats again: the RFC 5952 canonical form.
std::string canonical(std::string_view text) { return format(address(text)); }

bool malformed(std::string_view text) {
    const auto parsed = parse_address(text);
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

bool malformed_endpoint(std::string_view text) {
    const auto parsed = parse_endpoint(text);
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

TEST(Address, ParsesIpv4) {
    EXPECT_EQ(address("192.0.2.1"), IpAddress::v4(192, 0, 2, 1));
    EXPECT_EQ(address("0.0.0.0"), IpAddress::v4(0, 0, 0, 0));
    EXPECT_EQ(address("255.255.255.255"), IpAddress::v4(255, 255, 255, 255));
    EXPECT_EQ(address("10.0.100.9").bytes[2], 100);
}

TEST(Address, RefusesIpv4ThatIsNotAStrictDottedQuad) {
    for (const std::string_view text :
         {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "01.2.3.4", "1.2.3.00",
          "1.2.3.010", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4",
          "0x1.2.3.4", "1.2.3.4/8", "1000.2.3.4", "1.2.3.4\n", "a.b.c.d"}) {
        EXPECT_TRUE(malformed(text)) << '"' << text << '"';
    }
}

TEST(Address, ParsesIpv6Forms) {
    const IpAddress documentation = address("2001:db8::1");
    EXPECT_TRUE(documentation.is_v6());
    EXPECT_EQ(documentation.bytes[0], 0x20);
    EXPECT_EQ(documentation.bytes[1], 0x01);
    EXPECT_EQ(documentation.bytes[2], 0x0d);
    EXPECT_EQ(documentation.bytes[3], 0xb8);
    EXPECT_EQ(documentation.bytes[15], 0x01);
    EXPECT_EQ(address("2001:0DB8:0000:0000:0000:0000:0000:0001"), documentation);
    EXPECT_EQ(address("2001:db8:0:0:0:0:0:1"), documentation);
    EXPECT_EQ(address("::"), IpAddress::v6(std::array<std::uint8_t, 16>{}));
    EXPECT_EQ(address("::1").bytes[15], 1);
    EXPECT_EQ(address("1::").bytes[1], 1);
    EXPECT_EQ(address("1:2:3:4:5:6:7::").bytes[13], 7);   // "::" for a single group
    EXPECT_EQ(address("::2:3:4:5:6:7:8").bytes[15], 8);
}

TEST(Address, ParsesAnEmbeddedIpv4Tail) {
    const IpAddress mapped = address("::ffff:192.0.2.1");
    EXPECT_EQ(mapped.bytes[10], 0xff);
    EXPECT_EQ(mapped.bytes[11], 0xff);
    EXPECT_EQ(mapped.bytes[12], 192);
    EXPECT_EQ(mapped.bytes[15], 1);
    EXPECT_EQ(address("::ffff:c000:201"), mapped);
    EXPECT_EQ(address("1:2:3:4:5:6:1.2.3.4").bytes[12], 1);
    EXPECT_EQ(address("::1.2.3.4").bytes[15], 4);
}

TEST(Address, RefusesMalformedIpv6) {
    for (const std::string_view text :
         {":", ":::", "::::", "1:::2", "1::2::3", "::1::", ":1::2", "1::2:", "1:2:3:4:5:6:7",
          "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::",
          "g::1", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::1.2.3.4:5", "::256.1.1.1",
          "::01.2.3.4", "1.2.3.4::", "fe80::1%eth0", "[::1]", "::1 ", "2001:db8::/32",
          "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8"}) {
        EXPECT_TRUE(malformed(text)) << '"' << text << '"';
    }
}

TEST(Address, RefusesTextLongerThanAnyAddress) {
    const std::string longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
    EXPECT_EQ(longest.size(), address_text_bytes - 1);
    EXPECT_TRUE(parse_address(longest).ok());
    EXPECT_TRUE(malformed("0" + longest));
    EXPECT_TRUE(malformed(std::string(1000, '1')));
}

TEST(Address, FormatsIpv6CanonicallyPerRfc5952) {
    EXPECT_EQ(canonical("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
    EXPECT_EQ(canonical("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");  // first of a tie
    EXPECT_EQ(canonical("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");        // longest run
    EXPECT_EQ(canonical("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // one zero: no "::"
    EXPECT_EQ(canonical("2001:0db8:00aa:0000:0000:0000:0000:0a00"), "2001:db8:aa::a00");
    EXPECT_EQ(canonical("0:0:0:0:0:0:0:0"), "::");
    EXPECT_EQ(canonical("0:0:0:0:0:0:0:1"), "::1");
    EXPECT_EQ(canonical("1:0:0:0:0:0:0:0"), "1::");
    EXPECT_EQ(canonical("fe80::a:0:0"), "fe80::a:0:0");
    EXPECT_EQ(canonical("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
    EXPECT_EQ(canonical("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(canonical("::ffff:c000:0201"), "::ffff:192.0.2.1");  // IPv4-mapped, §5
    EXPECT_EQ(canonical("::1.2.3.4"), "::102:304");
}

TEST(Address, RoundTripsThroughText) {
    for (const std::string_view text :
         {"192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "::1", "1::",
          "fe80::1:2", "2001:db8:85a3::8a2e:370:7334", "::ffff:10.0.0.1", "1:0:2::3:0:0"}) {
        EXPECT_EQ(canonical(text), text);
    }
}

TEST(Address, FormatReportsNoSpaceAndRefusesFamilyNone) {
    std::array<char, 9> small{};
    EXPECT_EQ(format_address(IpAddress::v4(192, 0, 2, 1), small).error(), Errc::no_space);
    std::array<char, 10> exact{};
    EXPECT_EQ(format_address(IpAddress::v4(192, 0, 2, 1), exact).value(), 9u);
    EXPECT_EQ(format_address(IpAddress{}, exact).error(), Errc::invalid_argument);
    EXPECT_EQ(format_endpoint(Endpoint{}, exact).error(), Errc::invalid_argument);
}

TEST(Endpoint, ParsesAndFormats) {
    const auto v4 = parse_endpoint("192.0.2.1:51820");
    ASSERT_TRUE(v4.ok());
    EXPECT_EQ(v4.value().address, IpAddress::v4(192, 0, 2, 1));
    EXPECT_EQ(v4.value().port, 51820);
    EXPECT_EQ(format(v4.value()), "192.0.2.1:51820");

    const auto v6 = parse_endpoint("[2001:db8::1]:51820");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6.value().address, address("2001:db8::1"));
    EXPECT_EQ(v6.value().port, 51820);
    EXPECT_EQ(format(v6.value()), "[2001:db8::1]:51820");

    EXPECT_EQ(parse_endpoint("0.0.0.0:0").value().port, 0);
    EXPECT_EQ(parse_endpoint("[::]:65535").value().port, 65535);
    EXPECT_EQ(parse_endpoint("1.2.3.4:080").value().port, 80);
    EXPECT_EQ(format(Endpoint{address("::ffff:1.2.3.4"), 7}), "[::ffff:1.2.3.4]:7");
}

TEST(Endpoint, LongestTextFits) {
    const Endpoint endpoint{address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65535};
    std::array<char, endpoint_text_bytes> out{};
    const auto length = format_endpoint(endpoint, out);
    ASSERT_TRUE(length.ok());
    EXPECT_TRUE(parse_endpoint(std::string_view(out.data(), length.value())).ok());
    EXPECT_TRUE(
        parse_endpoint("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535").ok());
}

TEST(Endpoint, RefusesMalformedText) {
    for (const std::string_view text :
         {"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:123456",
          "1.2.3.4:-1", "1.2.3.4:+1", "1.2.3.4:80 ", "1.2.3.4::80", ":80", "2001:db8::1:80",
          "::1:80", "[2001:db8::1]", "[2001:db8::1]:", "[2001:db8::1]80", "[2001:db8::1:80",
          "2001:db8::1]:80", "[192.0.2.1]:80", "[]:80", "[[::1]]:80", "[::1]:80]",
          "[fe80::1%eth0]:80", "host.example:80", "1.2.3.4:0x50"}) {
        EXPECT_TRUE(malformed_endpoint(text)) << '"' << text << '"';
    }
}

TEST(Prefix, ParsesAndNormalisesHostBits) {
    const auto eight = parse_prefix("10.0.0.0/8");
    ASSERT_TRUE(eight.ok());
    EXPECT_EQ(eight.value().address, IpAddress::v4(10, 0, 0, 0));
    EXPECT_EQ(eight.value().length, 8);

    const auto host_bits = parse_prefix("10.1.2.3/12");
    ASSERT_TRUE(host_bits.ok());
    EXPECT_EQ(host_bits.value().address, IpAddress::v4(10, 0, 0, 0));

    const auto v6 = parse_prefix("2001:db8:ffff::1/33");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6.value().address, address("2001:db8:8000::"));
    EXPECT_EQ(v6.value().length, 33);

    EXPECT_EQ(parse_prefix("0.0.0.0/0").value().length, 0);
    EXPECT_EQ(parse_prefix("1.2.3.4/0").value().address, IpAddress::v4(0, 0, 0, 0));
    EXPECT_EQ(parse_prefix("1.2.3.4/32").value().address, IpAddress::v4(1, 2, 3, 4));
    EXPECT_EQ(parse_prefix("::1/128").value().address, address("::1"));
}

TEST(Prefix, RefusesMalformedText) {
    for (const std::string_view text :
         {"", "/8", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/-1",
          "10.0.0.0/8/8", "::/129", "::/1000", "10.0.0/8", "10.0.0.0 /8", "2001:db8::/3a"}) {
        const auto parsed = parse_prefix(text);
        EXPECT_FALSE(parsed.ok()) << '"' << text << '"';
        if (!parsed.ok()) {
            EXPECT_EQ(parsed.error(), Errc::malformed);
        }
    }
}

TEST(Prefix, ContainsExactlyItsAddresses) {
    const Prefix ten = parse_prefix("10.0.0.0/8").value();
    EXPECT_TRUE(prefix_contains(ten, IpAddress::v4(10, 255, 1, 2)));
    EXPECT_FALSE(prefix_contains(ten, IpAddress::v4(11, 0, 0, 0)));

    const Prefix odd = parse_prefix("192.168.0.0/23").value();
    EXPECT_TRUE(prefix_contains(odd, IpAddress::v4(192, 168, 1, 255)));
    EXPECT_FALSE(prefix_contains(odd, IpAddress::v4(192, 168, 2, 0)));

    const Prefix all = parse_prefix("0.0.0.0/0").value();
    EXPECT_TRUE(prefix_contains(all, IpAddress::v4(203, 0, 113, 7)));
    EXPECT_FALSE(prefix_contains(all, address("::1")));  // families never mix
    EXPECT_FALSE(prefix_contains(all, IpAddress{}));

    const Prefix documentation = parse_prefix("2001:db8::/32").value();
    EXPECT_TRUE(prefix_contains(documentation, address("2001:db8:1234::5")));
    EXPECT_FALSE(prefix_contains(documentation, address("2001:db9::")));
    const Prefix host = parse_prefix("fd00::7/128").value();
    EXPECT_TRUE(prefix_contains(host, address("fd00::7")));
    EXPECT_FALSE(prefix_contains(host, address("fd00::6")));
    EXPECT_FALSE(prefix_contains(parse_prefix("0.0.0.0/0").value(), address("::ffff:1.2.3.4")));
}

TEST(Address, Classifies) {
    EXPECT_TRUE(is_loopback(address("127.0.0.1")));
    EXPECT_TRUE(is_loopback(address("127.255.0.9")));
    EXPECT_TRUE(is_loopback(address("::1")));
    EXPECT_FALSE(is_loopback(address("::2")));
    EXPECT_FALSE(is_loopback(address("128.0.0.1")));
    EXPECT_FALSE(is_loopback(IpAddress{}));

    EXPECT_TRUE(is_link_local(address("169.254.10.1")));
    EXPECT_FALSE(is_link_local(address("169.253.10.1")));
    EXPECT_TRUE(is_link_local(address("fe80::1")));
    EXPECT_TRUE(is_link_local(address("febf::1")));
    EXPECT_FALSE(is_link_local(address("fec0::1")));
    EXPECT_FALSE(is_link_local(IpAddress{}));

    EXPECT_TRUE(is_unspecified(address("0.0.0.0")));
    EXPECT_TRUE(is_unspecified(address("::")));
    EXPECT_TRUE(is_unspecified(IpAddress{}));
    EXPECT_FALSE(is_unspecified(address("0.0.0.1")));
    EXPECT_FALSE(is_unspecified(address("::1")));
}

TEST(Address, ClassifiesMulticast) {
    EXPECT_TRUE(is_multicast(address("224.0.0.1")));
    EXPECT_TRUE(is_multicast(address("239.255.255.250")));
    EXPECT_FALSE(is_multicast(address("223.255.255.255")));
    EXPECT_FALSE(is_multicast(address("240.0.0.1")));
    EXPECT_TRUE(is_multicast(address("ff02::1")));
    EXPECT_FALSE(is_multicast(address("fe80::1")));
    EXPECT_FALSE(is_multicast(address("::ffff:224.0.0.1")));  // unmap first
    EXPECT_FALSE(is_multicast(IpAddress{}));
}

TEST(Address, UnmapsIpv4MappedAddresses) {
    EXPECT_TRUE(is_v4_mapped(address("::ffff:127.0.0.1")));
    EXPECT_FALSE(is_v4_mapped(address("::127.0.0.1")));  // IPv4-compatible, not mapped
    EXPECT_FALSE(is_v4_mapped(address("::1:ffff:127.0.0.1")));
    EXPECT_FALSE(is_v4_mapped(address("127.0.0.1")));
    EXPECT_FALSE(is_v4_mapped(IpAddress{}));

    EXPECT_EQ(unmapped(address("::ffff:192.0.2.1")), address("192.0.2.1"));
    EXPECT_EQ(unmapped(address("::ffff:0.0.0.0")), address("0.0.0.0"));
    EXPECT_EQ(unmapped(address("2001:db8::1")), address("2001:db8::1"));
    EXPECT_EQ(unmapped(address("192.0.2.1")), address("192.0.2.1"));
    EXPECT_EQ(unmapped(IpAddress{}), IpAddress{});
}

}  // namespace
}  // namespace pinhole::net
