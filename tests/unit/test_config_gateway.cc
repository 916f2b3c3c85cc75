// The gateway schema: every field, the defaults, relative paths, capacities and each error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/load.h"

namespace pinhole::config {
namespace {

constexpr char data_dir[] = PINHOLE_TEST_DATA_DIR "/config";

net::Endpoint endpoint(const char* text) {
    const Result<net::Endpoint> parsed = net::parse_endpoint(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : net::Endpoint{};
}

LoadResult<GatewayConfig> load_text(const std::string& text) {
    return load_gateway_config_from_text("/etc/pinhole/gateway.yaml", text);
}

TEST(GatewayConfig, LoadsEveryFieldOfAFullFile) {
    const auto result = load_gateway_config(std::string(data_dir) + "/gateway-full.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const GatewayConfig& config = result.value();
    EXPECT_EQ(config.key.data_dir.view(), std::string(data_dir) + "/state");
    ASSERT_EQ(config.listen.size(), 2u);
    EXPECT_EQ(config.listen[0], endpoint("[::]:8443"));
    EXPECT_EQ(config.listen[1], endpoint("0.0.0.0:443"));
    ASSERT_TRUE(config.has_tls);
    EXPECT_EQ(config.tls.cert.view(), std::string(data_dir) + "/tls/gateway.crt");
    EXPECT_EQ(config.tls.key.view(), "/etc/pinhole/gateway.key");
    ASSERT_EQ(config.udp.size(), 3u);
    EXPECT_EQ(config.udp[2], endpoint("192.0.2.7:3478"));
    EXPECT_EQ(config.authorized_keys.view(), std::string(data_dir) + "/authorized_keys");
    EXPECT_EQ(config.limits.max_channels, 500u);
    EXPECT_EQ(config.limits.channel_buffer_bytes, 8192u);
}

TEST(GatewayConfig, FillsDefaults) {
    const auto result = load_gateway_config(std::string(data_dir) + "/gateway-minimal.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const GatewayConfig& config = result.value();
    EXPECT_FALSE(config.has_tls);
    EXPECT_TRUE(config.tls.cert.empty());
    EXPECT_TRUE(config.udp.empty());  // relay only
    EXPECT_EQ(config.limits.max_channels, 10000u);
    EXPECT_EQ(config.limits.channel_buffer_bytes, 524288u);
}

TEST(GatewayConfig, RefusesMoreListenEndpointsThanFit) {
    std::string list;
    for (std::size_t i = 0; i <= max_gateway_listen_endpoints; ++i) {
        list += (i == 0 ? "\"[::]:" : ", \"[::]:") + std::to_string(8000 + i) + "\"";
    }
    const auto result = load_text("key: {data_dir: /d}\nlisten: [" + list + "]\nauthorized_keys: a\n");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().line, 2);
    EXPECT_NE(result.error().message.find("listen[4]: too many endpoints: this build holds at most 4 "
                                          "(max_gateway_listen_endpoints"),
              std::string::npos)
        << result.error().message;
}

struct ErrorCase {
    const char* name;
    std::string text;
    int line;
    int column;
    const char* phrase;
};

void PrintTo(const ErrorCase& error_case, std::ostream* out) { *out << error_case.name; }

class GatewayConfigError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(GatewayConfigError, NamesPositionAndFix) {
    const ErrorCase& error_case = GetParam();
    const auto result = load_text(error_case.text);
    ASSERT_FALSE(result.ok()) << error_case.text;
    EXPECT_EQ(result.error().line, error_case.line) << result.error().to_string();
    EXPECT_EQ(result.error().column, error_case.column) << result.error().to_string();
    EXPECT_NE(result.error().message.find(error_case.phrase), std::string::npos)
        << result.error().to_string();
}

const std::string key_line = "key: {data_dir: /var/lib/pinhole-gateway}\n";
const std::string basics = key_line + "listen: [\"[::]:8443\"]\nauthorized_keys: /etc/ak\n";

std::vector<ErrorCase> error_cases() {
    return {
        {"empty_file", "", 0, 0, "missing `key`: the gateway keeps its key in data_dir"},
        {"unknown_key", basics + "listn: []\n", 4, 1, "did you mean `listen`?"},
        {"node_key_in_gateway", "key: {private_key: x}\n", 1, 7, "unknown key `private_key`: expected one of data_dir"},
        {"key_without_data_dir", "key: {}\n", 1, 6, "key: missing `data_dir`"},
        {"no_listen", key_line + "authorized_keys: a\n", 1, 1, "missing `listen`: the TCP endpoints nodes connect to"},
        {"empty_listen", key_line + "listen: []\nauthorized_keys: a\n", 2, 9, "the list is empty: expected at least one endpoint"},
        {"listen_not_a_list", key_line + "listen: \"[::]:8443\"\n", 2, 9, "expected a list, found a single value"},
        {"listen_port_zero", key_line + "listen: [\"[::]:0\"]\n", 2, 10, "has port 0: a server needs a fixed port"},
        {"listen_v6_without_brackets", key_line + "listen: [\"::1:8443\"]\n", 2, 10, "is not an address:port: expected an address and port to listen on"},
        {"listen_host_name", key_line + "listen: [\"gw.example.net:8443\"]\n", 2, 10, "is not an address:port"},
        {"listen_twice", key_line + "listen: [\"[::]:8443\", \"[::]:8443\"]\n", 2, 23, "is listed twice"},
        {"no_authorized_keys", key_line + "listen: [\"[::]:8443\"]\n", 1, 1, "missing `authorized_keys`"},
        {"authorized_keys_list", key_line + "listen: [\"[::]:8443\"]\nauthorized_keys: [a]\n", 3, 18, "authorized_keys: expected a path, such as /var/lib/pinhole, found a list"},
        {"one_udp_endpoint", basics + "udp: [\"[::]:3478\"]\n", 4, 6, "NAT discovery needs two endpoints"},
        {"udp_bad", basics + "udp: [\"[::]:3478\", \"[::]:x\"]\n", 4, 20, "is not an address:port"},
        {"tls_without_key", basics + "tls: {cert: c.pem}\n", 4, 6, "tls: missing `key`: the certificate's private key file"},
        {"tls_without_cert", basics + "tls: {key: k.pem}\n", 4, 6, "tls: missing `cert`"},
        {"tls_as_scalar", basics + "tls: on\n", 4, 6, "tls: expected a mapping"},
        {"limits_channels_zero", basics + "limits: {max_channels: 0}\n", 4, 24, "0 is out of range: expected 1..1000000"},
        {"limits_buffer_small", basics + "limits: {channel_buffer_bytes: 100}\n", 4, 32, "expected 4096..16777216 (bytes queued per channel"},
        {"limits_typo", basics + "limits: {max_chanels: 5}\n", 4, 10, "did you mean `max_channels`?"},
        {"limits_not_a_number", basics + "limits: {max_channels: lots}\n", 4, 24, "`lots` is not a number"},
    };
}

INSTANTIATE_TEST_SUITE_P(Gateway, GatewayConfigError, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& case_info) { return case_info.param.name; });

}  // namespace
}  // namespace pinhole::config
