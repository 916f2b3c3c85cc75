// The gateway schema (DESIGN §3b): the relay and NAT-discovery server.
#include <algorithm>
#include <array>
#include <string>

#include "config/sections.h"
#include "config/values.h"

namespace pinhole::config {
namespace {

using Keys = std::span<const std::string_view>;
constexpr std::array<std::string_view, 6> gateway_keys{"key", "listen",          "tls",
                                                       "udp", "authorized_keys", "limits"};
constexpr std::array<std::string_view, 1> key_keys{"data_dir"};
constexpr std::array<std::string_view, 2> tls_keys{"cert", "key"};
constexpr std::array<std::string_view, 2> limits_keys{"max_channels", "channel_buffer_bytes"};

// A channel buffer holds at least one relayed packet with its framing; the ceilings keep a typo
// from reserving the machine's memory.
constexpr NumberRange max_channels_range{1, 1000000, "channels at once; 10000 by default"};
constexpr NumberRange channel_buffer_range{
    4096, 16 * 1024 * 1024, "bytes queued per channel; 524288 by default, 4096 holds a full packet"};

Status walk_key(Walker& walker, const YamlNode& root, GatewayKey& key) {
    constexpr std::string_view needs =
        "the gateway keeps its key in data_dir (generated on first start), such as "
        "key: {data_dir: /var/lib/pinhole-gateway}";
    const YamlNode* section = nullptr;
    const YamlNode* data_dir = nullptr;
    Status status = require_field(walker, root, "", "key", needs, section);
    if (status.ok()) status = check_mapping(walker, *section, "key", Keys(key_keys));
    if (status.ok()) status = require_field(walker, *section, "key", "data_dir", needs, data_dir);
    if (status.ok()) status = read_path(walker, *data_dir, "key.data_dir", key.data_dir);
    return status;
}

template <std::size_t N>
Status walk_endpoints(Walker& walker, const YamlNode& list, std::string_view where,
                      FixedVector<net::Endpoint, N>& endpoints) {
    return for_each_item(
        walker, list, where, "[\"[::]:8443\"]",
        [&](const YamlNode& item, const std::string& item_where) -> Status {
            net::Endpoint endpoint;
            if (auto status = read_bind_endpoint(walker, item, item_where, endpoint);
                !status.ok()) {
                return status;
            }
            if (std::find(endpoints.begin(), endpoints.end(), endpoint) != endpoints.end()) {
                return walker.fail(item, item_where, quote_value(item.text) + " is listed twice");
            }
            return append(walker, item, item_where, endpoints, endpoint, "endpoints",
                          "max_gateway_" + std::string(where) + "_endpoints in config/schema.h");
        });
}

Status walk_listen_and_udp(Walker& walker, const YamlNode& root, GatewayConfig& config) {
    const YamlNode* listen = nullptr;
    Status status = require_field(
        walker, root, "", "listen",
        "the TCP endpoints nodes connect to, such as listen: [\"[::]:8443\"]", listen);
    if (status.ok()) status = walk_endpoints(walker, *listen, "listen", config.listen);
    if (status.ok() && config.listen.empty()) {
        status =
            walker.fail(*listen, "listen",
                        "the list is empty: expected at least one endpoint, such as \"[::]:8443\"");
    }
    const YamlNode* udp = find_field(walker.tree(), root, "udp");
    if (!status.ok() || udp == nullptr) return status;
    if (status = walk_endpoints(walker, *udp, "udp", config.udp); !status.ok()) return status;
    if (config.udp.size() == 1) {
        return walker.fail(
            *udp, "udp",
            "NAT discovery needs two endpoints (two ports, or two addresses) to tell "
            "whether a NAT's mapping depends on the destination: add a second one, "
            "or remove udp: to relay only");
    }
    return {};
}

Status walk_tls(Walker& walker, const YamlNode& section, GatewayConfig& config) {
    const YamlNode* cert = nullptr;
    const YamlNode* key = nullptr;
    Status status = check_mapping(walker, section, "tls", Keys(tls_keys));
    if (status.ok()) {
        status = require_field(walker, section, "tls", "cert",
                               "the certificate file (PEM), such as gateway.crt", cert);
    }
    if (status.ok()) status = read_path(walker, *cert, "tls.cert", config.tls.cert);
    if (status.ok()) {
        status =
            require_field(walker, section, "tls", "key",
                          "the certificate's private key file (PEM), such as gateway.key", key);
    }
    if (status.ok()) status = read_path(walker, *key, "tls.key", config.tls.key);
    config.has_tls = status.ok();
    return status;
}

Status walk_limits(Walker& walker, const YamlNode& section, GatewayLimits& limits) {
    if (auto status = check_mapping(walker, section, "limits", Keys(limits_keys)); !status.ok()) {
        return status;
    }
    Status status;
    if (const YamlNode* channels = find_field(walker.tree(), section, "max_channels")) {
        status = read_number(walker, *channels, "limits.max_channels", max_channels_range,
                             limits.max_channels);
    }
    const YamlNode* buffer = find_field(walker.tree(), section, "channel_buffer_bytes");
    if (status.ok() && buffer != nullptr) {
        status = read_number(walker, *buffer, "limits.channel_buffer_bytes", channel_buffer_range,
                             limits.channel_buffer_bytes);
    }
    return status;
}

}  // namespace

Status walk_gateway_config(Walker& walker, const YamlNode& root, GatewayConfig& config) {
    if (auto status = check_mapping(walker, root, "", Keys(gateway_keys)); !status.ok()) {
        return status;
    }
    Status status = walk_key(walker, root, config.key);
    if (status.ok()) status = walk_listen_and_udp(walker, root, config);
    const YamlTree& tree = walker.tree();
    if (const YamlNode* tls = find_field(tree, root, "tls"); tls && status.ok()) {
        status = walk_tls(walker, *tls, config);
    }
    const YamlNode* authorized_keys = nullptr;
    if (status.ok()) {
        status =
            require_field(walker, root, "", "authorized_keys",
                          "the file naming which node keys may connect and whom they may reach, "
                          "such as authorized_keys: authorized_keys",
                          authorized_keys);
    }
    if (status.ok()) {
        status = read_path(walker, *authorized_keys, "authorized_keys", config.authorized_keys);
    }
    if (const YamlNode* limits = find_field(tree, root, "limits"); limits && status.ok()) {
        status = walk_limits(walker, *limits, config.limits);
    }
    return status;
}

}  // namespace pinhole::config
