// A SOCKS5 UDP association (RFC 1928 §7) at the client node: after UDP ASSOCIATE, the client
// sends datagrams with a SOCKS header to this relay's socket; each one goes through the agent to
// the address in its header (one overlay flow per destination), and what comes back is wrapped
// in a header naming the destination it came from. Only the client's own address may use the
// relay (and only its port, once known): anyone else's datagrams are dropped and counted.
// Fragments (FRAG != 0) and host names the owner cannot resolve are dropped, counted.
// The association lives as long as the client's TCP connection (the owner ends it).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "board_budget.h"
#include "core/overlay/udp_flows.h"
#include "core/proxy/socks5_wire.h"
#include "port/clock.h"
#include "port/udp.h"

namespace pinhole::proxy {

inline constexpr std::size_t max_association_flows = 8;

struct Socks5UdpCounters {
    std::uint64_t datagrams_out = 0;
    std::uint64_t datagrams_back = 0;
    std::uint64_t dropped_stranger = 0;    // not from the client's address
    std::uint64_t dropped_malformed = 0;   // a header the parser refused, or a fragment
    std::uint64_t dropped_host_name = 0;   // a name this relay does not resolve
    std::uint64_t dropped_no_flow = 0;
};

class Socks5UdpRelay final : public port::UdpReceiver, public overlay::UdpFlowEvents {
public:
    struct Ports {
        port::Udp& udp;
        port::Clock& clock;
    };
    // `client` is the TCP client's address, and the port it said it would send from (0: any).
    Socks5UdpRelay(Ports ports, overlay::UdpFlows& flows, overlay::PeerId peer, const net::Endpoint& client) noexcept;
    Socks5UdpRelay(const Socks5UdpRelay&) = delete;
    Socks5UdpRelay& operator=(const Socks5UdpRelay&) = delete;
    ~Socks5UdpRelay();

    // Binds a UDP socket on `address` (any port): the endpoint to tell the client.
    [[nodiscard]] Result<net::Endpoint> open(const net::IpAddress& address) noexcept;
    // Ends flows idle for idle_timeout_ms.
    void tick() noexcept;
    [[nodiscard]] const Socks5UdpCounters& counters() const noexcept { return counters_; }

    void on_datagram(port::UdpSocketId socket, const net::Endpoint& from,
                     std::span<const std::uint8_t> datagram) noexcept override;
    void on_flow_datagram(overlay::UdpFlowId flow, std::span<const std::uint8_t> payload) noexcept override;

private:
    static constexpr std::uint32_t idle_timeout_ms = 60'000;
    struct Flow {
        bool used = false;
        net::Endpoint destination;
        overlay::UdpFlowId id = 0;
        std::uint32_t last_activity_ms = 0;
    };
    [[nodiscard]] Flow* flow_to(const net::Endpoint& destination) noexcept;

    Ports ports_;
    overlay::UdpFlows& flows_;
    overlay::PeerId peer_;
    net::Endpoint client_;
    bool open_ = false;
    port::UdpSocketId socket_ = 0;
    Socks5UdpCounters counters_;
    std::array<Flow, max_association_flows> flow_table_{};
};

}  // namespace pinhole::proxy
