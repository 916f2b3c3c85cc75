#include "core/overlay/overlay_stack.h"

#include <algorithm>
#include <cstring>

#include <lwip/ip.h>
#include <lwip/pbuf.h>

#include "core/keys/keys.h"
#include "core/overlay/lwip_address.h"
#include "core/util/assert.h"
#include "pinhole_lwip_hooks.h"

namespace pinhole::overlay {
namespace {

net::Prefix host_prefix(const net::IpAddress& address) {
    return net::Prefix{address, static_cast<std::uint8_t>(address.is_v4() ? 32 : 128)};
}

}  // namespace

OverlayStack::OverlayStack(OverlayOutput& output, const crypto::X25519Key& own_public_key) noexcept
    : output_(output), own_address_(keys::overlay_address(own_public_key)) {
    // lwIP is one instance per process: a second stack would fight over it. Our netifs and
    // the service ports are how lwIP shows that a stack exists already.
    struct netif* existing = nullptr;
    NETIF_FOREACH(existing) PINHOLE_ASSERT(existing->output_ip6 != &OverlayStack::output_ip6);
    echo_listener_ = listen_on(echo_port);
    discard_listener_ = listen_on(discard_port);
    PINHOLE_ASSERT(echo_listener_ != nullptr && discard_listener_ != nullptr);
    tcp_accept(echo_listener_, &OverlayStack::on_accept_echo);
    tcp_accept(discard_listener_, &OverlayStack::on_accept_discard);
    for (Connection& connection : connections_) connection.stack = this;
}

OverlayStack::~OverlayStack() {
    for (Connection& connection : connections_) {
        if (!connection.used) continue;
        tcp_pcb* pcb = connection.pcb;
        release(connection);
        tcp_abort(pcb);  // its error callback was cleared: the slot is gone already
    }
    (void)tcp_close(echo_listener_);  // a listener closes without failing
    (void)tcp_close(discard_listener_);
    for (PeerNetif& peer_netif : peers_) {
        if (peer_netif.used) netif_remove(&peer_netif.lwip_netif);
    }
}

tcp_pcb* OverlayStack::listen_on(std::uint16_t port) noexcept {
    tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (pcb == nullptr) return nullptr;
    if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {  // taken: another stack in this process
        (void)tcp_close(pcb);
        return nullptr;
    }
    tcp_pcb* listener = tcp_listen(pcb);
    if (listener == nullptr) {
        (void)tcp_close(pcb);
        return nullptr;
    }
    tcp_arg(listener, this);
    return listener;
}

Status OverlayStack::add_address(const net::IpAddress& address) noexcept {
    PINHOLE_ASSERT(std::none_of(peers_.begin(), peers_.end(),
                                [](const PeerNetif& peer_netif) { return peer_netif.used; }));
    if (net::is_unspecified(address)) return Errc::invalid_argument;
    if (address.is_v4() && std::any_of(extra_addresses_.begin(), extra_addresses_.end(),
                                       [](const net::IpAddress& a) { return a.is_v4(); })) {
        return Errc::unsupported;
    }
    return extra_addresses_.push_back(address);
}

Status OverlayStack::add_peer(PeerId peer, std::uint16_t mtu_bytes, const crypto::X25519Key& public_key,
                              std::span<const net::Prefix> allowed_ips) noexcept {
    if (mtu_bytes < 1280 || mtu_bytes > wireguard::max_ip_packet_bytes) return Errc::invalid_argument;
    if (find_peer_netif(peer) != nullptr) return Errc::already_exists;
    if (allowed_ips.size() + 1 > max_routes_per_peer) return Errc::no_space;
    auto slot = std::find_if(peers_.begin(), peers_.end(),
                             [](const PeerNetif& peer_netif) { return !peer_netif.used; });
    if (slot == peers_.end()) return Errc::no_space;
    PeerNetif& peer_netif = *slot;
    peer_netif.routes.clear();
    (void)peer_netif.routes.push_back(host_prefix(keys::overlay_address(public_key)));  // fits: checked
    for (const net::Prefix& prefix : allowed_ips) (void)peer_netif.routes.push_back(prefix);
    peer_netif.stack = this;
    peer_netif.peer = peer;

    // Point to point: the node's IPv4 address as a /32, so lwIP's own subnet match never
    // picks a peer netif before the routing hook does.
    const auto ipv4 = std::find_if(extra_addresses_.begin(), extra_addresses_.end(),
                                   [](const net::IpAddress& a) { return a.is_v4(); });
    const ip4_addr_t address = ipv4 != extra_addresses_.end() ? lwip_ip4(*ipv4) : ip4_addr_t{};
    const ip4_addr_t netmask{PP_HTONL(0xFFFFFFFFUL)};
    const ip4_addr_t gateway{};
    if (netif_add(&peer_netif.lwip_netif, &address, &netmask, &gateway, &peer_netif,
                  &OverlayStack::init_netif, &ip_input) == nullptr) {
        return Errc::no_space;
    }
    peer_netif.used = true;
    peer_netif.lwip_netif.mtu = mtu_bytes;
#if LWIP_ND6_ALLOW_RA_UPDATES
    peer_netif.lwip_netif.mtu6 = mtu_bytes;
#endif
    if (const Status added = add_node_addresses(peer_netif); !added.ok()) return added;
    netif_set_up(&peer_netif.lwip_netif);
    netif_set_link_up(&peer_netif.lwip_netif);
    return {};
}

Status OverlayStack::add_node_addresses(PeerNetif& peer_netif) noexcept {
    const auto add = [&peer_netif](const net::IpAddress& address) -> Status {
        const ip6_addr_t lwip_address = lwip_ip6(address);
        s8_t index = 0;
        if (netif_add_ip6_address(&peer_netif.lwip_netif, &lwip_address, &index) != ERR_OK) {
            return Errc::no_space;
        }
        // Our own addresses by construction: no duplicate address detection over a tunnel.
        netif_ip6_addr_set_state(&peer_netif.lwip_netif, index, IP6_ADDR_PREFERRED);
        return {};
    };
    if (const Status added = add(own_address_); !added.ok()) return added;
    for (const net::IpAddress& address : extra_addresses_) {
        if (!address.is_v6()) continue;
        if (const Status added = add(address); !added.ok()) return added;
    }
    return {};
}

err_t OverlayStack::init_netif(netif* lwip_netif) noexcept {
    lwip_netif->name[0] = 'w';
    lwip_netif->name[1] = 'g';
    lwip_netif->output = &OverlayStack::output_ip4;
    lwip_netif->output_ip6 = &OverlayStack::output_ip6;
    lwip_netif->flags = 0;  // point to point: no broadcast, no ARP, no MLD
#if LWIP_IPV6_SEND_ROUTER_SOLICIT
    lwip_netif->rs_count = 0;  // no router to find on a tunnel
#endif
    return ERR_OK;
}

OverlayStack::PeerNetif* OverlayStack::find_peer_netif(PeerId peer) noexcept {
    for (PeerNetif& peer_netif : peers_) {
        if (peer_netif.used && peer_netif.peer == peer) return &peer_netif;
    }
    return nullptr;
}

const OverlayStack::PeerNetif* OverlayStack::best_route(const net::IpAddress& destination) const noexcept {
    const PeerNetif* best = nullptr;
    int best_length_bits = -1;
    for (const PeerNetif& peer_netif : peers_) {
        if (!peer_netif.used) continue;
        for (const net::Prefix& prefix : peer_netif.routes) {
            // Equal lengths: the peer added first keeps it (configuration order).
            if (prefix.length > best_length_bits && net::prefix_contains(prefix, destination)) {
                best = &peer_netif;
                best_length_bits = prefix.length;
            }
        }
    }
    return best;
}

netif* OverlayStack::peer_netif(PeerId peer) noexcept {
    PeerNetif* found = find_peer_netif(peer);
    return found != nullptr ? &found->lwip_netif : nullptr;
}

std::optional<PeerId> OverlayStack::peer_of(const netif* lwip_netif) const noexcept {
    for (const PeerNetif& peer_netif : peers_) {
        if (peer_netif.used && &peer_netif.lwip_netif == lwip_netif) return peer_netif.peer;
    }
    return std::nullopt;
}

bool OverlayStack::is_own_address(const net::IpAddress& address) const noexcept {
    return address == own_address_ ||
           std::find(extra_addresses_.begin(), extra_addresses_.end(), address) != extra_addresses_.end();
}

std::size_t OverlayStack::own_addresses(std::span<net::IpAddress> out) const noexcept {
    std::size_t count = 0;
    if (count < out.size()) out[count++] = own_address_;
    for (const net::IpAddress& address : extra_addresses_) {
        if (count < out.size()) out[count++] = address;
    }
    return count;
}

bool OverlayStack::accepts_any_destination(const netif* lwip_netif) noexcept {
    if (lwip_netif->output_ip6 != &OverlayStack::output_ip6) return false;
    const OverlayStack& stack = *static_cast<const PeerNetif*>(lwip_netif->state)->stack;
    return stack.interceptor_ != nullptr && stack.input_is_tcp_;
}

err_t OverlayStack::input(netif* lwip_netif, pbuf* packet) noexcept {
    const auto* bytes = static_cast<const std::uint8_t*>(packet->payload);
    const std::uint8_t version = packet->len > 0 ? bytes[0] >> 4 : 0;
    constexpr std::uint8_t protocol_tcp = 6;
    input_is_tcp_ = (version == 4 && packet->len >= 20 && bytes[9] == protocol_tcp) ||
                    (version == 6 && packet->len >= 40 && bytes[6] == protocol_tcp);
    const err_t result = lwip_netif->input(packet, lwip_netif);
    input_is_tcp_ = false;
    return result;
}

std::optional<PeerId> OverlayStack::route(const net::IpAddress& destination) const noexcept {
    const PeerNetif* best = best_route(destination);
    if (best == nullptr) return std::nullopt;
    return best->peer;
}

netif* OverlayStack::netif_for(const net::IpAddress& destination) noexcept {
    struct netif* candidate = nullptr;
    NETIF_FOREACH(candidate) {
        if (candidate->output_ip6 != &OverlayStack::output_ip6) continue;
        const OverlayStack& stack = *static_cast<PeerNetif*>(candidate->state)->stack;
        const PeerNetif* best = stack.best_route(destination);
        return best != nullptr ? const_cast<netif*>(&best->lwip_netif) : nullptr;
    }
    return nullptr;
}

std::size_t OverlayStack::open_connections() const noexcept {
    return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                  [](const Connection& c) { return c.used; }));
}

err_t OverlayStack::output_ip4(netif* lwip_netif, pbuf* packet, const ip4_addr_t* destination) noexcept {
    auto& peer_netif = *static_cast<PeerNetif*>(lwip_netif->state);
    peer_netif.stack->send_from(peer_netif, packet, address_of(*destination));
    return ERR_OK;
}

err_t OverlayStack::output_ip6(netif* lwip_netif, pbuf* packet, const ip6_addr_t* destination) noexcept {
    auto& peer_netif = *static_cast<PeerNetif*>(lwip_netif->state);
    peer_netif.stack->send_from(peer_netif, packet, address_of(*destination));
    return ERR_OK;
}

void OverlayStack::send_from(PeerNetif& peer_netif, pbuf* packet, const net::IpAddress& destination) noexcept {
    // lwIP sends on the netif of the packet it answers, the one a connection is bound to (an
    // exit's or a dial's, whose far end may be any host behind the peer), or the one our routing
    // hook chose. Multicast from lwIP's IPv6 housekeeping has nowhere to go on a tunnel.
    if (net::is_multicast(destination)) {
        counters_.not_routed_to_peer++;
        return;
    }
    if (packet->tot_len > transmit_buffer_.size()) {
        counters_.packet_too_large++;
        return;
    }
    std::span<const std::uint8_t> bytes;
    if (packet->len == packet->tot_len) {  // one pbuf (TCP segments: LWIP_NETIF_TX_SINGLE_PBUF)
        bytes = {static_cast<const std::uint8_t*>(packet->payload), packet->len};
    } else {
        const u16_t copied = pbuf_copy_partial(packet, transmit_buffer_.data(), packet->tot_len, 0);
        bytes = {transmit_buffer_.data(), copied};
    }
    counters_.packets_sent++;
    if (coalesce_acks_ && acks_.offer(peer_netif.peer, bytes, output_)) return;
    output_.send_packet(peer_netif.peer, bytes);
}

void OverlayStack::set_ack_coalescing(bool enabled) noexcept {
    if (!enabled) flush_acks();
    coalesce_acks_ = enabled;
}

void OverlayStack::deliver(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept {
    PeerNetif* peer_netif = find_peer_netif(peer);
    if (peer_netif == nullptr) {
        counters_.unknown_peer++;
        return;
    }
    if (ip_packet.size() > peer_netif->lwip_netif.mtu) {
        counters_.packet_too_large++;
        return;
    }
    if (interceptor_ != nullptr && interceptor_->intercept(peer, &peer_netif->lwip_netif, ip_packet)) return;
    if (datagram_interceptor_ != nullptr && datagram_interceptor_->intercept(peer, &peer_netif->lwip_netif, ip_packet)) {
        return;
    }
    const auto length = static_cast<u16_t>(ip_packet.size());
    pbuf* packet = pbuf_alloc(PBUF_RAW, length, PBUF_POOL);
    if (packet == nullptr) {
        counters_.no_pbuf++;
        return;
    }
    (void)pbuf_take(packet, ip_packet.data(), length);  // fits: allocated for it
    if (input(&peer_netif->lwip_netif, packet) != ERR_OK) {
        pbuf_free(packet);
        counters_.input_refused++;
        return;
    }
    counters_.packets_delivered++;
}

}  // namespace pinhole::overlay

extern "C" struct netif* pinhole_overlay_route_ip4(const struct ip4_addr* /*src*/,
                                                   const struct ip4_addr* dest) {
    return pinhole::overlay::OverlayStack::netif_for(pinhole::overlay::address_of(*dest));
}

extern "C" int pinhole_overlay_accepts_any_ip4(const struct netif* lwip_netif) {
    return pinhole::overlay::OverlayStack::accepts_any_destination(lwip_netif);
}

extern "C" int pinhole_overlay_accepts_any_ip6(const struct netif* lwip_netif) {
    return pinhole::overlay::OverlayStack::accepts_any_destination(lwip_netif);
}

extern "C" struct netif* pinhole_overlay_route_ip6(const struct ip6_addr* /*src*/,
                                                   const struct ip6_addr* dest) {
    return pinhole::overlay::OverlayStack::netif_for(pinhole::overlay::address_of(*dest));
}
