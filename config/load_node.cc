// The node schema (DESIGN §3b): an agent on a device or a client on a laptop.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "config/sections.h"
#include "config/values.h"

namespace pinhole::config {
namespace {

using Keys = std::span<const std::string_view>;
constexpr std::array<std::string_view, 7> node_keys{"key",     "listen_port", "address", "mtu",
                                                    "gateway", "services",    "peers"};
constexpr std::array<std::string_view, 2> key_keys{"private_key", "data_dir"};
constexpr std::array<std::string_view, 4> gateway_keys{"url", "public_key", "cert_sha256",
                                                       "ca_file"};
constexpr std::array<std::string_view, 3> service_keys{"target", "port", "proxy_protocol"};
constexpr std::array<std::string_view, 8> peer_keys{
    "name",  "public_key", "preshared_key_file", "endpoint", "allowed_ips", "persistent_keepalive",
    "allow", "path"};

// The DNS server of the node answers on port 53 of its overlay addresses.
constexpr std::uint16_t dns_port = 53;

Status walk_key(Walker& walker, const YamlNode& root, NodeKey& key) {
    constexpr std::string_view needs =
        "a node needs `data_dir` (where it keeps its key, generated on first start) or "
        "`private_key` (as `wg genkey` prints it)";
    const YamlNode* section = nullptr;
    if (auto status = require_field(walker, root, "", "key", needs, section); !status.ok()) {
        return status;
    }
    if (auto status = check_mapping(walker, *section, "key", Keys(key_keys)); !status.ok()) {
        return status;
    }
    const YamlTree& tree = walker.tree();
    const YamlNode* private_key = find_field(tree, *section, "private_key");
    const YamlNode* data_dir = find_field(tree, *section, "data_dir");
    if (private_key == nullptr && data_dir == nullptr) return walker.fail(*section, "key", needs);
    if (private_key != nullptr) {
        key.has_private_key = true;
        const Status status = read_key(walker, *private_key, "key.private_key",
                                       KeySecrecy::private_key, key.private_key);
        if (!status.ok()) return status;
    }
    if (data_dir != nullptr) return read_path(walker, *data_dir, "key.data_dir", key.data_dir);
    return {};
}

Status walk_addresses(Walker& walker, const YamlNode& node, NodeConfig& config) {
    return for_each_item(
        walker, node, "address", "address: [\"10.77.0.2/32\"]",
        [&](const YamlNode& item, const std::string& where) -> Status {
            InterfaceAddress address;
            if (auto status = read_interface_address(walker, item, where, address); !status.ok()) {
                return status;
            }
            if (std::find(config.address.begin(), config.address.end(), address) !=
                config.address.end()) {
                return walker.fail(item, where, quote_value(item.text) + " is listed twice");
            }
            return append(walker, item, where, config.address, address, "addresses",
                          "max_node_addresses in config/schema.h");
        });
}

Status walk_mtu(Walker& walker, const YamlNode& node, NodeConfig& config) {
    std::string why = "1420 is WireGuard's default; 1280 is the smallest IPv6 allows";
    if (max_mtu_bytes < 1500) {
        why += "; PINHOLE_BUDGET_OVERLAY_MTU_BYTES caps this board at " +
               std::to_string(max_mtu_bytes);
    }
    std::uint32_t mtu = 0;
    const Status status =
        read_number(walker, node, "mtu", {min_mtu_bytes, max_mtu_bytes, why}, mtu);
    config.mtu_bytes = static_cast<std::uint16_t>(mtu);
    return status;
}

Status check_pins(Walker& walker, const YamlNode& section, const NodeGateway& gateway) {
    const YamlTree& tree = walker.tree();
    const YamlNode* pin = find_field(tree, section, "cert_sha256");
    const YamlNode* ca_file = find_field(tree, section, "ca_file");
    if (pin != nullptr && ca_file != nullptr) {
        return walker.fail(*ca_file, "gateway.ca_file",
                           "set cert_sha256 or ca_file, not both: the pin alone decides which "
                           "certificate is trusted");
    }
    const YamlNode* either = pin != nullptr ? pin : ca_file;
    const bool has_tls =
        gateway.url.transport == Transport::tls || gateway.url.transport == Transport::wss;
    if (either != nullptr && !has_tls) {
        return walker.fail(*either, pin != nullptr ? "gateway.cert_sha256" : "gateway.ca_file",
                           "the gateway URL has no TLS to check: use tls:// or wss://, or remove "
                           "this line (the gateway's public key is pinned either way)");
    }
    return {};
}

Status walk_gateway(Walker& walker, const YamlNode& section, NodeConfig& config) {
    if (auto status = check_mapping(walker, section, "gateway", Keys(gateway_keys)); !status.ok()) {
        return status;
    }
    NodeGateway& gateway = config.gateway;
    const YamlNode* url = nullptr;
    const YamlNode* public_key = nullptr;
    Status status =
        require_field(walker, section, "gateway", "url",
                      "where the relay gateway listens, such as tcp://gw.example.net:8443", url);
    if (status.ok()) status = read_gateway_url(walker, *url, "gateway.url", gateway.url);
    if (status.ok()) {
        status =
            require_field(walker, section, "gateway", "public_key",
                          "the gateway's public key, pinned (its operator has it)", public_key);
    }
    if (status.ok()) {
        status = read_key(walker, *public_key, "gateway.public_key", KeySecrecy::public_key,
                          gateway.public_key);
    }
    if (!status.ok()) return status;
    if (const YamlNode* pin = find_field(walker.tree(), section, "cert_sha256")) {
        gateway.has_cert_sha256 = true;
        if (status = read_sha256(walker, *pin, "gateway.cert_sha256", gateway.cert_sha256);
            !status.ok()) {
            return status;
        }
    }
    if (const YamlNode* ca_file = find_field(walker.tree(), section, "ca_file")) {
        if (status = read_path(walker, *ca_file, "gateway.ca_file", gateway.ca_file);
            !status.ok()) {
            return status;
        }
    }
    config.has_gateway = true;
    return check_pins(walker, section, gateway);
}

Status read_proxy_protocol(Walker& walker, const YamlNode& node, std::string_view where,
                           ProxyProtocol& protocol) {
    std::string_view text;
    constexpr std::string_view expected = "v2 (PROXY protocol version 2) or none";
    if (auto status = read_text(walker, node, where, expected, text); !status.ok()) return status;
    if (text == "v2" || text == "none") {
        protocol = text == "v2" ? ProxyProtocol::v2 : ProxyProtocol::none;
        return {};
    }
    return walker.fail(node, where,
                       quote_value(text) + " is not supported: expected " + std::string(expected));
}

// `web: {target: 192.168.1.10:80, port: 8080, proxy_protocol: v2}`
Status read_service_mapping(Walker& walker, const YamlNode& node, const std::string& where,
                            Service& service) {
    if (auto status = check_mapping(walker, node, where, Keys(service_keys)); !status.ok()) {
        return status;
    }
    const YamlNode* target = nullptr;
    Status status = require_field(walker, node, where, "target",
                                  "where streams go, such as 192.168.1.10:80", target);
    if (status.ok()) {
        status = read_host_port(walker, *target, member_path(where, "target"), service.target);
    }
    if (!status.ok()) return status;
    service.port = service.target.endpoint.port;
    if (const YamlNode* port = find_field(walker.tree(), node, "port")) {
        std::uint32_t number = 0;
        status = read_number(walker, *port, member_path(where, "port"),
                             {1, 65535, "the port on this node's overlay address"}, number);
        service.port = static_cast<std::uint16_t>(number);
    }
    if (const YamlNode* protocol = find_field(walker.tree(), node, "proxy_protocol");
        protocol && status.ok()) {
        status = read_proxy_protocol(walker, *protocol, member_path(where, "proxy_protocol"),
                                     service.proxy_protocol);
    }
    return status;
}

Status check_service_port(Walker& walker, const YamlNode& node, const std::string& where,
                          const NodeConfig& config, const Service& service) {
    const YamlNode* port = find_field(walker.tree(), node, "port");
    const YamlNode& at = port != nullptr ? *port : node;
    if (service.port == dns_port) {
        return walker.fail(at, where,
                           "port 53 on the overlay address is this node's DNS server: "
                           "set `port:` to another one");
    }
    for (const Service& other : config.services) {
        if (other.port == service.port) {
            return walker.fail(
                at, where,
                "port " + std::to_string(service.port) + " is already the port of service " +
                    quote_value(other.name.view()) + ": each service needs its own; set `port:`");
        }
    }
    return {};
}

Status walk_services(Walker& walker, const YamlNode& section, NodeConfig& config) {
    if (section.kind != YamlNode::Kind::null && section.kind != YamlNode::Kind::mapping) {
        return walker.fail(section, "services",
                           "expected a mapping of names to targets, such as `ssh: 127.0.0.1:22`");
    }
    const YamlTree& tree = walker.tree();
    for (std::size_t i = 0; i + 1 < section.children.size(); i += 2) {
        const YamlNode& name = tree.child(section, i);
        const YamlNode& value = tree.child(section, i + 1);
        const std::string where = member_path("services", name.text);
        Service service;
        if (auto status = read_name(walker, name, "services", service.name); !status.ok()) {
            return status;
        }
        const auto same_name = [&](const Service& other) { return other.name == service.name; };
        if (std::any_of(config.services.begin(), config.services.end(), same_name)) {
            return walker.fail(name, "services",
                               quote_value(name.text) + " is defined twice; keep one");
        }
        Status status = value.kind == YamlNode::Kind::mapping
                            ? read_service_mapping(walker, value, where, service)
                            : read_host_port(walker, value, where, service.target);
        if (value.kind != YamlNode::Kind::mapping) service.port = service.target.endpoint.port;
        if (status.ok()) status = check_service_port(walker, value, where, config, service);
        if (status.ok()) {
            status = append(walker, name, "services", config.services, service, "services",
                            "max_services in config/schema.h");
        }
        if (!status.ok()) return status;
    }
    return {};
}

Status fail_unknown_service(Walker& walker, const YamlNode& node, std::string_view where,
                            std::string_view name, const NodeConfig& config) {
    std::vector<std::string_view> names;
    for (const Service& service : config.services) names.push_back(service.name.view());
    std::string message = quote_value(name) + " is not a service of this node";
    const std::string_view suggestion = closest_match(name, names);
    if (!suggestion.empty())
        return walker.fail(node, where,
                           message + ": did you mean " + quote_value(suggestion) + "?");
    if (names.empty()) return walker.fail(node, where, message + " (it defines no `services:`)");
    message += ": expected one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        message += (i == 0 ? "" : ", ") + std::string(names[i]);
    }
    return walker.fail(node, where, message + ", or network:ports such as 192.168.1.0/24:80,443");
}

// The part before the ports: "[fd00::/64]", "192.168.1.0/24", "10.0.0.5", "printer.lan", "*.lan".
Problem parse_allow_target(std::string_view target, AllowRule& rule) {
    if (target.starts_with('[') && target.ends_with(']')) {
        rule.kind = AllowKind::network;
        const Problem problem = parse_network(target.substr(1, target.size() - 2), rule.network);
        if (problem || rule.network.address.is_v6()) return problem;
        return "has an IPv4 network in brackets: brackets are for IPv6 only";
    }
    if (target.find(':') != std::string_view::npos) {
        return "has an IPv6 network without brackets: write it as [fd00::/64]:22";
    }
    const std::size_t slash = target.find('/');
    if (slash != std::string_view::npos || net::parse_address(target).ok()) {
        rule.kind = AllowKind::network;
        return parse_network(target, rule.network);
    }
    rule.kind = AllowKind::domain;
    rule.any_subdomain = target.starts_with("*.");
    const std::string_view name = rule.any_subdomain ? target.substr(2) : target;
    if (name.find('*') != std::string_view::npos) {
        return "has a * that is not a whole first label: expected *.lan:22 (names under lan) or "
               "a network such as 0.0.0.0/0:22";
    }
    return parse_host_name(name, rule.domain);
}

Status read_allow_rule(Walker& walker, const YamlNode& node, const std::string& where,
                       const NodeConfig& config, AllowRule& rule) {
    constexpr std::string_view expected =
        "a service name such as ssh, network:ports such as \"192.168.1.0/24:80,443\", or "
        "host:ports such as \"*.lan:22\"";
    std::string_view text;
    if (auto status = read_text(walker, node, where, expected, text); !status.ok()) return status;
    const std::size_t close = text.starts_with('[') ? text.find(']') : 0;
    if (close == std::string_view::npos) {
        return walker.fail(
            node, where,
            quote_value(text) + " has `[` without `]`: expected such as \"[fd00::/64]:22\"");
    }
    // In brackets, the ports follow the `]`; otherwise the last `:` (an IPv6 network without
    // brackets then shows as one, and is refused with the fix).
    const std::size_t colon = close > 0 ? text.find(':', close) : text.rfind(':');
    if (colon == std::string_view::npos && text.find_first_of("./*[") != std::string_view::npos) {
        return walker.fail(node, where,
                           quote_value(text) + " needs ports: expected such as " +
                               quote_value(std::string(text) + ":22") + ", " +
                               quote_value(std::string(text) + ":80,443") + " or " +
                               quote_value(std::string(text) + ":*") + " for every port");
    }
    if (colon == std::string_view::npos) {
        for (std::size_t i = 0; i < config.services.size(); ++i) {
            if (config.services[i].name.view() == text) {
                rule.kind = AllowKind::service;
                rule.service_index = static_cast<std::uint8_t>(i);
                return {};
            }
        }
        return fail_unknown_service(walker, node, where, text, config);
    }
    Problem problem = parse_allow_target(text.substr(0, colon), rule);
    if (!problem) problem = parse_port_list(text.substr(colon + 1), rule.ports);
    if (!problem) return {};
    return walker.fail(node, where, quote_value(text) + " " + *problem);
}

Status read_path_policy(Walker& walker, const YamlNode& node, std::string_view where,
                        bool has_gateway, PathPolicy& path) {
    constexpr std::array<std::string_view, 3> names{"auto", "direct", "relay"};
    std::string_view text;
    if (auto status = read_text(walker, node, where, "auto, direct or relay", text); !status.ok()) {
        return status;
    }
    const auto found = std::find(names.begin(), names.end(), text);
    if (found == names.end()) {
        return walker.fail(node, where,
                           quote_value(text) +
                               " is not a path: expected auto (direct when "
                               "possible, else relay), direct or relay");
    }
    path = static_cast<PathPolicy>(found - names.begin());
    if (path == PathPolicy::relay && !has_gateway) {
        return walker.fail(node, where, "relay needs a `gateway:` section to relay through");
    }
    return {};
}

// name and public_key: required, and unique among the peers.
Status walk_peer_identity(Walker& walker, const YamlNode& node, const std::string& where,
                          const NodeConfig& config, Peer& peer) {
    const YamlNode* name = nullptr;
    const YamlNode* key = nullptr;
    Status status =
        require_field(walker, node, where, "name", "every peer needs a name, such as laptop", name);
    if (status.ok()) status = read_name(walker, *name, member_path(where, "name"), peer.name);
    if (status.ok()) {
        status = require_field(walker, node, where, "public_key",
                               "every peer needs the public key it proves itself with (`wg pubkey` "
                               "prints it)",
                               key);
    }
    if (status.ok()) {
        status = read_key(walker, *key, member_path(where, "public_key"), KeySecrecy::public_key,
                          peer.public_key);
    }
    for (std::size_t i = 0; status.ok() && i < config.peers.size(); ++i) {
        const Peer& other = config.peers[i];
        if (other.name == peer.name) {
            status = walker.fail(
                *name, member_path(where, "name"),
                quote_value(peer.name.view()) + " is already the name of " + item_path("peers", i));
        } else if (other.public_key == peer.public_key) {
            status = walker.fail(*key, member_path(where, "public_key"),
                                 "the same key as " + item_path("peers", i) + " (" +
                                     quote_value(other.name.view()) +
                                     "): one key is one peer, or they steal each other's sessions");
        }
    }
    return status;
}

Status walk_peer_lists(Walker& walker, const YamlNode& node, const std::string& where,
                       const NodeConfig& config, Peer& peer) {
    Status status;
    if (const YamlNode* list = find_field(walker.tree(), node, "allowed_ips")) {
        status = for_each_item(
            walker, *list, member_path(where, "allowed_ips"), "allowed_ips: [\"10.77.0.3/32\"]",
            [&](const YamlNode& item, const std::string& item_where) -> Status {
                net::Prefix network;
                if (auto read = read_network(walker, item, item_where, network); !read.ok()) {
                    return read;
                }
                if (std::find(peer.allowed_ips.begin(), peer.allowed_ips.end(), network) !=
                    peer.allowed_ips.end()) {
                    return walker.fail(item, item_where,
                                       quote_value(item.text) + " is listed twice");
                }
                return append(walker, item, item_where, peer.allowed_ips, network, "allowed_ips",
                              "max_allowed_ips_per_peer in config/schema.h");
            });
    }
    const YamlNode* allow = find_field(walker.tree(), node, "allow");
    if (allow == nullptr || !status.ok()) return status;
    return for_each_item(
        walker, *allow, member_path(where, "allow"), "allow: [ssh, \"10.0.0.5:22\"]",
        [&](const YamlNode& item, const std::string& item_where) -> Status {
            AllowRule rule;
            if (auto read = read_allow_rule(walker, item, item_where, config, rule); !read.ok()) {
                return read;
            }
            return append(
                walker, item, item_where, peer.allow, rule, "allow rules",
                "max_allow_rules_per_peer in config/schema.h; a CIDR rule covers many hosts");
        });
}

Status walk_peer(Walker& walker, const YamlNode& node, const std::string& where,
                 const NodeConfig& config, Peer& peer) {
    if (auto status = check_mapping(walker, node, where, Keys(peer_keys)); !status.ok()) {
        return status;
    }
    if (node.kind == YamlNode::Kind::null) {
        return walker.fail(node, where, "the peer is empty: expected name:, public_key: and more");
    }
    Status status = walk_peer_identity(walker, node, where, config, peer);
    const YamlTree& tree = walker.tree();
    const YamlNode* psk = find_field(tree, node, "preshared_key_file");
    if (status.ok() && psk != nullptr) {
        status = read_path(walker, *psk, member_path(where, "preshared_key_file"),
                           peer.preshared_key_file);
    }
    const YamlNode* endpoint = find_field(tree, node, "endpoint");
    if (status.ok() && endpoint != nullptr) {
        peer.has_endpoint = true;
        status = read_host_port(walker, *endpoint, member_path(where, "endpoint"), peer.endpoint);
    }
    const YamlNode* keepalive = find_field(tree, node, "persistent_keepalive");
    if (status.ok() && keepalive != nullptr) {
        std::uint32_t seconds = 0;
        status =
            read_number(walker, *keepalive, member_path(where, "persistent_keepalive"),
                        {0, 65535, "seconds; 0 turns it off; 25 keeps most NATs open"}, seconds);
        peer.persistent_keepalive_seconds = static_cast<std::uint16_t>(seconds);
    }
    const YamlNode* path = find_field(tree, node, "path");
    if (status.ok() && path != nullptr) {
        status = read_path_policy(walker, *path, member_path(where, "path"), config.has_gateway,
                                  peer.path);
    }
    if (status.ok()) status = walk_peer_lists(walker, node, where, config, peer);
    return status;
}

Status walk_peers(Walker& walker, const YamlNode& section, NodeConfig& config) {
    return for_each_item(
        walker, section, "peers", "a list of `- name: ...` entries",
        [&](const YamlNode& item, const std::string& where) -> Status {
            if (config.peers.full()) {
                return fail_capacity(walker, item, where, "peers", max_peers,
                                     "PINHOLE_BUDGET_MAX_PEERS in the " PINHOLE_BOARD_NAME
                                     " board's "
                                     "board_budget.h");
            }
            Peer peer;
            if (auto status = walk_peer(walker, item, where, config, peer); !status.ok()) {
                return status;
            }
            return config.peers.push_back(peer);  // has room: checked above
        });
}

}  // namespace

Status walk_node_config(Walker& walker, const YamlNode& root, NodeConfig& config) {
    if (auto status = check_mapping(walker, root, "", Keys(node_keys)); !status.ok()) return status;
    Status status = walk_key(walker, root, config.key);
    const YamlTree& tree = walker.tree();
    if (const YamlNode* port = find_field(tree, root, "listen_port"); port && status.ok()) {
        std::uint32_t number = 0;
        status =
            read_number(walker, *port, "listen_port",
                        {0, 65535, "the UDP port for WireGuard; 0 picks any free port"}, number);
        config.listen_port = static_cast<std::uint16_t>(number);
    }
    if (const YamlNode* address = find_field(tree, root, "address"); address && status.ok()) {
        status = walk_addresses(walker, *address, config);
    }
    if (const YamlNode* mtu = find_field(tree, root, "mtu"); mtu && status.ok()) {
        status = walk_mtu(walker, *mtu, config);
    }
    if (const YamlNode* gateway = find_field(tree, root, "gateway"); gateway && status.ok()) {
        status = walk_gateway(walker, *gateway, config);
    }
    if (const YamlNode* services = find_field(tree, root, "services"); services && status.ok()) {
        status = walk_services(walker, *services, config);
    }
    if (const YamlNode* peers = find_field(tree, root, "peers"); peers && status.ok()) {
        status = walk_peers(walker, *peers, config);
    }
    return status;
}

}  // namespace pinhole::config
