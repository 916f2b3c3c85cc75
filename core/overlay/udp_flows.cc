#include "core/overlay/udp_flows.h"

#include <algorithm>

#include <lwip/pbuf.h>
#include <lwip/udp.h>

#include "core/overlay/lwip_address.h"

namespace pinhole::overlay {

UdpFlows::~UdpFlows() {
    for (std::size_t i = 0; i < flows_.size(); i++) {
        if (flows_[i].used) close(static_cast<UdpFlowId>(i));
    }
}

Result<UdpFlowId> UdpFlows::open(PeerId peer, const net::Endpoint& destination, UdpFlowEvents& events) noexcept {
    netif* peer_netif = overlay_.peer_netif(peer);
    if (peer_netif == nullptr) return Errc::not_found;
    const auto slot = std::find_if(flows_.begin(), flows_.end(), [](const Flow& f) { return !f.used; });
    udp_pcb* pcb = slot != flows_.end() ? udp_new_ip_type(IPADDR_TYPE_ANY) : nullptr;
    if (pcb == nullptr) {
        counters_.refused_no_slot++;
        return Errc::no_space;
    }
    udp_bind_netif(pcb, peer_netif);
    const ip_addr_t to = lwip_address(destination.address);
    if (udp_bind(pcb, IP_ANY_TYPE, 0) != ERR_OK || udp_connect(pcb, &to, destination.port) != ERR_OK) {
        udp_remove(pcb);
        return Errc::unreachable;
    }
    *slot = Flow{this, true, peer, pcb, destination, &events};
    udp_recv(pcb, &UdpFlows::on_received, &*slot);
    counters_.opened++;
    return static_cast<UdpFlowId>(slot - flows_.begin());
}

Status UdpFlows::send(UdpFlowId id, std::span<const std::uint8_t> payload) noexcept {
    if (id >= flows_.size() || !flows_[id].used) return Errc::invalid_argument;
    if (payload.size() > 0xFFFF) return Errc::invalid_argument;
    pbuf* datagram = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(payload.size()), PBUF_RAM);
    if (datagram == nullptr) {
        counters_.dropped_no_memory++;
        return Errc::no_space;
    }
    (void)pbuf_take(datagram, payload.data(), static_cast<u16_t>(payload.size()));  // fits: allocated for it
    const err_t sent = udp_send(flows_[id].pcb, datagram);
    pbuf_free(datagram);
    if (sent != ERR_OK) {
        counters_.dropped_no_memory++;
        return Errc::no_space;
    }
    counters_.datagrams_sent++;
    return Status();
}

void UdpFlows::close(UdpFlowId id) noexcept {
    if (id >= flows_.size() || !flows_[id].used) return;
    udp_remove(flows_[id].pcb);
    flows_[id] = Flow{};
}

bool UdpFlows::expects_source(PeerId peer, const net::IpAddress& source) const noexcept {
    return std::any_of(flows_.begin(), flows_.end(), [&](const Flow& flow) {
        return flow.used && flow.peer == peer && flow.destination.address == source;
    });
}

void UdpFlows::on_received(void* arg, udp_pcb*, pbuf* datagram, const ip_addr_t*, u16_t) noexcept {
    auto& flow = *static_cast<Flow*>(arg);
    std::array<std::uint8_t, PINHOLE_BUDGET_OVERLAY_MTU_BYTES> payload{};
    const u16_t length = pbuf_copy_partial(datagram, payload.data(), static_cast<u16_t>(payload.size()), 0);
    pbuf_free(datagram);
    flow.flows->counters_.datagrams_received++;
    const auto id = static_cast<UdpFlowId>(&flow - flow.flows->flows_.data());
    flow.events->on_flow_datagram(id, std::span(payload.data(), length));
}

}  // namespace pinhole::overlay
