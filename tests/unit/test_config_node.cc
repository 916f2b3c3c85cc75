// The node schema: every field of a full file, the defaults, relative paths, capacities, and
// one case per kind of error with its line, column and the phrase that tells the fix.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "config/load.h"
#include "core/util/base64.h"

namespace pinhole::config {
namespace {

constexpr char data_dir[] = PINHOLE_TEST_DATA_DIR "/config";
constexpr char laptop_key[] = "JjzwqtYGbiBnHQvIh1TyZmt7sz7v7RbtrC1ZbLVeP9g=";
constexpr char private_key_text[] = "RFev3zlQ6ROKaxJhLNYnARtAgy8yGGdPqkHBwXS7aTg=";

// The first bytes of the keys above, enough to tell them apart.
constexpr std::uint8_t laptop_key_first = 0x26;
constexpr std::uint8_t private_key_first = 0x44;

net::IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return net::IpAddress::v4(a, b, c, d);
}

net::IpAddress address(const char* text) {
    const Result<net::IpAddress> parsed = net::parse_address(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : net::IpAddress{};
}

LoadResult<NodeConfig> load_text(const std::string& text) {
    return load_node_config_from_text("/etc/pinhole/node.yaml", text);
}

// A node with a key and one peer, then `extra` (peer keys indented by four spaces start on
// line 5).
std::string with_peer(const std::string& extra) {
    return "key: {data_dir: /var/lib/pinhole}\n"
           "peers:\n"
           "  - name: laptop\n"
           "    public_key: \"" + std::string(laptop_key) + "\"\n" + extra;
}

TEST(NodeConfig, LoadsEveryFieldOfAFullFile) {
    const auto result = load_node_config(std::string(data_dir) + "/node-full.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const NodeConfig& config = result.value();
    EXPECT_TRUE(config.key.has_private_key);
    EXPECT_EQ(config.key.private_key[0], private_key_first);
    EXPECT_EQ(config.key.data_dir.view(), std::string(data_dir) + "/state");
    EXPECT_EQ(config.listen_port, 51820);
    ASSERT_EQ(config.address.size(), 2u);
    EXPECT_EQ(config.address[0].address, v4(10, 77, 0, 2));
    EXPECT_EQ(config.address[0].prefix_length, 32);
    EXPECT_EQ(config.address[1].address, address("fd00::2"));  // host bits kept
    EXPECT_EQ(config.address[1].prefix_length, 64);
    EXPECT_EQ(config.mtu_bytes, 1380);

    ASSERT_TRUE(config.has_gateway);
    EXPECT_EQ(config.gateway.url.transport, Transport::wss);
    EXPECT_TRUE(config.gateway.url.server.host_name.empty());
    EXPECT_EQ(config.gateway.url.server.endpoint.address, address("2001:db8::10"));
    EXPECT_EQ(config.gateway.url.server.endpoint.port, 443);
    EXPECT_EQ(config.gateway.url.path.view(), "/relay");
    EXPECT_EQ(config.gateway.public_key[0], 0x32);
    ASSERT_TRUE(config.gateway.has_cert_sha256);
    EXPECT_EQ(config.gateway.cert_sha256[0], 0x06);
    EXPECT_EQ(config.gateway.cert_sha256[31], 0x22);
    EXPECT_TRUE(config.gateway.ca_file.empty());
}

TEST(NodeConfig, LoadsServicesOfAFullFile) {
    const auto result = load_node_config(std::string(data_dir) + "/node-full.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const auto& services = result.value().services;
    ASSERT_EQ(services.size(), 3u);
    EXPECT_EQ(services[0].name.view(), "ssh");
    EXPECT_EQ(services[0].target.endpoint, (net::Endpoint{v4(127, 0, 0, 1), 22}));
    EXPECT_EQ(services[0].port, 22);  // the target's port
    EXPECT_EQ(services[0].proxy_protocol, ProxyProtocol::none);
    EXPECT_EQ(services[1].name.view(), "web");
    EXPECT_EQ(services[1].target.host_name.view(), "printer.lan");
    EXPECT_EQ(services[1].target.endpoint.address.family, net::Family::none);
    EXPECT_EQ(services[1].target.endpoint.port, 80);
    EXPECT_EQ(services[1].port, 8080);
    EXPECT_EQ(services[1].proxy_protocol, ProxyProtocol::v2);
    EXPECT_EQ(services[2].name.view(), "admin");
    EXPECT_EQ(services[2].target.endpoint, (net::Endpoint{address("::1"), 8443}));
    EXPECT_EQ(services[2].port, 8443);
}

TEST(NodeConfig, LoadsPeersOfAFullFile) {
    const auto result = load_node_config(std::string(data_dir) + "/node-full.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const auto& peers = result.value().peers;
    ASSERT_EQ(peers.size(), 2u);
    const Peer& laptop = peers[0];
    EXPECT_EQ(laptop.name.view(), "laptop");
    EXPECT_EQ(laptop.public_key[0], laptop_key_first);
    EXPECT_EQ(laptop.preshared_key_file.view(), std::string(data_dir) + "/psk/laptop.psk");
    ASSERT_TRUE(laptop.has_endpoint);
    EXPECT_EQ(laptop.endpoint.endpoint, (net::Endpoint{address("2001:db8::5"), 51820}));
    ASSERT_EQ(laptop.allowed_ips.size(), 2u);
    EXPECT_EQ(laptop.allowed_ips[0], (net::Prefix{v4(10, 77, 0, 3), 32}));
    EXPECT_EQ(laptop.allowed_ips[1], (net::Prefix{address("fd00::3"), 128}));  // one host
    EXPECT_EQ(laptop.persistent_keepalive_seconds, 25);
    EXPECT_EQ(laptop.path, PathPolicy::direct);
    const Peer& phone = peers[1];
    EXPECT_EQ(phone.endpoint.host_name.view(), "home.example.net");
    EXPECT_EQ(phone.endpoint.endpoint.port, 51820);
    EXPECT_TRUE(phone.preshared_key_file.empty());
    EXPECT_TRUE(phone.allow.empty());  // nothing unless allowed
    EXPECT_EQ(phone.path, PathPolicy::relay);
}

TEST(NodeConfig, ParsesAllowRulesIntoStructure) {
    const auto result = load_node_config(std::string(data_dir) + "/node-full.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const auto& allow = result.value().peers[0].allow;
    ASSERT_EQ(allow.size(), 7u);
    EXPECT_EQ(allow[0].kind, AllowKind::service);
    EXPECT_EQ(allow[0].service_index, 0);  // ssh
    EXPECT_EQ(allow[1].service_index, 1);  // web
    EXPECT_EQ(allow[2].kind, AllowKind::network);
    EXPECT_EQ(allow[2].network, (net::Prefix{v4(192, 168, 1, 0), 24}));
    ASSERT_EQ(allow[2].ports.size(), 2u);
    EXPECT_EQ(allow[2].ports[0].first, 80);
    EXPECT_EQ(allow[2].ports[0].last, 80);
    EXPECT_EQ(allow[2].ports[1].first, 443);
    EXPECT_EQ(allow[3].network, (net::Prefix{v4(10, 0, 0, 5), 32}));
    EXPECT_EQ(allow[3].ports[0].first, 22);
    EXPECT_EQ(allow[4].network, (net::Prefix{address("fd00::"), 64}));
    EXPECT_EQ(allow[4].ports[0].first, 1000);
    EXPECT_EQ(allow[4].ports[0].last, 2000);
    EXPECT_EQ(allow[5].kind, AllowKind::domain);
    EXPECT_TRUE(allow[5].any_subdomain);
    EXPECT_EQ(allow[5].domain.view(), "lan");
    EXPECT_EQ(allow[5].ports[0].first, 1);
    EXPECT_EQ(allow[5].ports[0].last, 65535);
    EXPECT_FALSE(allow[6].any_subdomain);
    EXPECT_EQ(allow[6].domain.view(), "printer.lan");  // lowercase
    EXPECT_EQ(allow[6].ports[0].first, 631);
}

TEST(NodeConfig, FillsDefaults) {
    const auto result = load_node_config(std::string(data_dir) + "/node-minimal.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const NodeConfig& config = result.value();
    EXPECT_FALSE(config.key.has_private_key);
    EXPECT_EQ(config.key.data_dir.view(), "/var/lib/pinhole");
    EXPECT_EQ(config.listen_port, 0);  // any free port
    EXPECT_TRUE(config.address.empty());
    EXPECT_EQ(config.mtu_bytes, 1420);
    EXPECT_FALSE(config.has_gateway);
    EXPECT_TRUE(config.services.empty());
    EXPECT_TRUE(config.peers.empty());
}

TEST(NodeConfig, FillsPeerAndGatewayDefaults) {
    const auto result = load_text(
        "key: {private_key: \"" + std::string(private_key_text) + "\"}\n"
        "gateway: {url: \"ws://gw.example.net\", public_key: \"" + laptop_key + "\"}\n"
        "peers:\n  - {name: b, public_key: \"" + laptop_key + "\"}\n");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const NodeConfig& config = result.value();
    EXPECT_TRUE(config.key.data_dir.empty());
    EXPECT_EQ(config.gateway.url.server.endpoint.port, 80);
    EXPECT_EQ(config.gateway.url.path.view(), "/pinhole");
    EXPECT_FALSE(config.gateway.has_cert_sha256);
    const Peer& peer = config.peers[0];
    EXPECT_FALSE(peer.has_endpoint);
    EXPECT_TRUE(peer.preshared_key_file.empty());
    EXPECT_TRUE(peer.allowed_ips.empty());
    EXPECT_EQ(peer.persistent_keepalive_seconds, 0);
    EXPECT_EQ(peer.path, PathPolicy::automatic);
}

TEST(NodeConfig, AcceptsEmptySectionsAsEmpty) {
    const auto result = load_text("key: {data_dir: /d}\naddress:\nservices:\npeers: []\n");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_TRUE(result.value().services.empty());
}

TEST(NodeConfig, ResolvesRelativePathsAgainstTheFilesDirectory) {
    const auto result = load_node_config_from_text(
        "/srv/conf/node.yaml",
        "key: {data_dir: state}\n"
        "gateway: {url: \"tls://gw:1\", public_key: \"" + std::string(laptop_key) + "\", ca_file: ../ca.pem}\n"
        "peers:\n  - {name: b, public_key: \"" + laptop_key + "\", preshared_key_file: /abs/b.psk}\n");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_EQ(result.value().key.data_dir.view(), "/srv/conf/state");
    EXPECT_EQ(result.value().gateway.ca_file.view(), "/srv/conf/../ca.pem");
    EXPECT_EQ(result.value().peers[0].preshared_key_file.view(), "/abs/b.psk");  // absolute: kept
}

TEST(NodeConfig, ResolvesRelativePathsOfARelativeFileAgainstTheCurrentDirectory) {
    const auto result = load_node_config_from_text("node.yaml", "key: {data_dir: state}\n");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const std::string_view resolved = result.value().key.data_dir.view();
    EXPECT_TRUE(resolved.starts_with("/")) << resolved;
    EXPECT_TRUE(resolved.ends_with("/state")) << resolved;
}

TEST(NodeConfig, SuggestsTheKeyMeantInAFile) {
    const auto result = load_node_config(std::string(data_dir) + "/node-typo.yaml");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().line, 6);
    EXPECT_EQ(result.error().column, 5);
    EXPECT_NE(result.error().message.find("did you mean `allowed_ips`?"), std::string::npos);
    EXPECT_NE(result.error().to_string().find("node-typo.yaml:6:5: peers[0]: unknown key `allowed-ips`"),
              std::string::npos)
        << result.error().to_string();
}

TEST(NodeConfig, ReportsAMissingFile) {
    const auto result = load_node_config("/nonexistent/node.yaml");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().line, 0);
    EXPECT_NE(result.error().message.find("cannot open"), std::string::npos);
}

TEST(NodeConfig, NeverRepeatsAPrivateKeyInAnError) {
    const std::string almost_a_key = std::string(private_key_text).substr(0, 40);
    const auto result = load_text("key: {private_key: \"" + almost_a_key + "\"}\n");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message.find(almost_a_key), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("key.private_key: the private key decodes to 30 bytes"),
              std::string::npos)
        << result.error().message;
}

// ---- capacities: more than fits is an error naming the limit, never a silent truncation ----

TEST(NodeConfig, RefusesMorePeersThanTheBoardBudget) {
    std::string text = "key: {data_dir: /d}\npeers:\n";
    for (std::size_t i = 0; i <= max_peers; ++i) {
        std::array<std::uint8_t, 32> key{};
        key[0] = static_cast<std::uint8_t>(i);
        key[1] = static_cast<std::uint8_t>(i >> 8);
        std::array<char, 45> key_text{};
        ASSERT_TRUE(base64_encode(key, key_text).ok());
        // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on the chained form at -O3.
        text += "  - {name: p";
        text += std::to_string(i);
        text += ", public_key: \"";
        text += key_text.data();
        text += "\"}\n";
    }
    const auto result = load_text(text);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().line, static_cast<int>(max_peers) + 3);  // the first that does not fit
    EXPECT_EQ(result.error().column, 5);
    EXPECT_NE(result.error().message.find("too many peers: this build holds at most " +
                                          std::to_string(max_peers)),
              std::string::npos);
    EXPECT_NE(result.error().message.find("PINHOLE_BUDGET_MAX_PEERS"), std::string::npos);
}

TEST(NodeConfig, RefusesMoreServicesThanFit) {
    std::string text = "key: {data_dir: /d}\nservices:\n";
    for (std::size_t i = 0; i <= max_services; ++i) {
        text += "  s" + std::to_string(i) + ": 127.0.0.1:" + std::to_string(1000 + i) + "\n";
    }
    const auto result = load_text(text);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().line, static_cast<int>(max_services) + 3);
    EXPECT_NE(result.error().message.find("too many services"), std::string::npos);
    EXPECT_NE(result.error().message.find("max_services"), std::string::npos);
}

TEST(NodeConfig, RefusesMoreAllowRulesThanFit) {
    std::string rules;
    for (std::size_t i = 0; i <= max_allow_rules_per_peer; ++i) {
        rules += (i == 0 ? "" : ", ") + std::string("\"10.0.0.") + std::to_string(i) + ":22\"";
    }
    const auto result = load_text(with_peer("    allow: [" + rules + "]\n"));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().line, 5);
    EXPECT_NE(result.error().message.find("peers[0].allow[" + std::to_string(max_allow_rules_per_peer) +
                                          "]: too many allow rules"),
              std::string::npos)
        << result.error().message;
}

TEST(NodeConfig, RefusesMoreAllowedIpsAndAddressesThanFit) {
    std::string networks;
    for (std::size_t i = 0; i <= max_allowed_ips_per_peer; ++i) {
        networks += (i == 0 ? "" : ", ") + std::string("10.0.0.") + std::to_string(i);
    }
    const auto peer = load_text(with_peer("    allowed_ips: [" + networks + "]\n"));
    ASSERT_FALSE(peer.ok());
    EXPECT_NE(peer.error().message.find("too many allowed_ips"), std::string::npos);
    std::string addresses;
    for (std::size_t i = 0; i <= max_node_addresses; ++i) {
        addresses += (i == 0 ? "" : ", ") + std::string("10.0.0.") + std::to_string(i);
    }
    const auto node = load_text("key: {data_dir: /d}\naddress: [" + addresses + "]\n");
    ASSERT_FALSE(node.ok());
    EXPECT_NE(node.error().message.find("too many addresses"), std::string::npos);
}

TEST(NodeConfig, RefusesMorePortsInARuleThanFit) {
    const auto result = load_text(with_peer("    allow: [\"10.0.0.1:1,2,3,4,5,6,7,8,9\"]\n"));
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("more than 8 ports or ranges"), std::string::npos);
}

// ---- one case per kind of error ----------------------------------------------------------

struct ErrorCase {
    const char* name;
    std::string text;
    int line;
    int column;
    const char* phrase;  // must appear in the message
};

void PrintTo(const ErrorCase& error_case, std::ostream* out) { *out << error_case.name; }

class NodeConfigError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(NodeConfigError, NamesPositionAndFix) {
    const ErrorCase& error_case = GetParam();
    const auto result = load_text(error_case.text);
    ASSERT_FALSE(result.ok()) << error_case.text;
    EXPECT_EQ(result.error().file, "/etc/pinhole/node.yaml");
    EXPECT_EQ(result.error().line, error_case.line) << result.error().to_string();
    EXPECT_EQ(result.error().column, error_case.column) << result.error().to_string();
    EXPECT_NE(result.error().message.find(error_case.phrase), std::string::npos)
        << result.error().to_string();
}

const std::string key_line = "key: {data_dir: /var/lib/pinhole}\n";

std::vector<ErrorCase> error_cases() {
    return {
        // The shape of the file.
        {"syntax", key_line + "services:\n  ssh: 127.0.0.1:22\n web: 1\n", 4, 2, "indentation"},
        {"top_level_list", "- a\n", 1, 1, "expected a mapping (key: value lines), found a list"},
        {"empty_file", "", 0, 0, "missing `key`"},
        {"unknown_key", key_line + "listn_port: 5\n", 2, 1, "unknown key `listn_port`: did you mean `listen_port`?"},
        {"unknown_key_no_suggestion", key_line + "colour: red\n", 2, 1, "expected one of key, listen_port"},
        {"key_twice", key_line + "mtu: 1400\nmtu: 1300\n", 3, 1, "`mtu` is set twice (first on line 2)"},
        {"alias", "key: &k {data_dir: /d}\nmtu: *k\n", 2, 6, "aliases (*name) are not supported"},
        {"unquoted_star", with_peer("    allow: [*.lan:22]\n"), 5, 13, "quote values that start with *"},
        {"second_document", key_line + "---\nmtu: 1400\n", 2, 1, "a second YAML document"},
        {"control_character", "key: {data_dir: \"/a\\tb\"}\n", 1, 17, "control character"},
        // Types.
        {"list_for_mapping", "key: [/d]\n", 1, 6, "key: expected a mapping (key: value lines), found a list"},
        {"mapping_for_number", key_line + "mtu: {bytes: 1400}\n", 2, 6, "mtu: expected a whole number 1280..1420, found a mapping"},
        {"empty_value", key_line + "mtu:\n", 2, 1, "mtu: expected a whole number 1280..1420, found nothing"},
        {"scalar_for_list", key_line + "address: 10.0.0.1\n", 2, 10, "expected a list, found a single value; write it as address: [\"10.77.0.2/32\"]"},
        {"mapping_for_peers", key_line + "peers: {laptop: 1}\n", 2, 8, "peers: expected a list"},
        {"list_for_service", key_line + "services:\n  web: [1]\n", 3, 8, "services.web: expected host:port"},
        {"empty_peer", key_line + "peers:\n  -\n", 3, 3, "the peer is empty"},
        // Required keys.
        {"no_key_section", "mtu: 1400\n", 1, 1, "missing `key`: a node needs `data_dir`"},
        {"empty_key_section", "key: {}\n", 1, 6, "key: a node needs `data_dir`"},
        {"peer_without_key", key_line + "peers:\n  - name: laptop\n", 3, 5, "peers[0]: missing `public_key`: every peer needs"},
        {"peer_without_name", key_line + "peers:\n  - public_key: \"" + laptop_key + "\"\n", 3, 5, "peers[0]: missing `name`"},
        {"gateway_without_url", key_line + "gateway: {public_key: \"" + laptop_key + "\"}\n", 2, 10, "gateway: missing `url`"},
        {"gateway_without_key", key_line + "gateway: {url: \"tcp://gw:1\"}\n", 2, 10, "gateway: missing `public_key`"},
        {"service_without_target", key_line + "services:\n  web: {port: 80}\n", 3, 8, "services.web: missing `target`"},
        // Numbers.
        {"mtu_too_large", key_line + "mtu: 9000\n", 2, 6, "mtu: 9000 is out of range: expected 1280..1420 (1420 is WireGuard's default"},
        {"mtu_too_small", key_line + "mtu: 576\n", 2, 6, "1280 is the smallest IPv6 allows"},
        {"mtu_not_a_number", key_line + "mtu: 1.5k\n", 2, 6, "`1.5k` is not a number: expected a whole number 1280..1420"},
        {"listen_port_negative", key_line + "listen_port: -1\n", 2, 14, "`-1` is not a number: expected a whole number 0..65535"},
        {"listen_port_too_large", key_line + "listen_port: 65536\n", 2, 14, "65536 is out of range: expected 0..65535 (the UDP port"},
        {"number_with_many_digits", key_line + "listen_port: 99999999999999999999999\n", 2, 14, "is out of range"},
        {"keepalive_too_large", with_peer("    persistent_keepalive: 70000\n"), 5, 27, "expected 0..65535 (seconds; 0 turns it off"},
        {"service_port_zero", key_line + "services:\n  web: {target: \"1.2.3.4:80\", port: 0}\n", 3, 37, "services.web.port: 0 is out of range: expected 1..65535"},
        // Keys.
        {"key_not_base64", with_peer("").replace(with_peer("").find(laptop_key), 44, "not-a-key!"), 4, 17, "`not-a-key!` is not valid base64"},
        {"key_missing_padding", with_peer("").replace(with_peer("").find(laptop_key) + 43, 1, ""), 4, 17, "is the trailing `=` missing?"},
        {"key_too_short", with_peer("").replace(with_peer("").find(laptop_key), 44, "AAAAAAAAAAAAAAAAAAAAAA=="), 4, 17, "decodes to 16 bytes, not the 32 of a key"},
        {"key_too_long", with_peer("").replace(with_peer("").find(laptop_key), 44, std::string(200, 'A')), 4, 17, "is too long for a key"},
        {"private_key_bad", "key: {private_key: \"abc\"}\n", 1, 20, "key.private_key: the private key is not valid base64: expected a private key as `wg genkey` prints it"},
        {"cert_pin_bad", key_line + "gateway:\n  url: tls://gw:1\n  public_key: \"" + laptop_key + "\"\n  cert_sha256: abcd\n", 5, 16, "is not a SHA-256 fingerprint: expected 64 hex digits"},
        // Addresses, networks, endpoints.
        {"address_bad", key_line + "address: [\"10.0.0.300/32\"]\n", 2, 11, "`10.0.0.300/32` is not an IP address"},
        {"address_long_prefix", key_line + "address: [\"10.0.0.1/33\"]\n", 2, 11, "has the prefix length /33: expected at most /32"},
        {"address_twice", key_line + "address: [10.0.0.1, 10.0.0.1]\n", 2, 21, "`10.0.0.1` is listed twice"},
        {"allowed_ips_host_bits", with_peer("    allowed_ips: [\"10.1.2.3/8\"]\n"), 5, 19, "has bits set past the prefix length /8: write 10.0.0.0/8 for the network, or 10.1.2.3 alone"},
        {"allowed_ips_bad", with_peer("    allowed_ips: [\"fd00::/129\"]\n"), 5, 19, "has a bad prefix length: expected /0 to /128"},
        {"allowed_ips_twice", with_peer("    allowed_ips: [10.0.0.1, 10.0.0.1/32]\n"), 5, 29, "is listed twice"},
        {"endpoint_no_port", with_peer("    endpoint: 192.0.2.1\n"), 5, 15, "`192.0.2.1` needs a port: expected host:port"},
        {"endpoint_bad_port", with_peer("    endpoint: 192.0.2.1:99999\n"), 5, 15, "has the port `99999`: expected a port 1..65535"},
        {"endpoint_v6_without_brackets", with_peer("    endpoint: 2001:db8::1:51820\n"), 5, 15, "put it in brackets, such as [2001:db8::1]:22"},
        {"endpoint_v4_in_brackets", with_peer("    endpoint: \"[192.0.2.1]:5\"\n"), 5, 15, "brackets are for IPv6 only"},
        {"endpoint_bad_ipv4", with_peer("    endpoint: 10.0.0.300:5\n"), 5, 15, "is not a valid IPv4 address"},
        {"endpoint_bad_host", with_peer("    endpoint: \"bad host:5\"\n"), 5, 15, "has the character ` `"},
        {"endpoint_empty_label", with_peer("    endpoint: a..b:5\n"), 5, 15, "has an empty label"},
        {"service_target_no_host", key_line + "services:\n  ssh: \":22\"\n", 3, 8, "has no host"},
        // Gateway URL and pins.
        {"url_scheme", key_line + "gateway: {url: \"http://gw\", public_key: \"" + laptop_key + "\"}\n", 2, 16, "has the scheme `http`: expected tcp, tls, ws or wss"},
        {"url_not_a_url", key_line + "gateway: {url: gw.example.net, public_key: \"" + laptop_key + "\"}\n", 2, 16, "is not a URL: expected tcp://host:port"},
        {"url_tcp_without_port", key_line + "gateway: {url: \"tcp://gw\", public_key: \"" + laptop_key + "\"}\n", 2, 16, "tcp:// and tls:// have no standard one"},
        {"url_tcp_with_path", key_line + "gateway: {url: \"tcp://gw:1/x\", public_key: \"" + laptop_key + "\"}\n", 2, 16, "has a path, which only ws:// and wss:// use"},
        {"url_user_info", key_line + "gateway: {url: \"wss://me@gw\", public_key: \"" + laptop_key + "\"}\n", 2, 16, "has a query, a fragment or a user name"},
        {"pin_without_tls", key_line + "gateway: {url: \"tcp://gw:1\", public_key: \"" + laptop_key + "\", cert_sha256: \"" + std::string(64, 'a') + "\"}\n", 2, 103, "the gateway URL has no TLS to check"},
        {"pin_and_ca", key_line + "gateway: {url: \"tls://gw:1\", public_key: \"" + laptop_key + "\", cert_sha256: \"" + std::string(64, 'a') + "\", ca_file: ca.pem}\n", 2, 180, "set cert_sha256 or ca_file, not both"},
        // Services.
        {"service_name_invalid", key_line + "services:\n  Web_Admin: 127.0.0.1:80\n", 3, 3, "`Web_Admin` is not a valid name: expected lowercase letters"},
        {"service_twice", key_line + "services:\n  ssh: 127.0.0.1:22\n  ssh: 127.0.0.1:23\n", 4, 3, "`ssh` is defined twice"},
        {"service_port_twice", key_line + "services:\n  ssh: 127.0.0.1:22\n  ssh2: 10.0.0.1:22\n", 4, 9, "port 22 is already the port of service `ssh`"},
        {"service_port_twice_explicit", key_line + "services:\n  ssh: 127.0.0.1:22\n  web: {target: \"10.0.0.1:80\", port: 22}\n", 4, 38, "already the port of service `ssh`"},
        {"service_dns_port", key_line + "services:\n  dns: 127.0.0.1:53\n", 3, 8, "port 53 on the overlay address is this node's DNS server"},
        {"proxy_protocol_v1", key_line + "services:\n  web: {target: \"1.2.3.4:80\", proxy_protocol: v1}\n", 3, 47, "`v1` is not supported: expected v2"},
        {"services_as_list", key_line + "services: [ssh]\n", 2, 11, "expected a mapping of names to targets"},
        // Peers.
        {"peer_name_twice", with_peer("  - name: laptop\n    public_key: \"" + std::string(32, 'B') + "BBBBBBBBBBA=\"\n"), 5, 11, "`laptop` is already the name of peers[0]"},
        {"peer_key_twice", with_peer("  - name: phone\n    public_key: \"" + std::string(laptop_key) + "\"\n"), 6, 17, "the same key as peers[0] (`laptop`)"},
        {"peer_unknown_key", with_peer("    keepalive: 25\n"), 5, 5, "did you mean `persistent_keepalive`?"},
        {"path_unknown", with_peer("    path: fastest\n"), 5, 11, "`fastest` is not a path: expected auto"},
        {"path_relay_without_gateway", with_peer("    path: relay\n"), 5, 11, "relay needs a `gateway:` section"},
        {"psk_tilde", with_peer("    preshared_key_file: ~/laptop.psk\n"), 5, 25, "starts with ~, which is not expanded here"},
        {"path_too_long", "key: {data_dir: /" + std::string(300, 'd') + "}\n", 1, 17, "longer than the 255 characters a path may have"},
        // Allow rules.
        {"allow_unknown_service", key_line + "services: {ssh: 127.0.0.1:22}\n" + with_peer("    allow: [shh]\n").substr(key_line.size()), 6, 13, "`shh` is not a service of this node: did you mean `ssh`?"},
        {"allow_unknown_service_list", key_line + "services: {ssh: 127.0.0.1:22, web: 127.0.0.1:80}\n" + with_peer("    allow: [database]\n").substr(key_line.size()), 6, 13, "expected one of ssh, web"},
        {"allow_no_services", with_peer("    allow: [ssh]\n"), 5, 13, "it defines no `services:`"},
        {"allow_network_without_ports", with_peer("    allow: [\"10.0.0.0/8\"]\n"), 5, 13, "`10.0.0.0/8` needs ports: expected such as `10.0.0.0/8:22`"},
        {"allow_host_bits", with_peer("    allow: [\"192.168.1.5/24:80\"]\n"), 5, 13, "write 192.168.1.0/24 for the network"},
        {"allow_v6_without_brackets", with_peer("    allow: [\"fd00::/64:22\"]\n"), 5, 13, "write it as [fd00::/64]:22"},
        {"allow_v4_in_brackets", with_peer("    allow: [\"[10.0.0.0/8]:22\"]\n"), 5, 13, "brackets are for IPv6 only"},
        {"allow_unclosed_bracket", with_peer("    allow: [\"[fd00::/64:22\"]\n"), 5, 13, "has `[` without `]`"},
        {"allow_bad_port", with_peer("    allow: [\"10.0.0.5:ssh\"]\n"), 5, 13, "has the port `ssh`: expected a port 1..65535"},
        {"allow_empty_port", with_peer("    allow: [\"10.0.0.5:80,,443\"]\n"), 5, 13, "has an empty port (a stray comma?)"},
        {"allow_backwards_range", with_peer("    allow: [\"10.0.0.5:2000-1000\"]\n"), 5, 13, "has the range `2000-1000` backwards"},
        {"allow_bare_star", with_peer("    allow: [\"*:22\"]\n"), 5, 13, "has a * that is not a whole first label"},
        {"allow_star_inside", with_peer("    allow: [\"a.*.lan:22\"]\n"), 5, 13, "has a * that is not a whole first label"},
        {"allow_bad_domain", with_peer("    allow: [\"-printer.lan:22\"]\n"), 5, 13, "starts or ends with '-'"},
        {"allow_as_mapping", with_peer("    allow: {ssh: 1}\n"), 5, 12, "expected a list, found a mapping"},
        {"allow_item_list", with_peer("    allow: [[ssh]]\n"), 5, 13, "expected a service name such as ssh"},
    };
}

INSTANTIATE_TEST_SUITE_P(Node, NodeConfigError, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& case_info) { return case_info.param.name; });

}  // namespace
}  // namespace pinhole::config
