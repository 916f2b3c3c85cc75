// The exit access list (DESIGN §1): every refusal, every kind of rule, IPv4 and IPv6, and the
// addresses a broad CIDR rule must not sweep in (loopback, link-local, the device's own).
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

#include "config/load.h"
#include "core/acl/acl.h"

namespace pinhole::acl {
namespace {

constexpr char laptop_key[] = "JjzwqtYGbiBnHQvIh1TyZmt7sz7v7RbtrC1ZbLVeP9g=";

// Service indexes in the config below.
constexpr std::size_t ssh = 0;
constexpr std::size_t web = 1;
constexpr std::size_t admin = 2;
constexpr std::size_t nas = 3;

net::IpAddress address(const char* text) {
    const Result<net::IpAddress> parsed = net::parse_address(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : net::IpAddress{};
}

net::Endpoint endpoint(const char* text) {
    const Result<net::Endpoint> parsed = net::parse_endpoint(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : net::Endpoint{};
}

// A node with four services and one peer, `laptop`, whose allow: list is `allow` (YAML flow
// list items, or empty for no allow: at all).
config::NodeConfig node_allowing(const std::string& allow) {
    const std::string text =
        "key: {data_dir: /var/lib/pinhole}\n"
        "services:\n"
        "  ssh: 127.0.0.1:22\n"
        "  web: {target: 192.168.1.10:80, port: 8080}\n"
        "  admin: {target: \"[fd00::10]:443\", port: 8443}\n"
        "  nas: nas.lan:445\n"
        "peers:\n"
        "  - name: laptop\n"
        "    public_key: \"" + std::string(laptop_key) + "\"\n" +
        (allow.empty() ? std::string() : "    allow: [" + allow + "]\n");
    const auto result = config::load_node_config_from_text("/etc/pinhole/node.yaml", text);
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
    return result.ok() ? result.value() : config::NodeConfig{};
}

// The node's own addresses: key-derived and configured overlay ones, and its LAN interfaces.
class Acl : public ::testing::Test {
protected:
    Decision decide_for(const std::string& allow, const char* destination) {
        config_ = node_allowing(allow);
        if (config_.peers.empty()) return Decision{};
        return decide(config_, config_.peers[0], own_, endpoint(destination));
    }
    Refusal refusal_for(const std::string& allow, const char* destination) {
        const Decision decision = decide_for(allow, destination);
        EXPECT_EQ(decision.allowed(), decision.refusal == Refusal::none);
        return decision.refusal;
    }

    std::array<net::IpAddress, 2> overlay_{address("fd7a:7069:6e68:1:2:3:4:5"),
                                           address("10.77.0.2")};
    std::array<net::IpAddress, 3> local_{address("192.168.1.5"), address("2001:db8:1::5"),
                                         address("fe80::5")};
    OwnAddresses own_{overlay_, local_};
    config::NodeConfig config_;
};

TEST(AclDescribe, NamesEveryRefusalDistinctlyInPlainWords) {
    std::set<std::string> phrases;
    for (const Refusal reason :
         {Refusal::none, Refusal::no_matching_rule, Refusal::not_a_service_port,
          Refusal::service_not_allowed, Refusal::special_address, Refusal::not_unicast,
          Refusal::domain_rule_unresolved}) {
        const std::string phrase = describe(reason);
        EXPECT_FALSE(phrase.empty());
        EXPECT_EQ(phrase.find('_'), std::string::npos) << phrase;
        phrases.insert(phrase);
    }
    EXPECT_EQ(phrases.size(), 7u);
    EXPECT_STREQ(describe(Refusal::no_matching_rule), "no allow rule covers it");
}

TEST_F(Acl, AnEmptyAllowListReachesNothing) {
    EXPECT_EQ(refusal_for("", "192.168.1.10:80"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("", "[2001:db8::1]:443"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("", "127.0.0.1:22"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("", "10.77.0.2:22"), Refusal::service_not_allowed);
    EXPECT_EQ(refusal_for("", "10.77.0.2:23"), Refusal::not_a_service_port);
}

TEST_F(Acl, OverlayAddressOpensServicesByPort) {
    const std::string allow = "ssh, web, nas";
    Decision decision = decide_for(allow, "10.77.0.2:22");
    ASSERT_TRUE(decision.allowed());
    ASSERT_NE(decision.service, nullptr);
    EXPECT_EQ(decision.service->name.view(), "ssh");
    EXPECT_TRUE(decision.target.host_name.empty());
    EXPECT_EQ(decision.target.endpoint, endpoint("127.0.0.1:22"));

    decision = decide_for(allow, "[fd7a:7069:6e68:1:2:3:4:5]:8080");
    ASSERT_TRUE(decision.allowed());
    ASSERT_NE(decision.service, nullptr);
    EXPECT_EQ(decision.service->name.view(), "web");
    EXPECT_EQ(decision.target.endpoint, endpoint("192.168.1.10:80"));

    // A host-name target is reached through its overlay port; the name goes to the resolver.
    decision = decide_for(allow, "10.77.0.2:445");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.service, &config_.services[nas]);
    EXPECT_EQ(decision.target.host_name.view(), "nas.lan");
    EXPECT_EQ(decision.target.endpoint.port, 445);

    // The overlay port, not the target's: web is 8080 there, admin is not allowed.
    EXPECT_EQ(refusal_for(allow, "10.77.0.2:80"), Refusal::not_a_service_port);
    EXPECT_EQ(refusal_for(allow, "10.77.0.2:8443"), Refusal::service_not_allowed);
    EXPECT_EQ(refusal_for(allow, "[fd7a:7069:6e68:1:2:3:4:5]:8443"), Refusal::service_not_allowed);
    EXPECT_EQ(refusal_for(allow, "[fd7a:7069:6e68:1:2:3:4:5]:9"), Refusal::not_a_service_port);
}

TEST_F(Acl, NetworkRulesNeverOpenTheOverlayAddress) {
    const std::string allow = "\"10.77.0.0/24:*\", \"[::/0]:*\", \"10.77.0.2:23\"";
    EXPECT_EQ(refusal_for(allow, "10.77.0.2:22"), Refusal::service_not_allowed);
    EXPECT_EQ(refusal_for(allow, "10.77.0.2:23"), Refusal::not_a_service_port);
    EXPECT_EQ(refusal_for(allow, "[fd7a:7069:6e68:1:2:3:4:5]:23"), Refusal::not_a_service_port);
    // Another host of the overlay network is just a destination.
    EXPECT_TRUE(decide_for(allow, "10.77.0.3:23").allowed());
}

TEST_F(Acl, RefusesWhatIsNotOneHostAndPort) {
    const std::string allow = "\"0.0.0.0/0:*\", \"[::/0]:*\", ssh";
    for (const char* destination :
         {"0.0.0.0:80", "[::]:80", "224.0.0.1:80", "239.255.255.250:1900", "[ff02::1]:80",
          "[ff05::1:3]:547", "255.255.255.255:67", "192.168.1.10:0", "[2001:db8::1]:0",
          "10.77.0.2:0", "[::ffff:224.0.0.1]:80", "[::ffff:0.0.0.0]:80"}) {
        EXPECT_EQ(refusal_for(allow, destination), Refusal::not_unicast) << destination;
    }
    config_ = node_allowing(allow);
    EXPECT_EQ(decide(config_, config_.peers[0], own_, net::Endpoint{}).refusal,
              Refusal::not_unicast);
    // The edges stay unicast.
    EXPECT_TRUE(decide_for(allow, "223.255.255.255:80").allowed());
    EXPECT_TRUE(decide_for(allow, "240.0.0.1:80").allowed());
    EXPECT_TRUE(decide_for(allow, "[fe00::1]:80").allowed());
}

TEST_F(Acl, AServiceRuleAlsoOpensItsLiteralTarget) {
    Decision decision = decide_for("ssh", "127.0.0.1:22");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.service, &config_.services[ssh]);
    EXPECT_EQ(decision.target.endpoint, endpoint("127.0.0.1:22"));

    decision = decide_for("web", "192.168.1.10:80");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.service, &config_.services[web]);

    decision = decide_for("admin", "[fd00::10]:443");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.service, &config_.services[admin]);
    EXPECT_EQ(decision.target.endpoint, endpoint("[fd00::10]:443"));

    // Only that endpoint, and only with the rule.
    EXPECT_EQ(refusal_for("ssh", "127.0.0.1:23"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("ssh", "127.0.0.2:22"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("web", "192.168.1.10:8080"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("web", "127.0.0.1:22"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for("\"0.0.0.0/0:*\"", "127.0.0.1:22"), Refusal::special_address);
}

TEST_F(Acl, NetworkRulesMatchPrefixAndPortsInIpv4) {
    const std::string allow =
        "\"192.168.1.0/24:80,443\", \"10.0.0.5:22\", \"10.1.0.0/16:1000-2000\"";
    Decision decision = decide_for(allow, "192.168.1.20:80");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.service, nullptr);
    EXPECT_TRUE(decision.target.host_name.empty());
    EXPECT_EQ(decision.target.endpoint, endpoint("192.168.1.20:80"));

    for (const char* destination : {"192.168.1.20:443", "192.168.1.255:80", "10.0.0.5:22",
                                    "10.1.2.3:1000", "10.1.255.255:2000", "10.1.0.0:1500"}) {
        EXPECT_TRUE(decide_for(allow, destination).allowed()) << destination;
    }
    for (const char* destination : {"192.168.1.20:8080", "192.168.2.1:80", "10.0.0.5:23",
                                    "10.0.0.6:22", "10.1.2.3:999", "10.1.2.3:2001",
                                    "10.2.0.1:1500", "[2001:db8::1]:80"}) {
        EXPECT_EQ(refusal_for(allow, destination), Refusal::no_matching_rule) << destination;
    }
}

TEST_F(Acl, NetworkRulesMatchPrefixAndPortsInIpv6) {
    const std::string allow = "\"[fd00::/64]:*\", \"[2001:db8::7]:22,80-81\"";
    Decision decision = decide_for(allow, "[fd00::1]:1");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.target.endpoint, endpoint("[fd00::1]:1"));
    EXPECT_TRUE(decide_for(allow, "[fd00::ffff:1]:65535").allowed());
    EXPECT_TRUE(decide_for(allow, "[2001:db8::7]:22").allowed());
    EXPECT_TRUE(decide_for(allow, "[2001:db8::7]:81").allowed());
    EXPECT_EQ(refusal_for(allow, "[fd00:0:0:1::1]:22"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for(allow, "[2001:db8::7]:82"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for(allow, "[2001:db8::8]:22"), Refusal::no_matching_rule);
    EXPECT_EQ(refusal_for(allow, "10.0.0.1:22"), Refusal::no_matching_rule);
}

TEST_F(Acl, LoopbackNeedsARuleThatNamesIt) {
    const std::string broad = "\"0.0.0.0/0:*\", \"[::/0]:*\", \"126.0.0.0/7:22\"";
    for (const char* destination : {"127.0.0.1:22", "127.1.2.3:80", "[::1]:22",
                                    "[::ffff:127.0.0.1]:22"}) {
        EXPECT_EQ(refusal_for(broad, destination), Refusal::special_address) << destination;
    }
    EXPECT_TRUE(decide_for(broad, "8.8.8.8:53").allowed());
    EXPECT_TRUE(decide_for(broad, "[2001:db8::1]:443").allowed());

    EXPECT_TRUE(decide_for("\"127.0.0.0/8:22\"", "127.0.0.1:22").allowed());
    EXPECT_TRUE(decide_for("\"127.0.0.0/8:22\"", "127.9.9.9:22").allowed());
    EXPECT_EQ(refusal_for("\"127.0.0.0/8:22\"", "127.0.0.1:23"), Refusal::no_matching_rule);
    EXPECT_TRUE(decide_for("\"127.0.0.1/32:22\"", "127.0.0.1:22").allowed());
    EXPECT_TRUE(decide_for("\"127.0.0.1:22\"", "127.0.0.1:22").allowed());
    EXPECT_TRUE(decide_for("\"[::1]:22\"", "[::1]:22").allowed());
    EXPECT_TRUE(decide_for("\"[::1/128]:22\"", "[::1]:22").allowed());
    // A mapped loopback is the loopback it reaches, and is connected as IPv4.
    const Decision decision = decide_for("\"127.0.0.1:22\"", "[::ffff:127.0.0.1]:22");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.target.endpoint, endpoint("127.0.0.1:22"));
}

TEST_F(Acl, LinkLocalNeedsARuleThatNamesIt) {
    const std::string broad =
        "\"0.0.0.0/0:*\", \"[::/0]:*\", \"169.0.0.0/8:80\", \"[fe80::/9]:80\"";
    EXPECT_EQ(refusal_for(broad, "169.254.1.1:80"), Refusal::special_address);
    EXPECT_EQ(refusal_for(broad, "[fe80::1]:80"), Refusal::special_address);
    EXPECT_EQ(refusal_for(broad, "[febf::1]:80"), Refusal::special_address);
    EXPECT_EQ(refusal_for(broad, "[::ffff:169.254.1.1]:80"), Refusal::special_address);
    EXPECT_TRUE(decide_for(broad, "169.253.1.1:80").allowed());

    EXPECT_TRUE(decide_for("\"169.254.0.0/16:80\"", "169.254.1.1:80").allowed());
    EXPECT_TRUE(decide_for("\"169.254.1.0/24:80\"", "169.254.1.1:80").allowed());
    EXPECT_TRUE(decide_for("\"[fe80::/10]:80\"", "[fe80::1]:80").allowed());
    EXPECT_TRUE(decide_for("\"[fe80::/64]:80\"", "[fe80::1]:80").allowed());
    EXPECT_EQ(refusal_for("\"[fe80::/64]:80\"", "[fe80::1]:81"), Refusal::no_matching_rule);
}

TEST_F(Acl, TheDevicesOwnAddressesNeedAHostRule) {
    const std::string lan = "\"192.168.1.0/24:*\", \"[2001:db8:1::/64]:*\", \"[fe80::/10]:*\"";
    EXPECT_EQ(refusal_for(lan, "192.168.1.5:22"), Refusal::special_address);
    EXPECT_EQ(refusal_for(lan, "[::ffff:192.168.1.5]:22"), Refusal::special_address);
    EXPECT_EQ(refusal_for(lan, "[2001:db8:1::5]:22"), Refusal::special_address);
    EXPECT_EQ(refusal_for(lan, "[fe80::5]:22"), Refusal::special_address);  // own, link-local
    // The rest of the LAN is what the rules say.
    EXPECT_TRUE(decide_for(lan, "192.168.1.10:22").allowed());
    EXPECT_TRUE(decide_for(lan, "[2001:db8:1::6]:22").allowed());
    EXPECT_TRUE(decide_for(lan, "[fe80::6]:22").allowed());

    EXPECT_TRUE(decide_for("\"192.168.1.5:22\"", "192.168.1.5:22").allowed());
    EXPECT_TRUE(decide_for("\"192.168.1.5/32:22\"", "192.168.1.5:22").allowed());
    EXPECT_TRUE(decide_for("\"[2001:db8:1::5/128]:22\"", "[2001:db8:1::5]:22").allowed());
    EXPECT_TRUE(decide_for("\"[fe80::5]:22\"", "[fe80::5]:22").allowed());
    EXPECT_EQ(refusal_for("\"192.168.1.5:22\"", "192.168.1.5:23"), Refusal::no_matching_rule);
}

TEST_F(Acl, AnExplicitRuleAllowsWhateverTheOrder) {
    for (const std::string allow : {"\"0.0.0.0/0:*\", \"127.0.0.1:22\", \"10.0.0.0/8:22\"",
                                    "\"10.0.0.0/8:22\", \"127.0.0.1:22\", \"0.0.0.0/0:*\""}) {
        EXPECT_TRUE(decide_for(allow, "127.0.0.1:22").allowed()) << allow;
        EXPECT_EQ(refusal_for(allow, "127.0.0.1:80"), Refusal::special_address) << allow;
        EXPECT_TRUE(decide_for(allow, "10.0.0.1:22").allowed()) << allow;
        EXPECT_TRUE(decide_for(allow, "10.0.0.1:80").allowed()) << allow;
    }
}

TEST_F(Acl, DomainRulesWaitForNameResolution) {
    const std::string allow = "\"*.lan:22\", printer.lan:631";
    EXPECT_EQ(refusal_for(allow, "192.168.1.20:22"), Refusal::domain_rule_unresolved);
    EXPECT_EQ(refusal_for(allow, "[2001:db8::1]:631"), Refusal::domain_rule_unresolved);
    EXPECT_EQ(refusal_for(allow, "192.168.1.20:80"), Refusal::no_matching_rule);
    EXPECT_TRUE(decide_for(allow + ", \"192.168.1.0/24:22\"", "192.168.1.20:22").allowed());
    // A broad rule that swept in a special address says so first.
    EXPECT_EQ(refusal_for(allow + ", \"0.0.0.0/0:*\"", "127.0.0.1:22"),
              Refusal::special_address);
}

TEST_F(Acl, MappedAddressesAreTheIpv4TheyReach) {
    Decision decision = decide_for("\"10.0.0.0/8:22\"", "[::ffff:10.0.0.1]:22");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.target.endpoint, endpoint("10.0.0.1:22"));
    EXPECT_TRUE(decide_for("\"[::ffff:10.0.0.0/104]:22\"", "10.0.0.1:22").allowed());
    EXPECT_TRUE(decide_for("\"[::ffff:10.0.0.0/104]:22\"", "[::ffff:10.0.0.1]:22").allowed());
    EXPECT_EQ(refusal_for("\"[::ffff:10.0.0.0/104]:22\"", "11.0.0.1:22"),
              Refusal::no_matching_rule);
    // An IPv6 rule opens IPv6, not IPv4 in IPv6 clothing.
    EXPECT_EQ(refusal_for("\"[::/0]:*\"", "[::ffff:10.0.0.1]:22"), Refusal::no_matching_rule);
    // The node's own IPv4 overlay address, mapped, is still the node.
    decision = decide_for("ssh", "[::ffff:10.77.0.2]:22");
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.service, &config_.services[ssh]);
    EXPECT_EQ(refusal_for("ssh", "[::ffff:10.77.0.2]:23"), Refusal::not_a_service_port);
}

TEST(AclServices, MayReachExactlyTheNamedServices) {
    const config::NodeConfig node = node_allowing("ssh, admin, \"0.0.0.0/0:*\", \"*.lan:22\"");
    ASSERT_EQ(node.peers.size(), 1u);
    const config::Peer& peer = node.peers[0];
    EXPECT_TRUE(may_reach_service(peer, ssh));
    EXPECT_FALSE(may_reach_service(peer, web));
    EXPECT_TRUE(may_reach_service(peer, admin));
    EXPECT_FALSE(may_reach_service(peer, nas));
    EXPECT_FALSE(may_reach_service(peer, 99));

    const config::NodeConfig closed = node_allowing("");
    for (std::size_t i = 0; i < closed.services.size(); ++i) {
        EXPECT_FALSE(may_reach_service(closed.peers[0], i)) << i;
    }
}

}  // namespace
}  // namespace pinhole::acl
