#include "core/overlay/dns_server.h"

#include <algorithm>
#include <cstring>

#include <lwip/ip.h>
#include <lwip/pbuf.h>

#include "core/overlay/lwip_address.h"
#include "core/util/assert.h"
#include "core/util/endian.h"
#include "core/util/time.h"

namespace pinhole::overlay {
namespace {

constexpr std::uint32_t ms_per_s = 1000;
// Queries one TCP delivery may hold (a 14-byte message is the smallest with a length).
constexpr std::size_t max_messages_per_buffer = dns_tcp_buffer_bytes / (dns_tcp_length_bytes + dns_header_bytes) + 1;

char lower(std::uint8_t byte) noexcept {
    return byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte - 'A' + 'a') : static_cast<char>(byte);
}

// The first label of a two-label name ("web" of "web.router"); empty for any other name.
std::string_view service_label(const DnsName& name) noexcept {
    if (name.length < 4) return {};
    const std::size_t first = name.wire[0];
    if (first == 0 || 1 + first >= name.length) return {};
    const std::size_t second = name.wire[1 + first];
    if (second == 0 || 2 + first + second >= name.length || name.wire[2 + first + second] != 0) return {};
    return {reinterpret_cast<const char*>(&name.wire[1]), first};
}

bool equal_ignoring_case(std::string_view label, std::string_view lowercase) noexcept {
    if (label.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < label.size(); ++i) {
        if (lower(static_cast<std::uint8_t>(label[i])) != lowercase[i]) return false;
    }
    return true;
}

bool is_address_type(DnsType type) noexcept { return type == DnsType::a || type == DnsType::aaaa; }

// The family an A or AAAA answer holds, and whether `address` (unmapped) belongs to it.
bool answers_type(const net::IpAddress& address, DnsType type) noexcept {
    return (type == DnsType::a && address.is_v4()) || (type == DnsType::aaaa && address.is_v6());
}

}  // namespace

DnsServer::DnsServer(OverlayStack& overlay, DirectoryPolicy& services, NamePolicy& names, Ports ports,
                     const Logger& logger, const DnsSettings& settings) noexcept
    : overlay_(overlay), services_(services), policy_(names), ports_(ports), logger_(logger), settings_(settings) {
    PINHOLE_ASSERT(settings_.ttl_s <= max_dns_ttl && settings_.ttl_s < max_interval_ms / ms_per_s);
    udp_ = udp_new_ip_type(IPADDR_TYPE_ANY);
    PINHOLE_ASSERT(udp_ != nullptr);  // MEMP_NUM_UDP_PCB has room
    const err_t bound = udp_bind(udp_, IP_ANY_TYPE, dns_port);
    PINHOLE_ASSERT(bound == ERR_OK);  // one DNS server per stack
    udp_recv(udp_, &DnsServer::on_datagram, this);
    tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    PINHOLE_ASSERT(pcb != nullptr);
    const err_t tcp_bound = tcp_bind(pcb, IP_ANY_TYPE, dns_port);
    PINHOLE_ASSERT(tcp_bound == ERR_OK);
    listener_ = tcp_listen_with_backlog(pcb, max_dns_tcp_connections);
    PINHOLE_ASSERT(listener_ != nullptr);  // MEMP_NUM_TCP_PCB_LISTEN has room
    tcp_arg(listener_, this);
    tcp_accept(listener_, &DnsServer::on_accept);
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        connections_[i].server = this;
        connections_[i].index = static_cast<std::uint8_t>(i);
    }
}

DnsServer::~DnsServer() {
    for (Pending& pending : pending_) {
        if (pending.used) ports_.resolver.cancel(pending.resolve);
        pending = Pending{};
    }
    for (Connection& connection : connections_) {
        if (connection.pcb != nullptr) close(connection, true);
    }
    tcp_close(listener_);  // a listener closes without failing
    udp_remove(udp_);
}

// ---- UDP --------------------------------------------------------------------------------------

void DnsServer::on_datagram(void* arg, udp_pcb*, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept {
    static_cast<DnsServer*>(arg)->take_datagram(datagram, from, port);
    pbuf_free(datagram);
}

void DnsServer::take_datagram(pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept {
    netif* input = ip_current_input_netif();
    const std::optional<PeerId> peer = overlay_.peer_of(input);
    if (!peer || !overlay_.is_own_address(address_of(*ip_current_dest_addr()))) {
        counters_.not_for_us++;
        return;
    }
    counters_.queries_udp++;
    DnsOrigin origin;
    origin.peer_netif = input;
    ip_addr_copy(origin.from, *from);
    origin.from_port = port;
    ip_addr_copy(origin.to, *ip_current_dest_addr());
    const u16_t length = pbuf_copy_partial(datagram, in_.data(), static_cast<u16_t>(in_.size()), 0);
    if (datagram->tot_len > in_.size()) {
        // Longer than any query we read: answered from its header alone.
        const std::optional<DnsRcode> rcode = refusal_rcode(std::span(in_.data(), length));
        if (rcode) refuse(std::span(in_.data(), length), *rcode, origin);
        if (!rcode) counters_.dropped++;
        return;
    }
    take_query(*peer, std::span(in_.data(), length), origin);
}

// ---- queries ----------------------------------------------------------------------------------

void DnsServer::take_query(PeerId peer, std::span<const std::uint8_t> message, const DnsOrigin& origin) noexcept {
    const Result<DnsQuery> parsed = parse_query(message);
    if (!parsed.ok()) {
        const std::optional<DnsRcode> rcode = refusal_rcode(message);
        if (!rcode) {
            counters_.dropped++;
            return;
        }
        refuse(message, *rcode, origin);
        return;
    }
    const DnsQuery& query = parsed.value();
    if (query.question.qclass != dns_class_in) {
        refuse(message, DnsRcode::notimp, origin);
        return;
    }
    if (answer_own(peer, query, origin)) return;
    if (!policy_.may_resolve(peer)) {
        refuse(message, DnsRcode::refused, origin);
        return;
    }
    if (!is_address_type(query.question.type)) {
        refuse(message, DnsRcode::notimp, origin);
        return;
    }
    if (is_duplicate(peer, query, origin)) {
        counters_.duplicates++;
        return;
    }
    start_resolving(peer, query, origin);
}

// `<service>.<agent>` for a service `peer` may reach: answered now. False for any other name.
bool DnsServer::answer_own(PeerId peer, const DnsQuery& query, const DnsOrigin& origin) noexcept {
    const std::string_view label = service_label(query.question.name);
    if (label.empty()) return false;
    ServiceList services;
    services_.published_services(peer, services);
    const auto service = std::find_if(services.begin(), services.end(), [&](const PublishedService& published) {
        return equal_ignoring_case(label, published.name.view());
    });
    if (service == services.end()) return false;
    std::size_t count = 0;
    if (query.question.type == DnsType::srv) {
        records_[0] = DnsRecord{};
        records_[0].type = DnsType::srv;
        records_[0].srv.port = service->port;
        records_[0].srv.target = query.question.name;
        count = 1;
    } else if (is_address_type(query.question.type)) {
        std::array<net::IpAddress, 1 + max_extra_addresses> own{};
        const std::size_t own_count = overlay_.own_addresses(own);
        for (std::size_t i = 0; i < own_count && count < records_.size(); ++i) {
            if (!answers_type(own[i], query.question.type)) continue;
            records_[count] = DnsRecord{};
            records_[count].type = query.question.type;
            records_[count].address = own[i];
            count++;
        }
    }
    DnsResponse response;
    response.authoritative = true;
    response.ttl = settings_.ttl_s;
    response.answers = std::span<const DnsRecord>(records_.data(), count);
    counters_.answered_own++;
    respond(query, response, origin);
    return true;
}

bool DnsServer::is_duplicate(PeerId peer, const DnsQuery& query, const DnsOrigin& origin) const noexcept {
    if (origin.tcp) return false;  // a TCP connection asks one question at a time
    return std::any_of(pending_.begin(), pending_.end(), [&](const Pending& pending) {
        return pending.used && !pending.origin.tcp && pending.peer == peer && pending.query.id == query.id &&
               pending.origin.from_port == origin.from_port && ip_addr_cmp(&pending.origin.from, &origin.from) &&
               dns_names_equal(pending.query.question.name, query.question.name);
    });
}

void DnsServer::start_resolving(PeerId peer, const DnsQuery& query, const DnsOrigin& origin) noexcept {
    std::array<char, max_dns_name_text_bytes> text{};
    const Result<std::size_t> length = dns_name_to_text(query.question.name, text);
    DnsResponse failure;
    // The root, or a name no host name spells: nothing to look up.
    if (!length.ok() || query.question.name.length <= 1 || length.value() > port::max_host_name_bytes) {
        failure.rcode = DnsRcode::refused;
        respond(query, failure, origin);
        return;
    }
    const auto slot = std::find_if(pending_.begin(), pending_.end(), [](const Pending& p) { return !p.used; });
    if (slot == pending_.end()) {
        counters_.busy++;
        failure.rcode = DnsRcode::servfail;
        respond(query, failure, origin);
        return;
    }
    // Both families at once: the other one tells an empty answer (the name exists) from NXDOMAIN.
    const Result<port::ResolveId> started =
        ports_.resolver.resolve(std::string_view(text.data(), length.value()), net::Family::none, *this);
    if (!started.ok()) {
        if (started.error() == Errc::no_space) counters_.busy++;
        failure.rcode = DnsRcode::servfail;
        respond(query, failure, origin);
        return;
    }
    slot->used = true;
    slot->peer = peer;
    slot->origin = origin;
    slot->query = query;
    slot->resolve = started.value();
    slot->deadline_ms = deadline_after(now_ms(), settings_.resolve_timeout_ms);
    if (origin.tcp) connections_[origin.connection].waiting = true;
}

void DnsServer::on_resolved(port::ResolveId id, Errc result, std::span<const net::IpAddress> addresses) noexcept {
    for (Pending& pending : pending_) {
        if (pending.used && pending.resolve == id) {
            finish(pending, result, addresses);
            return;
        }
    }
}

void DnsServer::tick() noexcept {
    const std::uint32_t now = now_ms();
    for (Pending& pending : pending_) {
        if (!pending.used || !time_after_or_equal(now, pending.deadline_ms)) continue;
        ports_.resolver.cancel(pending.resolve);
        counters_.resolver_timeouts++;
        finish(pending, Errc::timed_out, {});
    }
    for (Connection& connection : connections_) {
        if (connection.pcb == nullptr || connection.waiting) continue;
        if (time_after_or_equal(now, deadline_after(connection.last_activity_ms, settings_.tcp_idle_timeout_ms))) {
            counters_.tcp_idle_closed++;
            close(connection, false);
        }
    }
}

// Answers a resolution (or its timeout) and frees its slot.
void DnsServer::finish(Pending& pending, Errc result, std::span<const net::IpAddress> addresses) noexcept {
    const Pending done = pending;
    pending = Pending{};
    DnsResponse response;
    std::size_t count = 0;
    if (result == Errc::ok) {
        for (const net::IpAddress& found : addresses) {
            const net::IpAddress address = net::unmapped(found);
            if (count == records_.size() || !answers_type(address, done.query.question.type)) continue;
            records_[count] = DnsRecord{};
            records_[count].type = done.query.question.type;
            records_[count].address = address;
            count++;
        }
        response.ttl = settings_.ttl_s;
        response.answers = std::span<const DnsRecord>(records_.data(), count);
        counters_.answered_resolved++;
        remember(done, response.answers);
    } else {
        response.rcode = result == Errc::not_found ? DnsRcode::nxdomain : DnsRcode::servfail;
    }
    if (done.origin.tcp) {
        Connection& connection = connections_[done.origin.connection];
        if (connection.pcb == nullptr || connection.generation != done.origin.generation) return;  // gone
        connection.waiting = false;
        respond(done.query, response, done.origin);
        if (connection.pcb != nullptr) (void)drain(connection);
        return;
    }
    respond(done.query, response, done.origin);
}

void DnsServer::remember(const Pending& pending, std::span<const DnsRecord> records) noexcept {
    if (records.empty()) return;
    std::array<char, max_dns_name_text_bytes> text{};
    const Result<std::size_t> length = dns_name_to_text(pending.query.question.name, text);
    if (!length.ok()) return;  // refused before resolving
    for (std::size_t i = 0; i < length.value(); ++i) text[i] = lower(static_cast<std::uint8_t>(text[i]));
    const std::string_view name(text.data(), length.value());
    if (!policy_.remembers(pending.peer, name)) return;
    std::array<net::IpAddress, max_dns_addresses> addresses{};
    for (std::size_t i = 0; i < records.size(); ++i) addresses[i] = records[i].address;
    names_.remember(pending.peer, name, std::span(addresses.data(), records.size()),
                    settings_.ttl_s * ms_per_s, now_ms());
    counters_.names_remembered++;
    PINHOLE_LOG_INFO(logger_, "dns: {} -> {}{} for peer {} ({} s, a domain rule matches)", name, addresses[0],
                     records.size() > 1 ? " ..." : "", pending.peer, settings_.ttl_s);
}

// ---- answers ----------------------------------------------------------------------------------

void DnsServer::count(DnsRcode rcode) noexcept {
    switch (rcode) {
        case DnsRcode::formerr: counters_.formerr++; break;
        case DnsRcode::servfail: counters_.servfail++; break;
        case DnsRcode::nxdomain: counters_.nxdomain++; break;
        case DnsRcode::notimp: counters_.notimp++; break;
        case DnsRcode::refused: counters_.refused++; break;
        case DnsRcode::noerror: break;
    }
}

void DnsServer::refuse(std::span<const std::uint8_t> message, DnsRcode rcode, const DnsOrigin& origin) noexcept {
    count(rcode);
    const std::span<std::uint8_t> body = std::span(out_).subspan(dns_tcp_length_bytes);
    const Result<std::size_t> length = encode_refusal(message, rcode, body);
    if (!length.ok()) return;  // the caller checked there is a header
    send(body.first(length.value()), origin);
}

void DnsServer::respond(const DnsQuery& query, const DnsResponse& response, const DnsOrigin& origin) noexcept {
    count(response.rcode);
    const std::span<std::uint8_t> body = std::span(out_).subspan(dns_tcp_length_bytes);
    const std::size_t limit = origin.tcp ? body.size() : max_udp_dns_bytes;
    const Result<std::size_t> length = encode_response(query, response, limit, body);
    if (!length.ok()) return;  // a parsed question always fits in 512 bytes; our records are valid
    // TC: the header says so (byte 2, bit 1), and the answer count is 0.
    if ((body[2] & 0x02) != 0) counters_.truncated++;
    send(body.first(length.value()), origin);
}

void DnsServer::send(std::span<const std::uint8_t> message, const DnsOrigin& origin) noexcept {
    if (origin.tcp) {
        Connection& connection = connections_[origin.connection];
        if (connection.pcb != nullptr && connection.generation == origin.generation) send_tcp(connection, message);
        return;
    }
    pbuf* datagram = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(message.size()), PBUF_RAM);
    if (datagram == nullptr) {
        counters_.send_failed++;  // the client asks again
        return;
    }
    (void)pbuf_take(datagram, message.data(), static_cast<u16_t>(message.size()));
    // From the address it was asked at, through the asking peer's netif.
    if (udp_sendto_if_src(udp_, datagram, &origin.from, origin.from_port, origin.peer_netif, &origin.to) != ERR_OK) {
        counters_.send_failed++;
    }
    pbuf_free(datagram);
}

// The message is the tail of out_, right after room for its length prefix.
void DnsServer::send_tcp(Connection& connection, std::span<const std::uint8_t> message) noexcept {
    const Result<std::size_t> prefix = encode_dns_tcp_length(message.size(), out_);
    const std::size_t total = dns_tcp_length_bytes + message.size();
    if (!prefix.ok() || message.data() != out_.data() + dns_tcp_length_bytes || tcp_sndbuf(connection.pcb) < total ||
        tcp_write(connection.pcb, out_.data(), static_cast<u16_t>(total), TCP_WRITE_FLAG_COPY) != ERR_OK) {
        counters_.send_failed++;
        close(connection, true);
        return;
    }
    (void)tcp_output(connection.pcb);
    connection.last_activity_ms = now_ms();
}

// ---- TCP --------------------------------------------------------------------------------------

err_t DnsServer::on_accept(void* arg, tcp_pcb* pcb, err_t error) noexcept {
    if (error != ERR_OK || pcb == nullptr) return ERR_VAL;
    return static_cast<DnsServer*>(arg)->accept(pcb);
}

err_t DnsServer::accept(tcp_pcb* pcb) noexcept {
    netif* input = ip_current_input_netif();
    const std::optional<PeerId> peer = overlay_.peer_of(input);
    if (!peer || !overlay_.is_own_address(address_of(pcb->local_ip))) {
        counters_.not_for_us++;
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    const auto slot = std::find_if(connections_.begin(), connections_.end(),
                                   [](const Connection& connection) { return connection.pcb == nullptr; });
    if (slot == connections_.end()) {
        counters_.tcp_refused++;
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    counters_.tcp_accepted++;
    slot->pcb = pcb;
    slot->peer = *peer;
    slot->generation = next_generation_++;
    slot->waiting = false;
    slot->peer_closed = false;
    slot->buffered = 0;
    slot->held = nullptr;
    slot->last_activity_ms = now_ms();
    tcp_bind_netif(pcb, input);  // answers go back to the peer that asked
    tcp_nagle_disable(pcb);      // each answer is whole: none waits for the last one's ACK
    tcp_arg(pcb, &*slot);
    tcp_recv(pcb, &DnsServer::on_tcp_received);
    tcp_err(pcb, &DnsServer::on_tcp_error);
    return ERR_OK;
}

err_t DnsServer::on_tcp_received(void* arg, tcp_pcb* pcb, pbuf* data, err_t) noexcept {
    auto& connection = *static_cast<Connection*>(arg);
    DnsServer& server = *connection.server;
    server.aborted_ = nullptr;
    if (connection.pcb != pcb) {  // not ours any more (cannot happen: callbacks are cleared)
        if (data != nullptr) pbuf_free(data);
        return ERR_OK;
    }
    return server.receive(connection, data);
}

err_t DnsServer::receive(Connection& connection, pbuf* data) noexcept {
    tcp_pcb* pcb = connection.pcb;
    if (data == nullptr) {  // FIN: answer what is buffered and waiting, then close
        connection.peer_closed = true;
        (void)drain(connection);
        return aborted_ == pcb ? ERR_ABRT : ERR_OK;
    }
    // One delivery at a time: lwIP keeps the next (and stops the sender) until this one is read.
    if (connection.held != nullptr) return ERR_MEM;
    connection.held = data;
    connection.last_activity_ms = now_ms();
    (void)drain(connection);
    return aborted_ == pcb ? ERR_ABRT : ERR_OK;
}

// Moves held bytes into the buffer as room allows, answering each whole query in order, until
// one waits for the resolver or nothing is left; then closes after a FIN. False when the
// connection is gone.
bool DnsServer::drain(Connection& connection) noexcept {
    // Bounded: each round takes at least one byte or ends.
    for (std::size_t round = 0; round <= dns_tcp_buffer_bytes + max_messages_per_buffer; ++round) {
        if (!serve_buffered(connection)) return false;
        if (connection.waiting || connection.held == nullptr) break;
        const std::size_t room = connection.buffer.size() - connection.buffered;
        if (room == 0) {  // cannot happen: a whole query fits, and whole ones were answered
            counters_.tcp_malformed++;
            close(connection, true);
            return false;
        }
        const auto taken = static_cast<u16_t>(std::min<std::size_t>(room, connection.held->tot_len));
        (void)pbuf_copy_partial(connection.held, connection.buffer.data() + connection.buffered, taken, 0);
        connection.buffered += taken;
        connection.held = pbuf_free_header(connection.held, taken);
        tcp_recved(connection.pcb, taken);
    }
    if (connection.peer_closed && !connection.waiting && connection.held == nullptr) close(connection, false);
    return connection.pcb != nullptr;
}

bool DnsServer::serve_buffered(Connection& connection) noexcept {
    for (std::size_t round = 0; round < max_messages_per_buffer && !connection.waiting; ++round) {
        const std::span<const std::uint8_t> buffered(connection.buffer.data(), connection.buffered);
        const Result<std::size_t> next = next_dns_tcp_message_bytes(buffered);
        if (next.error() == Errc::would_block) break;
        if (!next.ok() || dns_tcp_length_bytes + next.value() > connection.buffer.size()) {
            counters_.tcp_malformed++;
            close(connection, true);
            return false;
        }
        const std::size_t total = dns_tcp_length_bytes + next.value();
        if (connection.buffered < total) break;
        counters_.queries_tcp++;
        DnsOrigin origin;
        origin.tcp = true;
        origin.connection = connection.index;
        origin.generation = connection.generation;
        take_query(connection.peer, buffered.subspan(dns_tcp_length_bytes, next.value()), origin);
        if (connection.pcb == nullptr || connection.generation != origin.generation) return false;  // reset
        std::memmove(connection.buffer.data(), connection.buffer.data() + total, connection.buffered - total);
        connection.buffered -= total;
    }
    return connection.pcb != nullptr;
}

void DnsServer::on_tcp_error(void* arg, err_t) noexcept {
    auto& connection = *static_cast<Connection*>(arg);
    connection.pcb = nullptr;  // lwIP freed it
    connection.waiting = false;
    connection.buffered = 0;
    if (connection.held != nullptr) pbuf_free(connection.held);  // ours since we took it
    connection.held = nullptr;
}

void DnsServer::close(Connection& connection, bool reset) noexcept {
    tcp_pcb* pcb = connection.pcb;
    if (pcb == nullptr) return;
    connection.pcb = nullptr;
    connection.waiting = false;
    connection.buffered = 0;
    if (connection.held != nullptr) pbuf_free(connection.held);
    connection.held = nullptr;
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_err(pcb, nullptr);
    if (reset || tcp_close(pcb) != ERR_OK) {
        aborted_ = pcb;  // inside one of its callbacks, lwIP must hear ERR_ABRT
        tcp_abort(pcb);
    }
}

std::size_t DnsServer::pending() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(pending_.begin(), pending_.end(), [](const Pending& pending) { return pending.used; }));
}

std::size_t DnsServer::tcp_connections() const noexcept {
    return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                  [](const Connection& c) { return c.pcb != nullptr; }));
}

}  // namespace pinhole::overlay
