// The building blocks of the loader: fixed strings, text-level value parsers, suggestions.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "config/fixed_string.h"
#include "config/values.h"
#include "config/walk.h"

namespace pinhole::config {
namespace {

TEST(ConfigFixedString, HoldsUpToItsCapacityAndRefusesMore) {
    FixedString<4> text;
    EXPECT_TRUE(text.empty());
    ASSERT_TRUE(text.assign("abcd").ok());
    EXPECT_EQ(text.view(), "abcd");
    EXPECT_STREQ(text.c_str(), "abcd");
    EXPECT_EQ(text.assign("abcde").error(), Errc::no_space);
    EXPECT_EQ(text.view(), "abcd");  // unchanged
    ASSERT_TRUE(text.assign("ab").ok());
    EXPECT_STREQ(text.c_str(), "ab");  // the old tail is gone
    FixedString<4> other;
    ASSERT_TRUE(other.assign("ab").ok());
    EXPECT_EQ(text, other);
}

TEST(ConfigValues, ParsesPorts) {
    std::uint16_t port = 0;
    EXPECT_FALSE(parse_port("1", port));
    EXPECT_EQ(port, 1);
    EXPECT_FALSE(parse_port("65535", port));
    EXPECT_EQ(port, 65535);
    for (const char* bad : {"0", "65536", "", "-1", "+1", "1 ", "123456", "0x10"}) {
        EXPECT_TRUE(parse_port(bad, port)) << bad;
    }
}

TEST(ConfigValues, ParsesHostNamesInLowercase) {
    HostName name;
    EXPECT_FALSE(parse_host_name("Printer.LAN", name));
    EXPECT_EQ(name.view(), "printer.lan");
    EXPECT_FALSE(parse_host_name("my_nas", name));  // /etc/hosts names may have '_'
    EXPECT_FALSE(parse_host_name("a1-b.example", name));
    EXPECT_FALSE(parse_host_name(std::string(63, 'a') + ".lan", name));
    const std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                std::string(63, 'c') + "." + std::string(61, 'd');
    ASSERT_EQ(longest.size(), 253u);
    EXPECT_FALSE(parse_host_name(longest, name));
}

TEST(ConfigValues, RefusesBadHostNames) {
    HostName name;
    EXPECT_NE(parse_host_name("", name)->find("empty label"), std::string::npos);
    EXPECT_NE(parse_host_name("a..b", name)->find("empty label"), std::string::npos);
    EXPECT_NE(parse_host_name("a.lan.", name)->find("empty label"), std::string::npos);
    EXPECT_NE(parse_host_name("-a.lan", name)->find("starts or ends with '-'"), std::string::npos);
    EXPECT_NE(parse_host_name("a b", name)->find("the character ` `"), std::string::npos);
    EXPECT_NE(parse_host_name(std::string(64, 'a'), name)->find("longer than 63"),
              std::string::npos);
    EXPECT_NE(parse_host_name(std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                  std::string(63, 'c') + "." + std::string(62, 'd'),
                              name)
                  ->find("longer than 253"),
              std::string::npos);
    EXPECT_NE(parse_host_name("10.0.0.300", name)->find("not a valid IPv4 address"),
              std::string::npos);
}

TEST(ConfigValues, ParsesNetworks) {
    net::Prefix network;
    EXPECT_FALSE(parse_network("192.168.1.0/24", network));
    EXPECT_EQ(network, (net::Prefix{net::IpAddress::v4(192, 168, 1, 0), 24}));
    EXPECT_FALSE(parse_network("10.0.0.5", network));
    EXPECT_EQ(network.length, 32);
    EXPECT_FALSE(parse_network("::1", network));
    EXPECT_EQ(network.length, 128);
    EXPECT_FALSE(parse_network("0.0.0.0/0", network));
    EXPECT_EQ(network.length, 0);
    EXPECT_NE(parse_network("10.1.2.3/8", network)->find("write 10.0.0.0/8"), std::string::npos);
    EXPECT_NE(parse_network("fd00::1/64", network)->find("write fd00::/64"), std::string::npos);
    EXPECT_NE(parse_network("10.0.0.0/33", network)->find("bad prefix length"), std::string::npos);
    EXPECT_NE(parse_network("printer/24", network)->find("is not an IP network"),
              std::string::npos);
}

TEST(ConfigValues, ParsesPortLists) {
    FixedVector<PortRange, max_port_ranges_per_rule> ports;
    EXPECT_FALSE(parse_port_list("80,443,1000-2000", ports));
    ASSERT_EQ(ports.size(), 3u);
    EXPECT_EQ(ports[2].first, 1000);
    EXPECT_EQ(ports[2].last, 2000);
    EXPECT_FALSE(parse_port_list("*", ports));
    ASSERT_EQ(ports.size(), 1u);  // the earlier ports are gone
    EXPECT_EQ(ports[0].first, 1);
    EXPECT_EQ(ports[0].last, 65535);
    EXPECT_FALSE(parse_port_list("22-22", ports));
    EXPECT_TRUE(parse_port_list("", ports));
    EXPECT_TRUE(parse_port_list("80,", ports));
    EXPECT_TRUE(parse_port_list("1-", ports));
    EXPECT_TRUE(parse_port_list("*,80", ports));
    EXPECT_NE(parse_port_list("9-1", ports)->find("backwards"), std::string::npos);
}

TEST(ConfigValues, SuggestsTheClosestKey) {
    constexpr std::array<std::string_view, 4> keys{"listen_port", "mtu", "peers",
                                                   "persistent_keepalive"};
    EXPECT_EQ(closest_match("listn_port", keys), "listen_port");
    EXPECT_EQ(closest_match("listen-port", keys), "listen_port");
    EXPECT_EQ(closest_match("MTU", keys), "mtu");
    EXPECT_EQ(closest_match("mut", keys), "mtu");  // a transposition is one step
    EXPECT_EQ(closest_match("peer", keys), "peers");
    EXPECT_EQ(closest_match("keepalive", keys), "persistent_keepalive");
    EXPECT_EQ(closest_match("colour", keys), "");
    EXPECT_EQ(closest_match("", keys), "");
    EXPECT_EQ(closest_match(std::string(100, 'x'), keys), "");
}

TEST(ConfigValues, QuotesShortTextWholeAndLongTextCut) {
    EXPECT_EQ(quote_value("ssh"), "`ssh`");
    const std::string cut = quote_value(std::string(1000, 'x'));
    EXPECT_EQ(cut.size(), 62u);
    EXPECT_TRUE(cut.ends_with("...`"));
}

TEST(ConfigValues, FindsTheDirectoryOfAConfigFile) {
    EXPECT_EQ(directory_of("/etc/pinhole/node.yaml"), "/etc/pinhole");
    EXPECT_EQ(directory_of("/node.yaml"), "/");
    const std::string relative = directory_of("conf/node.yaml");
    EXPECT_TRUE(relative.starts_with("/")) << relative;
    EXPECT_TRUE(relative.ends_with("/conf")) << relative;
}

}  // namespace
}  // namespace pinhole::config
