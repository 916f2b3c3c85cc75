#include "core/proxy/udp_forward.h"

#include <algorithm>

#include "core/util/time.h"

namespace pinhole::proxy {

UdpForward::UdpForward(Ports ports, overlay::UdpFlows& flows, overlay::PeerId peer, const net::Endpoint& destination,
                       std::uint32_t idle_timeout_ms) noexcept
    : ports_(ports), flows_(flows), peer_(peer), destination_(destination), idle_timeout_ms_(idle_timeout_ms) {}

UdpForward::~UdpForward() {
    for (Sender& sender : senders_) {
        if (sender.used) flows_.close(sender.flow);
    }
    if (open_) ports_.udp.close(socket_);
}

Result<net::Endpoint> UdpForward::open(const net::Endpoint& listen) noexcept {
    const Result<port::UdpSocketId> socket = ports_.udp.open(listen, *this);
    if (!socket.ok()) return socket.error();
    socket_ = socket.value();
    open_ = true;
    return ports_.udp.local_endpoint(socket_);
}

UdpForward::Sender* UdpForward::sender_for(const net::Endpoint& local) noexcept {
    for (Sender& sender : senders_) {
        if (sender.used && sender.local == local) return &sender;
    }
    const auto free = std::find_if(senders_.begin(), senders_.end(), [](const Sender& s) { return !s.used; });
    if (free == senders_.end()) return nullptr;
    const Result<overlay::UdpFlowId> flow = flows_.open(peer_, destination_, *this);
    if (!flow.ok()) return nullptr;
    *free = Sender{true, local, flow.value(), 0};
    counters_.senders++;
    return &*free;
}

void UdpForward::on_datagram(port::UdpSocketId, const net::Endpoint& from, std::span<const std::uint8_t> payload) noexcept {
    Sender* sender = sender_for(from);
    if (sender == nullptr) {
        counters_.dropped_no_flow++;
        return;
    }
    sender->last_activity_ms = ports_.clock.monotonic_ms();
    if (flows_.send(sender->flow, payload).ok()) counters_.datagrams_out++;
}

void UdpForward::on_flow_datagram(overlay::UdpFlowId flow, std::span<const std::uint8_t> payload) noexcept {
    const auto sender = std::find_if(senders_.begin(), senders_.end(),
                                     [flow](const Sender& s) { return s.used && s.flow == flow; });
    if (sender == senders_.end()) return;
    sender->last_activity_ms = ports_.clock.monotonic_ms();
    if (ports_.udp.send(socket_, sender->local, payload).ok()) counters_.datagrams_back++;
}

void UdpForward::tick() noexcept {
    const std::uint32_t now = ports_.clock.monotonic_ms();
    for (Sender& sender : senders_) {
        if (!sender.used || elapsed_ms(now, sender.last_activity_ms) < idle_timeout_ms_) continue;
        flows_.close(sender.flow);
        sender = Sender{};
        counters_.expired++;
    }
}

}  // namespace pinhole::proxy
