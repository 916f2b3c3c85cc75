#include "core/overlay/service_directory.h"

#include <algorithm>

#include <lwip/ip.h>
#include <lwip/pbuf.h>

#include "core/overlay/lwip_address.h"
#include "core/util/assert.h"
#include "core/util/time.h"

namespace pinhole::overlay {

ServiceDirectory::ServiceDirectory(OverlayStack& overlay, DirectoryPolicy& policy, port::Clock& clock) noexcept
    : overlay_(overlay), policy_(policy), clock_(clock) {
    server_ = udp_new_ip_type(IPADDR_TYPE_ANY);
    client_ = udp_new_ip_type(IPADDR_TYPE_ANY);
    PINHOLE_ASSERT(server_ != nullptr && client_ != nullptr);  // MEMP_NUM_UDP_PCB has room
    const err_t server_bound = udp_bind(server_, IP_ANY_TYPE, service_directory_port);
    const err_t client_bound = udp_bind(client_, IP_ANY_TYPE, 0);
    PINHOLE_ASSERT(server_bound == ERR_OK && client_bound == ERR_OK);  // one directory per stack
    udp_recv(server_, &ServiceDirectory::on_datagram, this);
    udp_recv(client_, &ServiceDirectory::on_datagram, this);
}

ServiceDirectory::~ServiceDirectory() {
    udp_remove(server_);
    udp_remove(client_);
}

void ServiceDirectory::on_datagram(void* arg, udp_pcb* pcb, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept {
    auto& directory = *static_cast<ServiceDirectory*>(arg);
    if (pcb == directory.server_) {
        directory.answer(datagram, from, port);
    } else {
        directory.take_reply(datagram);
    }
    pbuf_free(datagram);
}

void ServiceDirectory::answer(pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept {
    if (!overlay_.is_own_address(address_of(*ip_current_dest_addr()))) {
        counters_.requests_not_for_us++;
        return;
    }
    const std::optional<PeerId> peer = overlay_.peer_of(ip_current_input_netif());
    const u16_t length = pbuf_copy_partial(datagram, buffer_.data(), static_cast<u16_t>(buffer_.size()), 0);
    const Result<std::uint32_t> id = parse_directory_request(std::span(buffer_.data(), length));
    if (!peer || !id.ok() || datagram->tot_len > buffer_.size()) {
        counters_.requests_malformed++;
        return;
    }
    ServiceList services;
    policy_.published_services(*peer, services);
    const Result<std::size_t> encoded = encode_directory_reply(
        id.value(), services, std::span(reinterpret_cast<char*>(buffer_.data()), buffer_.size()));
    if (!encoded.ok()) return;  // our own list: encodable by construction
    pbuf* reply = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(encoded.value()), PBUF_RAM);
    if (reply == nullptr) return;  // the client asks again
    (void)pbuf_take(reply, buffer_.data(), static_cast<u16_t>(encoded.value()));
    // From the address it was asked at, through the peer's netif.
    (void)udp_sendto_if_src(server_, reply, from, port, ip_current_input_netif(), ip_current_dest_addr());
    pbuf_free(reply);
    counters_.requests_answered++;
}

void ServiceDirectory::take_reply(pbuf* datagram) noexcept {
    const u16_t length = pbuf_copy_partial(datagram, buffer_.data(), static_cast<u16_t>(buffer_.size()), 0);
    const Result<DirectoryReply> reply = parse_directory_reply(std::span(buffer_.data(), length));
    if (!reply.ok() || datagram->tot_len > buffer_.size()) {
        counters_.replies_malformed++;
        return;
    }
    const std::optional<PeerId> peer = overlay_.peer_of(ip_current_input_netif());
    auto found = std::find_if(lookups_.begin(), lookups_.end(), [&](const Lookup& lookup) {
        return lookup.used && lookup.id == reply.value().id && peer && lookup.peer == *peer;
    });
    if (found == lookups_.end()) {
        counters_.replies_unexpected++;  // late, duplicated, or from another peer
        return;
    }
    DirectoryEvents* events = found->events;
    const std::uint32_t id = found->id;
    *found = Lookup{};
    events->on_directory(id, Errc::ok, reply.value().services);
}

Result<std::uint32_t> ServiceDirectory::lookup(PeerId peer, const net::IpAddress& peer_address,
                                               DirectoryEvents& events) noexcept {
    if (overlay_.peer_netif(peer) == nullptr) return Errc::not_found;
    auto slot = std::find_if(lookups_.begin(), lookups_.end(), [](const Lookup& l) { return !l.used; });
    if (slot == lookups_.end()) return Errc::no_space;
    *slot = Lookup{true, next_id_++, peer, peer_address, &events, 0, clock_.monotonic_ms()};
    if (next_id_ == 0) next_id_ = 1;
    send_request(*slot);
    return slot->id;
}

void ServiceDirectory::cancel(std::uint32_t query) noexcept {
    for (Lookup& lookup : lookups_) {
        if (lookup.used && lookup.id == query) lookup = Lookup{};
    }
}

void ServiceDirectory::send_request(Lookup& lookup) noexcept {
    lookup.attempts++;
    lookup.next_send_ms = deadline_after(clock_.monotonic_ms(), retry_interval_ms);
    std::array<char, 64> request{};
    const Result<std::size_t> encoded = encode_directory_request(lookup.id, request);
    pbuf* datagram = encoded.ok() ? pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(encoded.value()), PBUF_RAM)
                                  : nullptr;
    if (datagram == nullptr) return;  // retried at the next interval
    (void)pbuf_take(datagram, request.data(), static_cast<u16_t>(encoded.value()));
    const ip_addr_t to = lwip_address(lookup.address);
    (void)udp_sendto_if(client_, datagram, &to, service_directory_port, overlay_.peer_netif(lookup.peer));
    pbuf_free(datagram);
}

void ServiceDirectory::tick() noexcept {
    const std::uint32_t now = clock_.monotonic_ms();
    for (Lookup& lookup : lookups_) {
        if (!lookup.used || !time_after_or_equal(now, lookup.next_send_ms)) continue;
        if (lookup.attempts < max_attempts) {
            send_request(lookup);
            continue;
        }
        counters_.lookups_timed_out++;
        DirectoryEvents* events = lookup.events;
        const std::uint32_t id = lookup.id;
        lookup = Lookup{};
        events->on_directory(id, Errc::timed_out, ServiceList{});
    }
}

}  // namespace pinhole::overlay
