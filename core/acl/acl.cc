#include "core/acl/acl.h"

namespace pinhole::acl {
namespace {

using config::AllowKind;
using config::AllowRule;

constexpr std::size_t v4_bits = 32;
constexpr std::size_t v6_bits = 128;
constexpr std::size_t v4_mapped_prefix_bits = 96;  // ::ffff:0:0/96

// The ranges a broader CIDR rule must not open (DESIGN §1): the device itself, not its LAN.
constexpr net::Prefix loopback_v4{net::IpAddress::v4(127, 0, 0, 0), 8};
constexpr net::Prefix loopback_v6{
    {net::Family::v6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, 128};
constexpr net::Prefix link_local_v4{net::IpAddress::v4(169, 254, 0, 0), 16};
constexpr net::Prefix link_local_v6{{net::Family::v6, {0xFE, 0x80}}, 10};

[[nodiscard]] Decision refuse(Refusal reason) noexcept {
    Decision decision;
    decision.refusal = reason;
    return decision;
}

[[nodiscard]] Decision reach(const config::Service* service,
                             const config::HostPort& target) noexcept {
    Decision decision;
    decision.service = service;
    decision.target = target;
    return decision;
}

[[nodiscard]] std::size_t address_bits(const net::IpAddress& address) noexcept {
    return address.is_v4() ? v4_bits : v6_bits;
}

// A mapped rule ("[::ffff:10.0.0.0/104]:22") judged as the IPv4 network it covers, as
// destinations are; any other prefix unchanged.
[[nodiscard]] net::Prefix unmapped(const net::Prefix& prefix) noexcept {
    if (prefix.length < v4_mapped_prefix_bits || !net::is_v4_mapped(prefix.address)) return prefix;
    return {net::unmapped(prefix.address),
            static_cast<std::uint8_t>(prefix.length - v4_mapped_prefix_bits)};
}

[[nodiscard]] bool is_one_of(std::span<const net::IpAddress> addresses,
                             const net::IpAddress& address) noexcept {
    for (const net::IpAddress& candidate : addresses) {
        if (net::unmapped(candidate) == address) return true;
    }
    return false;
}

// TCP and UDP flows go to one host on a real port; anything else is not a connection to make.
[[nodiscard]] bool is_unicast(const net::Endpoint& destination) noexcept {
    const net::IpAddress& address = destination.address;
    const bool broadcast = address.is_v4() && address.bytes[0] == 0xFF &&
                           address.bytes[1] == 0xFF && address.bytes[2] == 0xFF &&
                           address.bytes[3] == 0xFF;
    return destination.port != 0 && !net::is_unspecified(address) && !net::is_multicast(address) &&
           !broadcast;
}

[[nodiscard]] bool covers_port(const AllowRule& rule, std::uint16_t port) noexcept {
    for (const config::PortRange& range : rule.ports) {
        if (range.first <= port && port <= range.last) return true;
    }
    return false;
}

// Whether every address of `inner` is inside `outer`.
[[nodiscard]] bool lies_within(const net::Prefix& inner, const net::Prefix& outer) noexcept {
    return inner.length >= outer.length && net::prefix_contains(outer, inner.address);
}

[[nodiscard]] bool is_special(const net::IpAddress& address, const OwnAddresses& own) noexcept {
    return net::is_loopback(address) || net::is_link_local(address) ||
           is_one_of(own.local, address);
}

// Whether `network`, which contains the special `address`, names it rather than sweeping it in:
// it stays inside each special range the address is in, and is exactly the address when that
// is one of the device's own.
[[nodiscard]] bool names_explicitly(const net::Prefix& network, const net::IpAddress& address,
                                    const OwnAddresses& own) noexcept {
    const bool v4 = address.is_v4();
    if (net::is_loopback(address) && !lies_within(network, v4 ? loopback_v4 : loopback_v6)) {
        return false;
    }
    if (net::is_link_local(address) && !lies_within(network, v4 ? link_local_v4 : link_local_v6)) {
        return false;
    }
    if (is_one_of(own.local, address)) {
        return network.length == address_bits(address) && network.address == address;
    }
    return true;
}

// The node's own overlay address offers its services by port, and nothing else: network
// rules never open it.
[[nodiscard]] Decision decide_overlay(const config::NodeConfig& node, const config::Peer& peer,
                                      std::uint16_t port) noexcept {
    for (std::size_t i = 0; i < node.services.size(); ++i) {
        const config::Service& service = node.services[i];
        if (service.port != port) continue;
        if (!may_reach_service(peer, i)) return refuse(Refusal::service_not_allowed);
        return reach(&service, service.target);
    }
    return refuse(Refusal::not_a_service_port);
}

// A service the peer may reach whose literal target is `destination` (dialled directly rather
// than through the overlay port); host-name targets are reached only through the overlay port.
[[nodiscard]] const config::Service* service_at(const config::NodeConfig& node,
                                                const config::Peer& peer,
                                                const net::Endpoint& destination) noexcept {
    for (const AllowRule& rule : peer.allow) {
        if (rule.kind != AllowKind::service || rule.service_index >= node.services.size()) continue;
        const config::Service& service = node.services[rule.service_index];
        if (!service.target.host_name.empty()) continue;
        const net::Endpoint& target = service.target.endpoint;
        if (target.port == destination.port &&
            net::unmapped(target.address) == destination.address) {
            return &service;
        }
    }
    return nullptr;
}

// Whether a domain rule opens `destination`: a name it matches resolved there for this peer.
[[nodiscard]] bool domain_opens(const AllowRule& rule, const net::Endpoint& destination,
                                const ResolvedFor& resolved) noexcept {
    return resolved.names != nullptr &&
           resolved.names->resolved_to(resolved.peer, rule, destination.address, resolved.now_ms);
}

[[nodiscard]] Decision decide_by_rules(const config::Peer& peer, const OwnAddresses& own,
                                       const net::Endpoint& destination,
                                       const ResolvedFor& resolved) noexcept {
    const bool special = is_special(destination.address, own);
    bool swept_in_special = false;
    bool domain_could_match = false;
    for (const AllowRule& rule : peer.allow) {
        if (rule.kind == AllowKind::service || !covers_port(rule, destination.port)) continue;
        if (rule.kind == AllowKind::domain) {
            if (!domain_opens(rule, destination, resolved)) {
                domain_could_match = true;
            } else if (special) {
                swept_in_special = true;  // a name never names the device itself
            } else {
                return reach(nullptr, config::HostPort{{}, destination});
            }
            continue;
        }
        const net::Prefix network = unmapped(rule.network);
        if (!net::prefix_contains(network, destination.address)) continue;
        if (special && !names_explicitly(network, destination.address, own)) {
            swept_in_special = true;
            continue;
        }
        return reach(nullptr, config::HostPort{{}, destination});
    }
    if (swept_in_special) return refuse(Refusal::special_address);
    if (domain_could_match) return refuse(Refusal::domain_rule_unresolved);
    return refuse(Refusal::no_matching_rule);
}

}  // namespace

const char* describe(Refusal reason) noexcept {
    switch (reason) {
        case Refusal::none: return "allowed";
        case Refusal::no_matching_rule: return "no allow rule covers it";
        case Refusal::not_a_service_port: return "no service has that port on the node";
        case Refusal::service_not_allowed: return "the peer is not allowed that service";
        case Refusal::special_address:
            return "loopback, link-local or own address covered only by a broader network rule";
        case Refusal::not_unicast: return "not a unicast address and port";
        case Refusal::domain_rule_unresolved:
            return "only a domain rule could match, and no name it matches resolved to that "
                   "address for this peer (ask the agent's DNS first)";
    }
    return "unknown refusal";
}

Decision decide(const config::NodeConfig& node, const config::Peer& peer, const OwnAddresses& own,
                const net::Endpoint& destination, const ResolvedFor& resolved) noexcept {
    const net::Endpoint to{net::unmapped(destination.address), destination.port};
    // First, so a port-0 or unset destination never reaches a service or a rule.
    if (!is_unicast(to)) return refuse(Refusal::not_unicast);
    if (is_one_of(own.overlay, to.address)) return decide_overlay(node, peer, to.port);
    if (const config::Service* service = service_at(node, peer, to)) {
        return reach(service, service->target);
    }
    return decide_by_rules(peer, own, to, resolved);
}

bool may_reach_service(const config::Peer& peer, std::size_t service_index) noexcept {
    for (const AllowRule& rule : peer.allow) {
        if (rule.kind == AllowKind::service && rule.service_index == service_index) return true;
    }
    return false;
}

bool has_domain_rule_for(const config::Peer& peer, std::string_view name) noexcept {
    for (const AllowRule& rule : peer.allow) {
        if (domain_rule_matches(rule, name)) return true;
    }
    return false;
}

bool may_resolve_names(const config::Peer& peer) noexcept {
    for (const AllowRule& rule : peer.allow) {
        if (rule.kind != AllowKind::service) return true;
    }
    return false;
}

}  // namespace pinhole::acl
