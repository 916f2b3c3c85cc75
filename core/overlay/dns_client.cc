#include "core/overlay/dns_client.h"

#include <algorithm>

#include <lwip/ip.h>
#include <lwip/pbuf.h>

#include "core/overlay/lwip_address.h"
#include "core/util/assert.h"
#include "core/util/time.h"

namespace pinhole::overlay {

DnsClient::DnsClient(OverlayStack& overlay, port::Clock& clock) noexcept : overlay_(overlay), clock_(clock) {
    pcb_ = udp_new_ip_type(IPADDR_TYPE_ANY);
    PINHOLE_ASSERT(pcb_ != nullptr);  // MEMP_NUM_UDP_PCB has room
    const err_t bound = udp_bind(pcb_, IP_ANY_TYPE, 0);
    PINHOLE_ASSERT(bound == ERR_OK);
    udp_recv(pcb_, &DnsClient::on_datagram, this);
}

DnsClient::~DnsClient() { udp_remove(pcb_); }

Result<std::uint32_t> DnsClient::resolve_host(PeerId peer, const net::IpAddress& server, std::string_view host,
                                              DnsClientEvents& events) noexcept {
    const Result<DnsName> name = dns_name_from_text(host);
    if (!name.ok() || name.value().length <= 1) return Errc::invalid_argument;
    if (overlay_.peer_netif(peer) == nullptr) return Errc::not_found;
    auto slot = std::find_if(lookups_.begin(), lookups_.end(), [](const Lookup& lookup) { return !lookup.used; });
    if (slot == lookups_.end()) return Errc::no_space;
    *slot = Lookup{};
    slot->used = true;
    slot->id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    slot->peer = peer;
    slot->server = server;
    slot->question.name = name.value();
    slot->events = &events;
    ask(*slot, DnsType::aaaa);
    return slot->id;
}

void DnsClient::cancel(std::uint32_t lookup) noexcept {
    for (Lookup& candidate : lookups_) {
        if (candidate.used && candidate.id == lookup) candidate = Lookup{};
    }
}

// A new question (a new ID: a late answer to the last one is not taken for this one).
void DnsClient::ask(Lookup& lookup, DnsType type) noexcept {
    lookup.question.type = type;
    lookup.query_id = next_query_id_++;
    lookup.attempts = 0;
    send_query(lookup);
}

void DnsClient::send_query(Lookup& lookup) noexcept {
    lookup.attempts++;
    lookup.next_send_ms = deadline_after(clock_.monotonic_ms(), retry_interval_ms);
    const Result<std::size_t> encoded = encode_query(lookup.query_id, lookup.question, true, buffer_);
    pbuf* datagram = encoded.ok() ? pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(encoded.value()), PBUF_RAM)
                                  : nullptr;
    if (datagram == nullptr) return;  // sent again at the next interval
    (void)pbuf_take(datagram, buffer_.data(), static_cast<u16_t>(encoded.value()));
    const ip_addr_t to = lwip_address(lookup.server);
    (void)udp_sendto_if(pcb_, datagram, &to, dns_port, overlay_.peer_netif(lookup.peer));
    pbuf_free(datagram);
    counters_.queries_sent++;
}

void DnsClient::tick() noexcept {
    const std::uint32_t now = clock_.monotonic_ms();
    for (Lookup& lookup : lookups_) {
        if (!lookup.used || !time_after_or_equal(now, lookup.next_send_ms)) continue;
        if (lookup.attempts < max_attempts) {
            send_query(lookup);
            continue;
        }
        counters_.lookups_timed_out++;
        finish(lookup, Errc::timed_out, {}, 0);
    }
}

void DnsClient::on_datagram(void* arg, udp_pcb*, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept {
    static_cast<DnsClient*>(arg)->take_reply(datagram, from, port);
    pbuf_free(datagram);
}

void DnsClient::take_reply(pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept {
    const std::optional<PeerId> peer = overlay_.peer_of(ip_current_input_netif());
    if (datagram->tot_len > buffer_.size()) {
        counters_.replies_malformed++;  // no EDNS was offered: 512 bytes at most
        return;
    }
    const u16_t length = pbuf_copy_partial(datagram, buffer_.data(), static_cast<u16_t>(buffer_.size()), 0);
    const std::span<const std::uint8_t> message(buffer_.data(), length);
    const net::IpAddress source = address_of(*from);
    for (Lookup& lookup : lookups_) {
        if (!lookup.used || !peer || lookup.peer != *peer || port != dns_port || !(lookup.server == source)) continue;
        const Result<DnsAnswer> answer = parse_response(message, lookup.query_id, lookup.question);
        if (answer.error() == Errc::not_found) continue;  // another query's
        if (!answer.ok()) {
            counters_.replies_malformed++;
            return;
        }
        counters_.answers++;
        take_answer(lookup, answer.value());
        return;
    }
    counters_.replies_unexpected++;
}

void DnsClient::take_answer(Lookup& lookup, const DnsAnswer& answer) noexcept {
    if (answer.truncated) {
        finish(lookup, Errc::unsupported, {}, 0);
        return;
    }
    switch (answer.rcode) {
        case DnsRcode::noerror: break;
        case DnsRcode::nxdomain: finish(lookup, Errc::not_found, {}, 0); return;
        case DnsRcode::refused: finish(lookup, Errc::refused, {}, 0); return;
        case DnsRcode::servfail: finish(lookup, Errc::io, {}, 0); return;
        default: finish(lookup, Errc::unsupported, {}, 0); return;
    }
    if (!answer.addresses.empty()) {
        finish(lookup, Errc::ok, std::span(answer.addresses.begin(), answer.addresses.end()), answer.min_ttl);
        return;
    }
    if (lookup.question.type == DnsType::aaaa) {
        ask(lookup, DnsType::a);  // the name is there, without IPv6
        return;
    }
    finish(lookup, Errc::not_found, {}, 0);
}

void DnsClient::finish(Lookup& lookup, Errc result, std::span<const net::IpAddress> addresses,
                       std::uint32_t ttl_s) noexcept {
    DnsClientEvents* events = lookup.events;
    const std::uint32_t id = lookup.id;
    lookup = Lookup{};  // free before the callback: it may start another lookup
    events->on_host_resolved(id, result, addresses, ttl_s);
}

}  // namespace pinhole::overlay
