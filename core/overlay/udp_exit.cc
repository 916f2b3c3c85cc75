#include "core/overlay/udp_exit.h"

#include <algorithm>

#include <lwip/udp.h>

#include "core/overlay/udp_packet.h"
#include "core/util/time.h"

namespace pinhole::overlay {

bool lwip_listens_on_udp(std::uint16_t port) noexcept {
    // lwIP's list of UDP pcbs, bounded by MEMP_NUM_UDP_PCB.
    for (const udp_pcb* pcb = udp_pcbs; pcb != nullptr; pcb = pcb->next) {
        if (pcb->local_port == port) return true;
    }
    return false;
}

UdpExit::UdpExit(OverlayStack& overlay, port::Udp& udp, port::Clock& clock, ExitPolicy& policy,
                 const Logger& logger, const UdpExitSettings& settings) noexcept
    : overlay_(overlay), udp_(udp), clock_(clock), policy_(policy), logger_(logger), settings_(settings) {
    overlay_.set_datagram_interceptor(this);
}

UdpExit::~UdpExit() {
    overlay_.set_datagram_interceptor(nullptr);
    for (Flow& flow : flows_) {
        if (flow.used) close(flow);
    }
}

bool UdpExit::intercept(PeerId peer, netif* peer_netif, std::span<const std::uint8_t> ip_packet) noexcept {
    const std::optional<UdpDatagramView> datagram = parse_udp_packet(ip_packet);
    if (!datagram) return false;
    if (overlay_.is_own_address(datagram->destination.address) && lwip_listens_on_udp(datagram->destination.port)) {
        return false;  // DNS, the service directory, a forward's flow: lwIP's
    }
    Flow* flow = find(peer, datagram->source, datagram->destination);
    if (flow == nullptr) flow = open_flow(peer, peer_netif, datagram->source, datagram->destination);
    if (flow == nullptr) return true;  // refused or no room: counted
    flow->last_activity_ms = clock_.monotonic_ms();
    if (!udp_.send(flow->socket, flow->target, datagram->payload).ok()) {
        counters_.dropped_send_failed++;
        return true;
    }
    counters_.datagrams_out++;
    return true;
}

UdpExit::Flow* UdpExit::open_flow(PeerId peer, netif* peer_netif, const net::Endpoint& source,
                                  const net::Endpoint& destination) noexcept {
    const acl::Decision decision = policy_.decide(peer, destination);
    if (!decision.allowed()) {
        counters_.refused_by_policy++;
        PINHOLE_LOG_INFO(logger_, "exit: refused UDP {} -> {}: {}", source, destination, acl::describe(decision.refusal));
        return nullptr;
    }
    if (decision.target.host_name.size() != 0) {
        counters_.dropped_named_target++;  // resolving per flow would hold datagrams: not yet
        PINHOLE_LOG_WARNING(logger_, "exit: UDP to {}: its service target is a name; give an address", destination);
        return nullptr;
    }
    Flow* flow = free_slot();
    if (flow == nullptr) {
        counters_.dropped_no_flow_slot++;
        return nullptr;
    }
    const Result<port::UdpSocketId> socket = udp_.open(net::Endpoint{}, *this);
    if (!socket.ok()) {
        counters_.dropped_no_flow_slot++;
        return nullptr;
    }
    *flow = Flow{true, peer, peer_netif, source, destination, decision.target.endpoint, socket.value(), 0};
    counters_.flows_opened++;
    return flow;
}

UdpExit::Flow* UdpExit::find(PeerId peer, const net::Endpoint& source, const net::Endpoint& destination) noexcept {
    for (Flow& flow : flows_) {
        if (flow.used && flow.peer == peer && flow.source == source && flow.destination == destination) return &flow;
    }
    return nullptr;
}

// A free slot, or the one idle longest when it has been idle a while (a DNS-like flow that
// will not be answered again); nullptr when every flow is recent.
UdpExit::Flow* UdpExit::free_slot() noexcept {
    Flow* oldest = nullptr;
    for (Flow& flow : flows_) {
        if (!flow.used) return &flow;
        if (oldest == nullptr || time_after(oldest->last_activity_ms, flow.last_activity_ms)) oldest = &flow;
    }
    constexpr std::uint32_t evictable_after_ms = 5'000;
    if (oldest == nullptr || elapsed_ms(clock_.monotonic_ms(), oldest->last_activity_ms) < evictable_after_ms) {
        return nullptr;
    }
    counters_.flows_expired++;
    close(*oldest);
    return oldest;
}

void UdpExit::on_datagram(port::UdpSocketId socket, const net::Endpoint& from,
                          std::span<const std::uint8_t> payload) noexcept {
    const auto flow = std::find_if(flows_.begin(), flows_.end(),
                                   [socket](const Flow& f) { return f.used && f.socket == socket; });
    if (flow == flows_.end() || from != flow->target) return;  // not the destination: dropped
    flow->last_activity_ms = clock_.monotonic_ms();
    if (!send_udp_packet(flow->peer_netif, flow->destination, flow->source, payload).ok()) {
        counters_.dropped_send_failed++;
        return;
    }
    counters_.datagrams_back++;
}

void UdpExit::tick() noexcept {
    const std::uint32_t now = clock_.monotonic_ms();
    for (Flow& flow : flows_) {
        if (!flow.used || elapsed_ms(now, flow.last_activity_ms) < settings_.idle_timeout_ms) continue;
        counters_.flows_expired++;
        close(flow);
    }
}

std::size_t UdpExit::open_flows() const noexcept {
    return static_cast<std::size_t>(std::count_if(flows_.begin(), flows_.end(), [](const Flow& f) { return f.used; }));
}

void UdpExit::close(Flow& flow) noexcept {
    udp_.close(flow.socket);
    flow = Flow{};
}

}  // namespace pinhole::overlay
