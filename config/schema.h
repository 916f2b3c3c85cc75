// The configuration of a node (agent or client) and of the gateway, DESIGN §3b, as plain
// structs. Portable on purpose: no heap, every list and string has a capacity fixed at compile
// time, so a later build step can turn a YAML file into a constant config for a firmware image.
// The YAML loader (config/load.h, Linux only) fills them and refuses anything that does not fit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "board_budget.h"
#include "config/fixed_string.h"
#include "core/net/address.h"
#include "core/util/fixed_vector.h"

namespace pinhole::config {

// Capacities. Peers follow the board's budget; the others are fixed here, sized for realistic
// configs while keeping a firmware image's constant config small. Exceeding one is a load error.
inline constexpr std::size_t max_peers = PINHOLE_BUDGET_MAX_PEERS;
inline constexpr std::size_t max_services = 16;
inline constexpr std::size_t max_node_addresses = 4;
inline constexpr std::size_t max_allowed_ips_per_peer = 8;
inline constexpr std::size_t max_allow_rules_per_peer = 16;
inline constexpr std::size_t max_port_ranges_per_rule = 8;
inline constexpr std::size_t max_gateway_listen_endpoints = 4;
inline constexpr std::size_t max_gateway_udp_endpoints = 4;
// Names of peers and services become DNS labels (<service>.<node>); 31 keeps them readable.
inline constexpr std::size_t max_name_chars = 31;
inline constexpr std::size_t max_host_name_chars = 253;  // the longest DNS name (RFC 1035)
inline constexpr std::size_t max_path_chars = 255;
inline constexpr std::size_t max_url_path_chars = 127;

// Overlay MTU: 1280 is the smallest IPv6 allows; 1500 fills an Ethernet frame. The board's
// buffers are sized for PINHOLE_BUDGET_OVERLAY_MTU_BYTES, which may lower the ceiling.
inline constexpr std::uint16_t min_mtu_bytes = 1280;
inline constexpr std::uint16_t max_mtu_bytes =
    PINHOLE_BUDGET_OVERLAY_MTU_BYTES < 1500 ? PINHOLE_BUDGET_OVERLAY_MTU_BYTES : 1500;
inline constexpr std::uint16_t default_mtu_bytes = max_mtu_bytes < 1420 ? max_mtu_bytes : 1420;
static_assert(max_mtu_bytes >= min_mtu_bytes, "the board's overlay MTU budget is below 1280");

using Name = FixedString<max_name_chars>;
using HostName = FixedString<max_host_name_chars>;
using Path = FixedString<max_path_chars>;  // absolute once loaded: relative ones are resolved
using KeyBytes = std::array<std::uint8_t, 32>;  // an X25519 key, decoded from WireGuard's base64

// Somewhere to connect to: a literal address, or a host name resolved when the node connects.
struct HostPort {
    HostName host_name;      // empty when endpoint.address is a literal address
    net::Endpoint endpoint;  // the port always; the address is Family::none for a host name
};

// ---- node -------------------------------------------------------------------------------

struct NodeKey {
    bool has_private_key = false;
    KeyBytes private_key{};  // wins over the key files in data_dir
    Path data_dir;           // agent_key (0600) and agent_key.pub (0644); empty when not set
};

// One of the node's own overlay addresses. Not a net::Prefix: the host bits are the point.
struct InterfaceAddress {
    net::IpAddress address;
    std::uint8_t prefix_length = 0;
    friend constexpr bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

enum class Transport : std::uint8_t { tcp, tls, ws, wss };

struct GatewayUrl {
    Transport transport = Transport::tcp;
    HostPort server;
    // ws and wss only: the path of the WebSocket upgrade, "/pinhole" by default.
    FixedString<max_url_path_chars> path;
};

struct NodeGateway {
    GatewayUrl url;
    KeyBytes public_key{};  // the gateway's X25519 key (Noise_IK), pinned
    bool has_cert_sha256 = false;
    std::array<std::uint8_t, 32> cert_sha256{};  // pin of the TLS certificate (tls, wss)
    Path ca_file;  // or: trust this CA for the TLS certificate; empty when not set
};

enum class ProxyProtocol : std::uint8_t { none, v2 };

struct Service {
    Name name;
    HostPort target;              // where the node connects for each stream
    std::uint16_t port = 0;       // on the node's overlay addresses; the target's port by default
    ProxyProtocol proxy_protocol = ProxyProtocol::none;
};

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;  // inclusive; first == last for a single port
};

enum class AllowKind : std::uint8_t {
    service,  // "ssh": a service of this node, by name
    network,  // "192.168.1.0/24:80,443", "10.0.0.5:22", "[fd00::/64]:*"
    domain,   // "printer.lan:631", "*.lan:22": names this node resolved for the peer
};

struct AllowRule {
    AllowKind kind = AllowKind::service;
    std::uint8_t service_index = 0;  // service: index into NodeConfig::services
    net::Prefix network;             // network: host bits are zero
    HostName domain;                 // domain: lowercase, without a leading "*."
    bool any_subdomain = false;      // domain: "*.lan" matches names under lan, not lan itself
    FixedVector<PortRange, max_port_ranges_per_rule> ports;  // network, domain; "*" is 1-65535
};

enum class PathPolicy : std::uint8_t { automatic, direct, relay };

struct Peer {
    Name name;
    KeyBytes public_key{};
    Path preshared_key_file;  // a `wg genpsk` key, read when the node starts; empty when not set
    bool has_endpoint = false;
    HostPort endpoint;        // a static UDP endpoint
    FixedVector<net::Prefix, max_allowed_ips_per_peer> allowed_ips;
    std::uint16_t persistent_keepalive_seconds = 0;  // 0: off
    FixedVector<AllowRule, max_allow_rules_per_peer> allow;  // empty: this peer reaches nothing
    PathPolicy path = PathPolicy::automatic;
};

struct NodeConfig {
    NodeKey key;
    std::uint16_t listen_port = 0;  // UDP for WireGuard; 0: any free port
    FixedVector<InterfaceAddress, max_node_addresses> address;  // besides the key-derived IPv6
    std::uint16_t mtu_bytes = default_mtu_bytes;
    bool has_gateway = false;
    NodeGateway gateway;
    FixedVector<Service, max_services> services;
    FixedVector<Peer, max_peers> peers;
};

// ---- gateway ----------------------------------------------------------------------------

struct GatewayKey {
    Path data_dir;
};

struct TlsFiles {
    Path cert;
    Path key;
};

struct GatewayLimits {
    std::uint32_t max_channels = 10000;
    std::uint32_t channel_buffer_bytes = 524288;
};

struct GatewayConfig {
    GatewayKey key;
    FixedVector<net::Endpoint, max_gateway_listen_endpoints> listen;  // TCP
    bool has_tls = false;
    TlsFiles tls;  // TLS and the WebSocket upgrade on the listen endpoints when set
    FixedVector<net::Endpoint, max_gateway_udp_endpoints> udp;  // NAT discovery: none, or 2+
    Path authorized_keys;
    GatewayLimits limits;
};

}  // namespace pinhole::config
