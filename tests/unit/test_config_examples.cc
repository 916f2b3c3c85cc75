// The examples in config/examples load as they are, and together show every key.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/load.h"

namespace pinhole::config {
namespace {

const std::string examples = PINHOLE_TEST_DATA_DIR "/../../../config/examples";

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(ConfigExamples, AgentLoads) {
    const auto result = load_node_config(examples + "/agent.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    const NodeConfig& config = result.value();
    EXPECT_EQ(config.listen_port, 51820);
    EXPECT_EQ(config.gateway.url.transport, Transport::wss);
    EXPECT_EQ(config.services.size(), 2u);
    ASSERT_EQ(config.peers.size(), 1u);
    EXPECT_EQ(config.peers[0].allow.size(), 6u);
    EXPECT_EQ(config.peers[0].preshared_key_file.view(), examples + "/laptop.psk");
}

TEST(ConfigExamples, ClientLoads) {
    const auto result = load_node_config(examples + "/client.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_EQ(result.value().key.data_dir.view(), examples + "/state");
    EXPECT_EQ(result.value().peers[0].path, PathPolicy::relay);
}

TEST(ConfigExamples, GatewayLoads) {
    const auto result = load_gateway_config(examples + "/gateway.yaml");
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    EXPECT_TRUE(result.value().has_tls);
    EXPECT_EQ(result.value().udp.size(), 2u);
}

TEST(ConfigExamples, ShowEveryKey) {
    const std::string nodes = read(examples + "/agent.yaml") + read(examples + "/client.yaml");
    for (const char* key : {"key:",         "private_key:", "data_dir:",
                            "listen_port:", "address:",     "mtu:",
                            "gateway:",     "url:",         "public_key:",
                            "cert_sha256:", "ca_file:",     "services:",
                            "target:",      "port:",        "proxy_protocol:",
                            "peers:",       "name:",        "preshared_key_file:",
                            "endpoint:",    "allowed_ips:", "persistent_keepalive:",
                            "allow:",       "path:"}) {
        EXPECT_NE(nodes.find(key), std::string::npos) << key;
    }
    const std::string gateway = read(examples + "/gateway.yaml");
    for (const char* key :
         {"key:", "data_dir:", "listen:", "tls:", "cert:", "udp:", "authorized_keys:", "limits:",
          "max_channels:", "channel_buffer_bytes:"}) {
        EXPECT_NE(gateway.find(key), std::string::npos) << key;
    }
}

}  // namespace
}  // namespace pinhole::config
