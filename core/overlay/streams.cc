#include "core/overlay/streams.h"

#include <algorithm>
#include <cstring>

#include <lwip/inet_chksum.h>
#include <lwip/ip.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>

#include "core/overlay/dns_wire.h"
#include "core/overlay/lwip_address.h"
#include "core/util/assert.h"
#include "core/util/endian.h"
#include "core/util/time.h"

namespace pinhole::overlay {
namespace {

constexpr std::uint8_t ip_protocol_tcp = 6;
constexpr std::uint8_t tcp_flag_syn = 0x02;
constexpr std::uint8_t tcp_flag_rst = 0x04;
constexpr std::uint8_t tcp_flag_ack = 0x10;
constexpr std::size_t tcp_header_min_bytes = 20;

// The fields of a TCP segment the exit needs, from a packet WireGuard authenticated (but whose
// contents are the peer's: every length is checked).
struct TcpSegment {
    net::Endpoint source;
    net::Endpoint destination;
    std::uint32_t sequence = 0;
    std::uint8_t flags = 0;
    std::span<const std::uint8_t> payload;
};

std::optional<TcpSegment> parse_tcp_segment(std::span<const std::uint8_t> packet) noexcept {
    if (packet.empty()) return std::nullopt;
    std::size_t header_bytes = 0;
    TcpSegment segment;
    if ((packet[0] >> 4) == 4) {
        header_bytes = static_cast<std::size_t>(packet[0] & 0x0F) * 4;
        const bool fragment = (load_be16(packet.data() + 6) & 0x3FFF) != 0;  // MF or an offset
        if (header_bytes < 20 || packet.size() < header_bytes || packet[9] != ip_protocol_tcp || fragment) {
            return std::nullopt;
        }
        segment.source.address = net::IpAddress{net::Family::v4, {}};
        segment.destination.address = net::IpAddress{net::Family::v4, {}};
        std::memcpy(segment.source.address.bytes.data(), packet.data() + 12, 4);
        std::memcpy(segment.destination.address.bytes.data(), packet.data() + 16, 4);
    } else if ((packet[0] >> 4) == 6) {
        header_bytes = 40;  // TCP right after the fixed header; extension headers go to lwIP
        if (packet.size() < header_bytes || packet[6] != ip_protocol_tcp) return std::nullopt;
        segment.source.address = net::IpAddress{net::Family::v6, {}};
        segment.destination.address = net::IpAddress{net::Family::v6, {}};
        std::memcpy(segment.source.address.bytes.data(), packet.data() + 8, 16);
        std::memcpy(segment.destination.address.bytes.data(), packet.data() + 24, 16);
    } else {
        return std::nullopt;
    }
    if (packet.size() < header_bytes + tcp_header_min_bytes) return std::nullopt;
    const std::uint8_t* tcp = packet.data() + header_bytes;
    segment.source.port = load_be16(tcp);
    segment.destination.port = load_be16(tcp + 2);
    segment.sequence = load_be32(tcp + 4);
    segment.flags = tcp[13];
    const std::size_t tcp_bytes = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    if (tcp_bytes >= tcp_header_min_bytes && packet.size() >= header_bytes + tcp_bytes) {
        segment.payload = packet.subspan(header_bytes + tcp_bytes);
    }
    return segment;
}

}  // namespace

StreamTable::StreamTable(OverlayStack& overlay, Ports ports, ExitPolicy& policy, const Logger& logger,
                         const StreamSettings& settings) noexcept
    : overlay_(overlay), ports_(ports), policy_(policy), logger_(logger), settings_(settings) {
    for (Stream& stream : streams_) stream.table = this;
    overlay_.set_interceptor(this);
}

StreamTable::~StreamTable() {
    overlay_.set_interceptor(nullptr);
    for (Stream& stream : streams_) {
        if (stream.phase != Phase::free) reset(stream, false);
    }
}

// ---- exit: hold the SYN, decide, connect, then let lwIP answer -------------------------------

bool StreamTable::intercept(PeerId peer, netif* peer_netif, std::span<const std::uint8_t> ip_packet) noexcept {
    const std::optional<TcpSegment> segment = parse_tcp_segment(ip_packet);
    if (segment && (segment->flags & tcp_flag_rst) != 0 && !segment->payload.empty()) {
        note_refusal(peer, segment->source, segment->destination.port, segment->payload);
        return false;  // lwIP ends the connection as for any reset
    }
    if (!segment || (segment->flags & (tcp_flag_syn | tcp_flag_ack | tcp_flag_rst)) != tcp_flag_syn) {
        return false;  // not a new connection: lwIP's
    }
    const net::Endpoint& to = segment->destination;
    if (overlay_.is_own_address(to.address) && (to.port == echo_port || to.port == discard_port || to.port == dns_port)) {
        return false;  // the built-in services, and the node's DNS (core/overlay/dns_server.h)
    }
    if (Stream* known = find_exit(peer, segment->source, to); known != nullptr) {
        if (known->phase == Phase::handshaking || known->phase == Phase::open) return false;
        counters_.exit_duplicate_syn++;  // still connecting: the first copy is held already
        return true;
    }
    if (ip_packet.size() > max_held_syn_bytes) {
        counters_.exit_malformed_syn++;
        refuse(peer_netif, segment->source, to, ip_packet, Refusal::not_allowed);
        return true;
    }
    const acl::Decision decision = policy_.decide(peer, to);
    if (!decision.allowed()) {
        counters_.exit_refused_by_policy++;
        PINHOLE_LOG_INFO(logger_, "exit: refused {} -> {}: {}", segment->source, to, acl::describe(decision.refusal));
        refuse(peer_netif, segment->source, to, ip_packet, Refusal::not_allowed);
        return true;
    }
    Stream* stream = allocate();
    if (stream == nullptr) {
        counters_.refused_stream_limit++;
        PINHOLE_LOG_WARNING(logger_, "exit: refused {} -> {}: all {} streams busy", segment->source, to, max_streams);
        refuse(peer_netif, segment->source, to, ip_packet, Refusal::busy);
        return true;
    }
    stream->peer = peer;
    stream->peer_netif = peer_netif;
    stream->remote = segment->source;
    stream->local = to;
    std::memcpy(stream->syn.data(), ip_packet.data(), ip_packet.size());
    stream->syn_bytes = static_cast<std::uint16_t>(ip_packet.size());
    start_exit(*stream, decision);
    return true;
}

void StreamTable::start_exit(Stream& stream, const acl::Decision& decision) noexcept {
    stream.deadline_ms = deadline_after(now_ms(), settings_.connect_timeout_ms);
    stream.proxy_v2 = decision.service != nullptr && decision.service->proxy_protocol == config::ProxyProtocol::v2;
    const config::HostPort& target = decision.target;
    if (target.host_name.size() == 0) {
        connect_exit(stream, target.endpoint);
        return;
    }
    stream.phase = Phase::resolving;
    stream.target_port = target.endpoint.port;
    const Result<port::ResolveId> started =
        ports_.resolver.resolve(target.host_name.view(), net::Family::none, *this);
    if (!started.ok()) {
        counters_.exit_resolve_failed++;
        PINHOLE_LOG_WARNING(logger_, "exit: cannot resolve {}: {}", target.host_name.view(), started.error());
        refuse_held(stream, Refusal::unreachable);
        release(stream);
        return;
    }
    stream.resolve = started.value();
}

void StreamTable::on_resolved(port::ResolveId id, Errc result, std::span<const net::IpAddress> addresses) noexcept {
    auto found = std::find_if(streams_.begin(), streams_.end(), [id](const Stream& stream) {
        return stream.phase == Phase::resolving && stream.resolve == id;
    });
    if (found == streams_.end()) return;
    if (result != Errc::ok || addresses.empty()) {
        counters_.exit_resolve_failed++;
        PINHOLE_LOG_INFO(logger_, "exit: {} -> {}: name not resolved ({})", found->remote, found->local, result);
        refuse_held(*found, Refusal::unreachable);
        release(*found);
        return;
    }
    connect_exit(*found, net::Endpoint{addresses.front(), found->target_port});
}

void StreamTable::connect_exit(Stream& stream, const net::Endpoint& target) noexcept {
    const Result<port::TcpConnectionId> connecting = ports_.tcp.connect(target, *this);
    if (!connecting.ok()) {
        counters_.exit_connect_failed++;
        PINHOLE_LOG_INFO(logger_, "exit: {} -> {}: cannot connect: {}", stream.remote, target, connecting.error());
        refuse_held(stream, refusal_for_connect_error(connecting.error()));
        release(stream);
        return;
    }
    stream.phase = Phase::connecting;
    stream.has_socket = true;
    stream.socket = connecting.value();
}

// The real connection is up: a listener for the destination the peer asked for takes the held
// SYN; lwIP answers SYN-ACK and calls on_exit_accepted when the peer's ACK arrives.
void StreamTable::release_held_syn(Stream& stream) noexcept {
    ExitListener* listener = listener_for(stream.peer_netif, stream.local);
    pbuf* syn = listener != nullptr ? pbuf_alloc(PBUF_RAW, stream.syn_bytes, PBUF_POOL) : nullptr;
    if (syn == nullptr) {
        if (listener != nullptr) drop_listener_user(stream.peer_netif, stream.local);
        PINHOLE_LOG_WARNING(logger_, "exit: {} -> {}: out of lwIP memory", stream.remote, stream.local);
        refuse_held(stream, Refusal::busy);
        reset(stream, false);
        return;
    }
    stream.phase = Phase::handshaking;
    (void)pbuf_take(syn, stream.syn.data(), stream.syn_bytes);  // fits: allocated for it
    if (overlay_.input(stream.peer_netif, syn) != ERR_OK) pbuf_free(syn);
}

err_t StreamTable::on_exit_accepted(void* arg, tcp_pcb* pcb, err_t error) noexcept {
    auto& table = *static_cast<StreamTable*>(arg);
    if (error != ERR_OK || pcb == nullptr) return ERR_VAL;
    table.aborted_ = nullptr;
    const net::Endpoint remote{address_of(pcb->remote_ip), pcb->remote_port};
    const net::Endpoint local{address_of(pcb->local_ip), pcb->local_port};
    const std::optional<PeerId> peer = table.overlay_.peer_of(netif_get_by_index(pcb->netif_idx));
    Stream* stream = peer ? table.find_exit(*peer, remote, local) : nullptr;
    if (stream == nullptr || stream->phase != Phase::handshaking) {
        tcp_abort(pcb);  // its real connection timed out meanwhile: the peer gets RST
        return ERR_ABRT;
    }
    table.drop_listener_user(stream->peer_netif, stream->local);
    table.counters_.exit_opened++;
    table.open(*stream, pcb);
    return table.aborted_ == pcb ? ERR_ABRT : ERR_OK;
}

// RST|ACK for a SYN (RFC 9293 3.10.7.1: SEQ 0, ACK = its SEQ + 1), from the address it was
// sent to, back through the peer's netif, with the reason as its payload (core/overlay/refusal.h).
void StreamTable::refuse(netif* peer_netif, const net::Endpoint& from, const net::Endpoint& to,
                         std::span<const std::uint8_t> syn, Refusal why) noexcept {
    const std::optional<TcpSegment> segment = parse_tcp_segment(syn);
    const std::string_view reason = refusal_payload(why);
    pbuf* reset = segment ? pbuf_alloc(PBUF_IP, TCP_HLEN + reason.size(), PBUF_RAM) : nullptr;
    if (reset == nullptr) return;  // the peer's SYN comes again
    auto* header = static_cast<tcp_hdr*>(reset->payload);
    header->src = lwip_htons(to.port);
    header->dest = lwip_htons(from.port);
    header->seqno = 0;
    header->ackno = lwip_htonl(segment->sequence + 1);
    TCPH_HDRLEN_FLAGS_SET(header, TCP_HLEN / 4, TCP_RST | TCP_ACK);
    header->wnd = 0;
    header->chksum = 0;
    header->urgp = 0;
    std::memcpy(static_cast<std::uint8_t*>(reset->payload) + TCP_HLEN, reason.data(), reason.size());
    const ip_addr_t local = lwip_address(to.address);
    const ip_addr_t remote = lwip_address(from.address);
    header->chksum = ip_chksum_pseudo(reset, IP_PROTO_TCP, reset->tot_len, &local, &remote);
    (void)ip_output_if(reset, &local, &remote, TCP_TTL, 0, IP_PROTO_TCP, peer_netif);  // lost: the SYN comes again
    pbuf_free(reset);
}

void StreamTable::refuse_held(Stream& stream, Refusal why) noexcept {
    refuse(stream.peer_netif, stream.remote, stream.local, std::span(stream.syn.data(), stream.syn_bytes), why);
}

// A reset with a reason for one of our dials: remembered until lwIP reports the reset.
void StreamTable::note_refusal(PeerId peer, const net::Endpoint& from, std::uint16_t local_port,
                               std::span<const std::uint8_t> payload) noexcept {
    const std::optional<Refusal> refusal = parse_refusal_payload(payload);
    if (!refusal) return;
    for (Stream& stream : streams_) {
        if (stream.phase == Phase::dialing && stream.peer == peer && stream.remote == from && stream.pcb != nullptr &&
            stream.pcb->local_port == local_port) {
            stream.refusal = refusal;
            return;
        }
    }
}

StreamTable::ExitListener* StreamTable::listener_for(netif* peer_netif, const net::Endpoint& local) noexcept {
    for (ExitListener& listener : listeners_) {
        if (listener.users > 0 && listener.peer_netif == peer_netif && listener.local == local) {
            listener.users++;
            return &listener;
        }
    }
    auto slot = std::find_if(listeners_.begin(), listeners_.end(),
                             [](const ExitListener& listener) { return listener.users == 0; });
    if (slot == listeners_.end()) return nullptr;  // one per stream at most: cannot happen
    tcp_pcb* pcb = tcp_new_ip_type(local.address.is_v4() ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6);
    if (pcb == nullptr) return nullptr;
    ip_set_option(pcb, SOF_REUSEADDR);  // established streams to the same address:port exist
    tcp_bind_netif(pcb, peer_netif);
    const ip_addr_t address = lwip_address(local.address);
    tcp_pcb* listening = tcp_bind(pcb, &address, local.port) == ERR_OK ? tcp_listen(pcb) : nullptr;
    if (listening == nullptr) {
        (void)tcp_close(pcb);
        return nullptr;
    }
    tcp_arg(listening, this);
    tcp_accept(listening, &StreamTable::on_exit_accepted);
    *slot = ExitListener{listening, peer_netif, local, 1};
    return &*slot;
}

void StreamTable::drop_listener_user(netif* peer_netif, const net::Endpoint& local) noexcept {
    for (ExitListener& listener : listeners_) {
        if (listener.users == 0 || listener.peer_netif != peer_netif || !(listener.local == local)) continue;
        if (--listener.users == 0) {
            (void)tcp_close(listener.pcb);  // a listener closes without failing
            listener = ExitListener{};
        }
        return;
    }
}

// ---- dial: a local connection becomes an overlay connection ---------------------------------

Result<StreamId> StreamTable::dial(PeerId peer, const net::Endpoint& destination,
                                   port::TcpConnectionId local, DialEvents& events) noexcept {
    netif* peer_netif = overlay_.peer_netif(peer);
    if (peer_netif == nullptr) return Errc::not_found;
    Stream* stream = allocate();
    if (stream == nullptr) {
        counters_.refused_stream_limit++;
        return Errc::no_space;
    }
    tcp_pcb* pcb = tcp_new_ip_type(destination.address.is_v4() ? IPADDR_TYPE_V4 : IPADDR_TYPE_V6);
    if (pcb == nullptr) {
        release(*stream);
        return Errc::no_space;
    }
    tcp_bind_netif(pcb, peer_netif);  // to this peer, whatever the destination
    const ip_addr_t address = lwip_address(destination.address);
    if (tcp_connect(pcb, &address, destination.port, &StreamTable::on_dial_connected) != ERR_OK) {
        (void)tcp_close(pcb);  // never connected: freed without callbacks
        return Errc::unreachable;  // no source address for this family on the netif
    }
    tcp_arg(pcb, stream);
    tcp_err(pcb, &StreamTable::on_overlay_error);
    stream->phase = Phase::dialing;
    stream->dialed = true;
    stream->peer = peer;
    stream->peer_netif = peer_netif;
    stream->pcb = pcb;
    stream->remote = destination;
    stream->has_socket = true;
    stream->socket = local;
    stream->dial_events = &events;
    stream->deadline_ms = deadline_after(now_ms(), settings_.connect_timeout_ms);
    return id_of(*stream);
}

err_t StreamTable::on_dial_connected(void* arg, tcp_pcb* pcb, err_t error) noexcept {
    auto& stream = *static_cast<Stream*>(arg);
    StreamTable& table = *stream.table;
    if (error != ERR_OK) return ERR_OK;  // lwIP reports failures through on_overlay_error
    table.counters_.dial_opened++;
    DialEvents* events = stream.dial_events;
    stream.dial_events = nullptr;
    events->on_dialed(table.id_of(stream), Errc::ok);
    table.ports_.tcp.set_events(stream.socket, table);
    table.open(stream, pcb);
    return ERR_OK;
}

void StreamTable::cancel_dial(StreamId id) noexcept {
    if (id >= streams_.size() || streams_[id].phase != Phase::dialing) return;
    Stream& stream = streams_[id];
    stream.has_socket = false;  // the caller's to close
    reset(stream, false);
}

void StreamTable::fail_dial(Stream& stream, Errc result) noexcept {
    counters_.dial_failed++;
    DialEvents* events = stream.dial_events;
    const StreamId id = id_of(stream);
    stream.has_socket = false;  // stays the caller's
    if (stream.pcb != nullptr) {
        tcp_arg(stream.pcb, nullptr);
        tcp_err(stream.pcb, nullptr);
        aborted_ = stream.pcb;
        tcp_abort(stream.pcb);
        stream.pcb = nullptr;
    }
    release(stream);
    if (events != nullptr) events->on_dialed(id, result);
}

bool StreamTable::expects_source(PeerId peer, const net::IpAddress& source) const noexcept {
    return std::any_of(streams_.begin(), streams_.end(), [&](const Stream& stream) {
        return stream.dialed && stream.peer == peer && stream.remote.address == source;
    });
}

}  // namespace pinhole::overlay
