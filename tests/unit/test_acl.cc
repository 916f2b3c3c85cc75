// The exit access list (DESIGN §1): every refusal, every kind of rule, IPv4 and IPv6, and the
// addresses a broad CIDR rule must not sweep in (loopback, link-local, the device's own).
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <vector>

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

// ---- domain rules: what the node's DNS resolved for the peer (core/acl/resolved_names.h) ----

constexpr std::uint16_t laptop_id = 3;

class AclNames : public Acl {
protected:
    Decision decide_resolved(const std::string& allow, const char* destination, std::uint32_t now_ms,
                             std::uint16_t peer = laptop_id) {
        config_ = node_allowing(allow);
        if (config_.peers.empty()) return Decision{};
        return decide(config_, config_.peers[0], own_, endpoint(destination), ResolvedFor{&names_, peer, now_ms});
    }
    void resolved(const char* name, std::initializer_list<const char*> addresses, std::uint32_t now_ms = 0,
                  std::uint32_t ttl_ms = 60'000) {
        std::vector<net::IpAddress> list;
        for (const char* text : addresses) list.push_back(address(text));
        names_.remember(laptop_id, name, list, ttl_ms, now_ms);
    }
    ResolvedNames names_;
};

config::AllowRule domain_rule(const char* domain, bool any_subdomain) {
    config::AllowRule rule;
    rule.kind = config::AllowKind::domain;
    EXPECT_TRUE(rule.domain.assign(domain).ok());
    rule.any_subdomain = any_subdomain;
    return rule;
}

TEST(AclDomainRules, MatchTheNameOrTheNamesUnderADomain) {
    const config::AllowRule printer = domain_rule("printer.lan", false);
    EXPECT_TRUE(domain_rule_matches(printer, "printer.lan"));
    EXPECT_TRUE(domain_rule_matches(printer, "Printer.LAN"));
    EXPECT_FALSE(domain_rule_matches(printer, "x.printer.lan"));
    EXPECT_FALSE(domain_rule_matches(printer, "printer.lan.evil"));
    const config::AllowRule lan = domain_rule("lan", true);
    EXPECT_TRUE(domain_rule_matches(lan, "nas.lan"));
    EXPECT_TRUE(domain_rule_matches(lan, "a.b.LAN"));
    EXPECT_FALSE(domain_rule_matches(lan, "lan"));
    EXPECT_FALSE(domain_rule_matches(lan, "evillan"));
    EXPECT_FALSE(domain_rule_matches(lan, ".lan"));
    config::AllowRule network = lan;
    network.kind = config::AllowKind::network;
    EXPECT_FALSE(domain_rule_matches(network, "nas.lan"));
}

TEST_F(AclNames, ADomainRuleOpensWhatTheNodeResolvedForThePeerOnItsPorts) {
    const std::string allow = "\"*.lan:22\", printer.lan:631";
    resolved("nas.lan", {"192.168.1.20", "192.168.1.21"});
    resolved("printer.lan", {"2001:db8::631"});
    const Decision decision = decide_resolved(allow, "192.168.1.21:22", 1000);
    ASSERT_TRUE(decision.allowed());
    EXPECT_EQ(decision.target.endpoint, endpoint("192.168.1.21:22"));
    EXPECT_TRUE(decide_resolved(allow, "[2001:db8::631]:631", 1000).allowed());
    EXPECT_TRUE(decide_resolved(allow, "[::ffff:192.168.1.20]:22", 1000).allowed());
    // Another port, another address, another peer, or past the TTL: refused.
    EXPECT_EQ(decide_resolved(allow, "192.168.1.20:23", 1000).refusal, Refusal::no_matching_rule);
    EXPECT_EQ(decide_resolved(allow, "192.168.1.22:22", 1000).refusal, Refusal::domain_rule_unresolved);
    EXPECT_EQ(decide_resolved(allow, "192.168.1.20:22", 1000, laptop_id + 1).refusal,
              Refusal::domain_rule_unresolved);
    EXPECT_TRUE(decide_resolved(allow, "192.168.1.20:22", 59'999).allowed());
    EXPECT_EQ(decide_resolved(allow, "192.168.1.20:22", 60'000).refusal, Refusal::domain_rule_unresolved);
    // printer.lan's rule opens 631 only, and *.lan's opens 22 of printer.lan too.
    EXPECT_EQ(decide_resolved(allow, "[2001:db8::631]:80", 1000).refusal, Refusal::no_matching_rule);
    EXPECT_TRUE(decide_resolved(allow, "[2001:db8::631]:22", 1000).allowed());
    EXPECT_EQ(decide_resolved("printer.lan:631", "192.168.1.20:631", 1000).refusal, Refusal::domain_rule_unresolved);
}

TEST_F(AclNames, ANameNeverOpensTheDeviceItself) {
    resolved("self.lan", {"127.0.0.1", "192.168.1.5", "169.254.1.1"});
    for (const char* destination : {"127.0.0.1:22", "192.168.1.5:22", "169.254.1.1:22"}) {
        EXPECT_EQ(decide_resolved("\"*.lan:22\"", destination, 0).refusal, Refusal::special_address) << destination;
    }
    // The node's overlay address is its services, whatever a name says.
    resolved("overlay.lan", {"10.77.0.2"});
    EXPECT_EQ(decide_resolved("\"*.lan:22\"", "10.77.0.2:22", 0).refusal, Refusal::service_not_allowed);
    // Without a table (the node resolves nothing), domain rules match nothing.
    EXPECT_EQ(refusal_for("\"*.lan:22\"", "192.168.1.20:22"), Refusal::domain_rule_unresolved);
}

TEST_F(AclNames, ANewerAnswerReplacesTheAddressesOfItsFamily) {
    resolved("nas.lan", {"192.168.1.20"}, 0);
    resolved("NAS.lan.", {"192.168.1.30"}, 1000);
    resolved("nas.lan", {"2001:db8::20"}, 1000);
    EXPECT_EQ(decide_resolved("\"*.lan:22\"", "192.168.1.20:22", 2000).refusal, Refusal::domain_rule_unresolved);
    EXPECT_TRUE(decide_resolved("\"*.lan:22\"", "192.168.1.30:22", 2000).allowed());
    EXPECT_TRUE(decide_resolved("\"*.lan:22\"", "[2001:db8::20]:22", 2000).allowed());
    EXPECT_EQ(names_.live(2000), 2u);
    names_.forget(laptop_id);
    EXPECT_EQ(names_.live(2000), 0u);
    EXPECT_EQ(decide_resolved("\"*.lan:22\"", "192.168.1.30:22", 2000).refusal, Refusal::domain_rule_unresolved);
}

TEST(AclResolvedNames, IsBoundedAndGivesUpTheEntryThatExpiresSoonest) {
    ResolvedNames names;
    const config::AllowRule lan = domain_rule("lan", true);
    for (std::size_t i = 0; i < max_resolved_names; ++i) {
        const std::string name = "host" + std::to_string(i) + ".lan";
        const net::IpAddress at = net::IpAddress::v4(10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
        names.remember(1, name, std::span(&at, 1), 10'000 + static_cast<std::uint32_t>(i), 0);
    }
    EXPECT_EQ(names.live(0), max_resolved_names);
    EXPECT_EQ(names.counters().evicted_live, 0u);
    const net::IpAddress newest = net::IpAddress::v4(10, 9, 9, 9);
    names.remember(1, "newest.lan", std::span(&newest, 1), 60'000, 0);
    EXPECT_EQ(names.counters().evicted_live, 1u);
    EXPECT_EQ(names.live(0), max_resolved_names);
    EXPECT_TRUE(names.resolved_to(1, lan, newest, 0));
    EXPECT_FALSE(names.resolved_to(1, lan, net::IpAddress::v4(10, 0, 0, 0), 0));  // host0: soonest
    EXPECT_TRUE(names.resolved_to(1, lan, net::IpAddress::v4(10, 0, 0, 1), 0));
    // Expired entries are taken first, without counting an eviction.
    names.remember(1, "later.lan", std::span(&newest, 1), 60'000, 10'005);
    EXPECT_EQ(names.counters().evicted_live, 1u);
    // Nothing is kept for an empty answer, a zero TTL or a name too long.
    const std::size_t before = names.live(0);
    names.remember(1, "empty.lan", {}, 60'000, 0);
    names.remember(1, "zero.lan", std::span(&newest, 1), 0, 0);
    names.remember(1, std::string(300, 'a'), std::span(&newest, 1), 60'000, 0);
    EXPECT_EQ(names.live(0), before);
    EXPECT_EQ(names.counters().names_refused, 1u);
}

TEST(AclResolvedNames, ResolveForPeersWithNetworkOrDomainRulesAndRememberMatchingNames) {
    const config::NodeConfig node = node_allowing("ssh, \"*.lan:22\", printer.corp:631");
    ASSERT_EQ(node.peers.size(), 1u);
    EXPECT_TRUE(may_resolve_names(node.peers[0]));
    EXPECT_TRUE(has_domain_rule_for(node.peers[0], "nas.lan"));
    EXPECT_TRUE(has_domain_rule_for(node.peers[0], "printer.corp"));
    EXPECT_FALSE(has_domain_rule_for(node.peers[0], "other.corp"));
    EXPECT_FALSE(has_domain_rule_for(node.peers[0], "lan"));
    EXPECT_FALSE(may_resolve_names(node_allowing("ssh, web").peers[0]));
    EXPECT_TRUE(may_resolve_names(node_allowing("\"10.0.0.0/8:22\"").peers[0]));
    EXPECT_FALSE(may_resolve_names(node_allowing("").peers[0]));
}

}  // namespace
}  // namespace pinhole::acl
