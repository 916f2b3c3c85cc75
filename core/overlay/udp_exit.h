// The exit for UDP (issue 7): a peer's datagram to any destination is checked against the same
// access list as a stream (core/acl), then sent from a socket of the agent's own, one per flow
// (peer, source, destination), so replies find their way back; they return to the peer from
// the address it sent to. A flow ends after idle_timeout_ms without traffic either way; when
// every flow is busy the oldest idle one makes room. Datagrams to this node's own ports where
// an lwIP UDP service listens (DNS, the service directory) are lwIP's.
//
// Fixed capacity (PINHOLE_BUDGET_MAX_UDP_FLOWS), no heap; every drop is counted.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "board_budget.h"
#include "core/overlay/overlay_stack.h"
#include "core/overlay/streams.h"
#include "core/util/log.h"
#include "port/clock.h"
#include "port/udp.h"

namespace pinhole::overlay {

inline constexpr std::size_t max_udp_flows = PINHOLE_BUDGET_MAX_UDP_FLOWS;
static_assert(PINHOLE_BUDGET_MAX_UDP_SOCKETS >= PINHOLE_BUDGET_MAX_UDP_FLOWS + 2,
              "each UDP flow takes a socket; the node's own (WireGuard, forwards) need some too");

struct UdpExitSettings {
    std::uint32_t idle_timeout_ms = 60'000;
};

struct UdpExitCounters {
    std::uint64_t flows_opened = 0;
    std::uint64_t flows_expired = 0;
    std::uint64_t datagrams_out = 0;         // peer -> destination
    std::uint64_t datagrams_back = 0;        // destination -> peer
    std::uint64_t refused_by_policy = 0;
    std::uint64_t dropped_no_flow_slot = 0;  // every flow busy and none idle
    std::uint64_t dropped_send_failed = 0;
    std::uint64_t dropped_named_target = 0;  // a service whose target is a host name
};

class UdpExit final : public OverlayInterceptor, public port::UdpReceiver {
public:
    UdpExit(OverlayStack& overlay, port::Udp& udp, port::Clock& clock, ExitPolicy& policy, const Logger& logger,
            const UdpExitSettings& settings) noexcept;
    UdpExit(const UdpExit&) = delete;
    UdpExit& operator=(const UdpExit&) = delete;
    ~UdpExit();

    // OverlayInterceptor: a UDP datagram from `peer`; false for anything lwIP should have.
    [[nodiscard]] bool intercept(PeerId peer, netif* peer_netif, std::span<const std::uint8_t> ip_packet) noexcept override;
    // port::UdpReceiver: a reply on a flow's socket.
    void on_datagram(port::UdpSocketId socket, const net::Endpoint& from,
                     std::span<const std::uint8_t> payload) noexcept override;
    // Ends idle flows; call about once a second.
    void tick() noexcept;

    [[nodiscard]] std::size_t open_flows() const noexcept;
    [[nodiscard]] const UdpExitCounters& counters() const noexcept { return counters_; }

private:
    struct Flow {
        bool used = false;
        PeerId peer = 0;
        netif* peer_netif = nullptr;
        net::Endpoint source;       // the peer's end
        net::Endpoint destination;  // what the peer sent to (replies come from it)
        net::Endpoint target;       // where the agent sends (a service's target, or destination)
        port::UdpSocketId socket = 0;
        std::uint32_t last_activity_ms = 0;
    };

    [[nodiscard]] Flow* find(PeerId peer, const net::Endpoint& source, const net::Endpoint& destination) noexcept;
    [[nodiscard]] Flow* open_flow(PeerId peer, netif* peer_netif, const net::Endpoint& source,
                                  const net::Endpoint& destination) noexcept;
    [[nodiscard]] Flow* free_slot() noexcept;
    void close(Flow& flow) noexcept;

    OverlayStack& overlay_;
    port::Udp& udp_;
    port::Clock& clock_;
    ExitPolicy& policy_;
    const Logger& logger_;
    UdpExitSettings settings_;
    UdpExitCounters counters_;
    std::array<Flow, max_udp_flows> flows_{};
};

// Whether an lwIP UDP pcb of this node listens on `port` (its own services keep their ports).
[[nodiscard]] bool lwip_listens_on_udp(std::uint16_t port) noexcept;

}  // namespace pinhole::overlay
