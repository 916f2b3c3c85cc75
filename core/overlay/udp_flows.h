// A client node's UDP flows into the overlay (issue 7: `forward -u`, SOCKS5 UDP ASSOCIATE): one
// lwIP UDP pcb per flow, bound to the peer's netif and connected to the destination, so the
// agent's exit sees one flow per (source port, destination) and replies come back to it.
// Fixed capacity (PINHOLE_BUDGET_MAX_UDP_FLOWS), no heap; the owner decides when a flow ends.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "board_budget.h"
#include "core/overlay/overlay_stack.h"
#include "core/util/result.h"

struct udp_pcb;
struct pbuf;

namespace pinhole::overlay {

using UdpFlowId = std::uint16_t;

class UdpFlowEvents {
public:
    // A datagram from the flow's destination (or a host behind the agent answering for it).
    virtual void on_flow_datagram(UdpFlowId flow, std::span<const std::uint8_t> payload) noexcept = 0;

protected:
    ~UdpFlowEvents() = default;
};

struct UdpFlowCounters {
    std::uint64_t opened = 0;
    std::uint64_t refused_no_slot = 0;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t datagrams_received = 0;
    std::uint64_t dropped_no_memory = 0;
};

class UdpFlows {
public:
    explicit UdpFlows(OverlayStack& overlay) noexcept : overlay_(overlay) {}
    UdpFlows(const UdpFlows&) = delete;
    UdpFlows& operator=(const UdpFlows&) = delete;
    ~UdpFlows();

    // A flow to `destination` through `peer`. Errc::no_space when every flow (or lwIP pcb) is
    // in use, Errc::not_found for an unknown peer, Errc::unreachable when the netif has no
    // address of the destination's family.
    [[nodiscard]] Result<UdpFlowId> open(PeerId peer, const net::Endpoint& destination, UdpFlowEvents& events) noexcept;
    // One datagram on the flow; Errc::no_space without lwIP memory (dropped, counted).
    [[nodiscard]] Status send(UdpFlowId flow, std::span<const std::uint8_t> payload) noexcept;
    void close(UdpFlowId flow) noexcept;
    // Whether a packet from `source` through `peer` may be a reply to one of our flows.
    [[nodiscard]] bool expects_source(PeerId peer, const net::IpAddress& source) const noexcept;
    [[nodiscard]] const UdpFlowCounters& counters() const noexcept { return counters_; }

private:
    struct Flow {
        UdpFlows* flows = nullptr;
        bool used = false;
        PeerId peer = 0;
        udp_pcb* pcb = nullptr;
        net::Endpoint destination;
        UdpFlowEvents* events = nullptr;
    };
    static void on_received(void* arg, udp_pcb* pcb, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;

    OverlayStack& overlay_;
    UdpFlowCounters counters_;
    std::array<Flow, PINHOLE_BUDGET_MAX_UDP_FLOWS> flows_{};
};

}  // namespace pinhole::overlay
