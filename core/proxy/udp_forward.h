// `pinhole forward -u AGENT [ADDR:]PORT HOST:PORT` (issue 7): a local UDP socket whose datagrams
// go to one destination through the agent, one overlay flow per local sender (so each sender
// gets its own replies), each ended after idle_timeout_ms without a datagram either way. When
// every flow is busy, a new sender's datagrams are dropped (counted) until one ends.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "board_budget.h"
#include "core/overlay/udp_flows.h"
#include "port/clock.h"
#include "port/udp.h"

namespace pinhole::proxy {

struct UdpForwardCounters {
    std::uint64_t senders = 0;
    std::uint64_t datagrams_out = 0;
    std::uint64_t datagrams_back = 0;
    std::uint64_t dropped_no_flow = 0;
    std::uint64_t expired = 0;
};

class UdpForward final : public port::UdpReceiver, public overlay::UdpFlowEvents {
public:
    struct Ports {
        port::Udp& udp;
        port::Clock& clock;
    };
    UdpForward(Ports ports, overlay::UdpFlows& flows, overlay::PeerId peer, const net::Endpoint& destination,
               std::uint32_t idle_timeout_ms = 60'000) noexcept;
    UdpForward(const UdpForward&) = delete;
    UdpForward& operator=(const UdpForward&) = delete;
    ~UdpForward();

    // Binds `listen`; the bound endpoint (port 0 gives any free port).
    [[nodiscard]] Result<net::Endpoint> open(const net::Endpoint& listen) noexcept;
    void tick() noexcept;
    [[nodiscard]] const UdpForwardCounters& counters() const noexcept { return counters_; }

    void on_datagram(port::UdpSocketId socket, const net::Endpoint& from,
                     std::span<const std::uint8_t> payload) noexcept override;
    void on_flow_datagram(overlay::UdpFlowId flow, std::span<const std::uint8_t> payload) noexcept override;

private:
    struct Sender {
        bool used = false;
        net::Endpoint local;  // the local program's socket
        overlay::UdpFlowId flow = 0;
        std::uint32_t last_activity_ms = 0;
    };
    [[nodiscard]] Sender* sender_for(const net::Endpoint& local) noexcept;

    Ports ports_;
    overlay::UdpFlows& flows_;
    overlay::PeerId peer_;
    net::Endpoint destination_;
    std::uint32_t idle_timeout_ms_;
    bool open_ = false;
    port::UdpSocketId socket_ = 0;
    UdpForwardCounters counters_;
    std::array<Sender, PINHOLE_BUDGET_MAX_UDP_FLOWS> senders_{};
};

}  // namespace pinhole::proxy
