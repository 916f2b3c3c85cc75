#include "core/proxy/socks5_udp.h"

#include <algorithm>

#include "core/util/time.h"

namespace pinhole::proxy {

Socks5UdpRelay::Socks5UdpRelay(Ports ports, overlay::UdpFlows& flows, overlay::PeerId peer,
                               const net::Endpoint& client) noexcept
    : ports_(ports), flows_(flows), peer_(peer), client_(client) {}

Socks5UdpRelay::~Socks5UdpRelay() {
    for (Flow& flow : flow_table_) {
        if (flow.used) flows_.close(flow.id);
    }
    if (open_) ports_.udp.close(socket_);
}

Result<net::Endpoint> Socks5UdpRelay::open(const net::IpAddress& address) noexcept {
    const Result<port::UdpSocketId> socket = ports_.udp.open(net::Endpoint{address, 0}, *this);
    if (!socket.ok()) return socket.error();
    socket_ = socket.value();
    open_ = true;
    return ports_.udp.local_endpoint(socket_);
}

void Socks5UdpRelay::on_datagram(port::UdpSocketId, const net::Endpoint& from,
                                 std::span<const std::uint8_t> datagram) noexcept {
    if (from.address != client_.address || (client_.port != 0 && from.port != client_.port)) {
        counters_.dropped_stranger++;
        return;
    }
    client_.port = from.port;  // replies go where the client sends from
    const Result<UdpDatagram> parsed = parse_udp_datagram(datagram);
    if (!parsed.ok()) {
        counters_.dropped_malformed++;
        return;
    }
    if (parsed.value().address.host_name.size() != 0) {
        counters_.dropped_host_name++;  // curl and most clients send addresses over UDP
        return;
    }
    Flow* flow = flow_to(parsed.value().address.endpoint);
    if (flow == nullptr) {
        counters_.dropped_no_flow++;
        return;
    }
    flow->last_activity_ms = ports_.clock.monotonic_ms();
    if (flows_.send(flow->id, parsed.value().payload).ok()) counters_.datagrams_out++;
}

Socks5UdpRelay::Flow* Socks5UdpRelay::flow_to(const net::Endpoint& destination) noexcept {
    for (Flow& flow : flow_table_) {
        if (flow.used && flow.destination == destination) return &flow;
    }
    const auto free = std::find_if(flow_table_.begin(), flow_table_.end(), [](const Flow& f) { return !f.used; });
    if (free == flow_table_.end()) return nullptr;
    const Result<overlay::UdpFlowId> id = flows_.open(peer_, destination, *this);
    if (!id.ok()) return nullptr;
    *free = Flow{true, destination, id.value(), 0};
    return &*free;
}

void Socks5UdpRelay::on_flow_datagram(overlay::UdpFlowId id, std::span<const std::uint8_t> payload) noexcept {
    const auto flow = std::find_if(flow_table_.begin(), flow_table_.end(),
                                   [id](const Flow& f) { return f.used && f.id == id; });
    if (flow == flow_table_.end() || client_.port == 0) return;
    flow->last_activity_ms = ports_.clock.monotonic_ms();
    std::array<std::uint8_t, max_udp_header_bytes + PINHOLE_BUDGET_OVERLAY_MTU_BYTES> wrapped{};
    SocksAddress source;
    source.endpoint = flow->destination;
    const Result<std::size_t> length = encode_udp_datagram(source, payload, wrapped);
    if (length.ok() && ports_.udp.send(socket_, client_, std::span(wrapped.data(), length.value())).ok()) {
        counters_.datagrams_back++;
    }
}

void Socks5UdpRelay::tick() noexcept {
    const std::uint32_t now = ports_.clock.monotonic_ms();
    for (Flow& flow : flow_table_) {
        if (!flow.used || elapsed_ms(now, flow.last_activity_ms) < idle_timeout_ms) continue;
        flows_.close(flow.id);
        flow = Flow{};
    }
}

}  // namespace pinhole::proxy
