// The agent's exit access list (DESIGN §1, "Proxy, not VPN"): for each flow a peer opens
// through this node, whether the node connects it and to where. Pure policy on the config: no
// I/O, no state, so the proxy and the service directory ask the same question the same way.
//
// The order of the checks, which decides the refusal reported:
//  1. unspecified, multicast or broadcast destinations and port 0 are refused (not_unicast);
//  2. the node's own overlay addresses open only services, by their overlay port;
//  3. a service rule also opens its service's literal target (127.0.0.1:22 for "ssh");
//  4. network rules open what their prefix and ports cover, except that loopback, link-local
//     and the node's own local addresses need a rule that names them, not a broader CIDR;
//  5. domain rules open an address when the agent's DNS told this peer, within the answer's
//     TTL, that a name the rule matches has it (core/acl/resolved_names.h); never loopback,
//     link-local or the device's own addresses (a name is not a rule that names them).
// IPv4-mapped destinations (::ffff:a.b.c.d) are judged, and connected, as the IPv4 address
// they reach: a dual-stack socket would send them there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "config/schema.h"
#include "core/acl/resolved_names.h"
#include "core/net/address.h"

namespace pinhole::acl {

enum class Refusal : std::uint8_t {
    none,
    no_matching_rule,        // nothing in the peer's allow: list covers destination:port
    not_a_service_port,      // to the node's own overlay address, a port no service has
    service_not_allowed,     // a service port, but the peer's allow: does not name that service
    special_address,         // loopback, link-local or own address covered only by a broader CIDR
    not_unicast,             // unspecified, multicast or (v4) broadcast destination, or port 0
    domain_rule_unresolved,  // only domain rules could match, and no name they match resolved
                             // to that address for this peer (within the answer's TTL)
};

// A short phrase for logs, e.g. "no allow rule covers it".
[[nodiscard]] const char* describe(Refusal reason) noexcept;

struct Decision {
    Refusal refusal = Refusal::none;           // none == allowed
    const config::Service* service = nullptr;  // the service reached, when it is one
    config::HostPort target;                   // where the agent connects, when allowed
    [[nodiscard]] bool allowed() const noexcept { return refusal == Refusal::none; }
};

// The node's own addresses: its overlay addresses (key-derived IPv6 + configured) and its
// local (underlay/LAN) interface addresses.
struct OwnAddresses {
    std::span<const net::IpAddress> overlay;
    std::span<const net::IpAddress> local;
};

// What the node's DNS resolved for the peer asking, for its domain rules; without a table,
// domain rules match nothing.
struct ResolvedFor {
    const ResolvedNames* names = nullptr;
    std::uint16_t peer = 0;  // the peer's id in that table
    std::uint32_t now_ms = 0;
};

// What `peer` may reach when it opens a flow to `destination` through this node.
[[nodiscard]] Decision decide(const config::NodeConfig& node, const config::Peer& peer,
                              const OwnAddresses& own, const net::Endpoint& destination,
                              const ResolvedFor& resolved = {}) noexcept;
// Whether some domain rule of `peer` matches `name` (lowercase, no trailing dot), on any port:
// the names worth remembering for it.
[[nodiscard]] bool has_domain_rule_for(const config::Peer& peer, std::string_view name) noexcept;
// Whether `peer` has a network or domain rule: names other than the node's own are resolved
// only for such a peer (one allowed services alone has nothing to look up).
[[nodiscard]] bool may_resolve_names(const config::Peer& peer) noexcept;
// Whether `peer` may reach service `service_index` (for the service directory the agent
// publishes).
[[nodiscard]] bool may_reach_service(const config::Peer& peer, std::size_t service_index) noexcept;

}  // namespace pinhole::acl
