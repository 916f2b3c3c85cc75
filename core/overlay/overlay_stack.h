// The overlay stack (DESIGN §1): the node's one lwIP instance (NO_SYS, raw API) on top of its
// WireGuard device. One lwIP netif per peer; every netif carries the node's own addresses (the
// key-derived IPv6 /128 and the configured ones). An IP packet lwIP sends on a peer's netif
// goes to OverlayOutput::send_packet (the node hands it to wireguard::Device::send); a
// decrypted packet from a peer comes in through deliver(). lwIP's routing hooks
// (boards/common/lwip/pinhole_lwip_hooks.h) pick the peer whose overlay address or allowed IPs
// hold the destination, longest prefix first.
//
// lwIP is one global instance per process, so there is one OverlayStack: a second one is a bug
// (asserted). lwIP must be initialised (lwip_init) before, and its timers driven by the node's
// loop (sys_check_timeouts). All our state is in this object; lwIP's own globals are lwIP's.
//
// Built-in services on every node address, for tests and benchmarks: TCP echo (port 7), with
// flow control (received data is acknowledged to the window only once its echo is written,
// so nothing buffers without bound) and TCP discard (port 9), which counts bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <lwip/netif.h>
#include <lwip/tcp.h>

#include "board_budget.h"
#include "core/crypto/x25519.h"
#include "core/net/address.h"
#include "core/overlay/ack_coalescer.h"
#include "core/util/fixed_vector.h"
#include "core/util/ring_buffer.h"
#include "core/util/result.h"
#include "core/wireguard/peer.h"

namespace pinhole::overlay {

using wireguard::PeerId;

// Routes per peer: its key-derived /128 and its allowed IPs.
inline constexpr std::size_t max_routes_per_peer = 16;
// Configured node addresses besides the key-derived one (lwIP holds one IPv4 per netif).
inline constexpr std::size_t max_extra_addresses = 4;
inline constexpr std::uint16_t echo_port = 7;
inline constexpr std::uint16_t discard_port = 9;

class OverlayOutput {
public:
    // An IP packet lwIP sends to `peer`. The span is valid only during the call.
    virtual void send_packet(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept = 0;

protected:
    ~OverlayOutput() = default;
};

// Sees each packet from a peer before lwIP does (the exit's held SYNs, core/overlay/streams.h).
class OverlayInterceptor {
public:
    // True when the packet was taken (held, answered or dropped): lwIP never sees it.
    [[nodiscard]] virtual bool intercept(PeerId peer, netif* peer_netif,
                                         std::span<const std::uint8_t> ip_packet) noexcept = 0;

protected:
    ~OverlayInterceptor() = default;
};

struct OverlayCounters {
    std::uint64_t packets_sent = 0;        // handed to OverlayOutput
    std::uint64_t packets_delivered = 0;   // taken in by a peer's netif
    std::uint64_t not_routed_to_peer = 0;  // lwIP sent multicast (IPv6 housekeeping): no peer takes it
    std::uint64_t unknown_peer = 0;        // deliver() for a peer never added
    std::uint64_t packet_too_large = 0;    // deliver() above the MTU
    std::uint64_t no_pbuf = 0;             // lwIP's pool was empty
    std::uint64_t input_refused = 0;       // lwIP's input dropped it (it counts why)
    std::uint64_t connections_refused = 0; // echo or discard: no free connection slot
    std::uint64_t echo_connections = 0;
    std::uint64_t echo_bytes = 0;
    std::uint64_t discard_connections = 0;
    std::uint64_t discard_bytes = 0;
};

class OverlayStack {
public:
    // `own_public_key` gives the key-derived IPv6 address (keys::overlay_address).
    OverlayStack(OverlayOutput& output, const crypto::X25519Key& own_public_key) noexcept;
    OverlayStack(const OverlayStack&) = delete;
    OverlayStack& operator=(const OverlayStack&) = delete;
    ~OverlayStack();

    // A configured node address (before any add_peer). Errc::no_space beyond
    // max_extra_addresses, Errc::unsupported for a second IPv4 address (one per lwIP netif),
    // Errc::invalid_argument for an unspecified address.
    [[nodiscard]] Status add_address(const net::IpAddress& address) noexcept;

    // A netif for `peer`, up, with the node's addresses; it routes the peer's key-derived
    // address and `allowed_ips`. Errc::already_exists for a peer added before, Errc::no_space
    // when the table or the routes are full, Errc::invalid_argument for an MTU below 1280 or
    // above the board's budget.
    [[nodiscard]] Status add_peer(PeerId peer, std::uint16_t mtu_bytes,
                                  const crypto::X25519Key& public_key,
                                  std::span<const net::Prefix> allowed_ips) noexcept;

    // A decrypted IP packet from `peer` (WireGuard checked its source). Drops are counted.
    void deliver(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept;

    // The peer an outgoing packet to `destination` goes to, if any (what the hooks answer).
    [[nodiscard]] std::optional<PeerId> route(const net::IpAddress& destination) const noexcept;

    // With an interceptor (the node's StreamTable) every peer netif takes TCP to any destination
    // (lwIP patch boards/deps/patches/lwip/0001): the exit proxy. Without one, only our own.
    void set_interceptor(OverlayInterceptor* interceptor) noexcept { interceptor_ = interceptor; }
    // The UDP exit (core/overlay/udp_exit.h) sees every packet the interceptor did not take.
    void set_datagram_interceptor(OverlayInterceptor* interceptor) noexcept { datagram_interceptor_ = interceptor; }
    // Hands `packet` to lwIP on `lwip_netif` (deliver() and the exit's released SYNs).
    [[nodiscard]] err_t input(netif* lwip_netif, pbuf* packet) noexcept;
    // The lwIP netif of `peer`, to bind connections to it; nullptr for an unknown peer.
    [[nodiscard]] netif* peer_netif(PeerId peer) noexcept;
    [[nodiscard]] std::optional<PeerId> peer_of(const netif* lwip_netif) const noexcept;
    // One of this node's overlay addresses (key-derived or configured).
    [[nodiscard]] bool is_own_address(const net::IpAddress& address) const noexcept;
    // The node's overlay addresses: key-derived first, then the configured ones.
    [[nodiscard]] std::size_t own_addresses(std::span<net::IpAddress> out) const noexcept;

    // Pure TCP ACKs are held and merged until flush_acks() (core/overlay/ack_coalescer.h): a
    // node whose loop calls flush_acks() every turn turns it on.
    void set_ack_coalescing(bool enabled) noexcept;
    void flush_acks() noexcept { acks_.flush(output_); }
    [[nodiscard]] const AckCoalescerCounters& ack_counters() const noexcept { return acks_.counters(); }

    [[nodiscard]] const OverlayCounters& counters() const noexcept { return counters_; }
    // Echo and discard connections open now.
    [[nodiscard]] std::size_t open_connections() const noexcept;
    [[nodiscard]] net::IpAddress overlay_address() const noexcept { return own_address_; }

    // The peer netif that routes `destination`, for lwIP's routing hooks: found through
    // lwIP's netif list (the stack keeps no global pointer to itself).
    [[nodiscard]] static netif* netif_for(const net::IpAddress& destination) noexcept;
    // For lwIP's accept-any hooks: whether `lwip_netif` takes this TCP packet whatever its
    // destination (a peer netif of a stack with an interceptor).
    [[nodiscard]] static bool accepts_any_destination(const netif* lwip_netif) noexcept;

private:
    struct PeerNetif {
        netif lwip_netif{};
        OverlayStack* stack = nullptr;
        PeerId peer = 0;
        bool used = false;
        FixedVector<net::Prefix, max_routes_per_peer> routes;
    };
    // Received segments not yet echoed, held out of the window; when full, lwIP keeps the next
    // segment itself (refused data) and the sender retransmits.
    static constexpr std::size_t echo_segments_held = 64;
    enum class Service : std::uint8_t { echo, discard };
    struct Connection {
        OverlayStack* stack = nullptr;
        tcp_pcb* pcb = nullptr;
        Service service = Service::echo;
        RingBuffer<pbuf*, echo_segments_held> held;
        bool peer_closed = false;
        bool used = false;
    };

    // lwIP's callbacks (plain function pointers; `state`/`arg` is ours).
    static err_t init_netif(netif* lwip_netif) noexcept;
    static err_t output_ip4(netif* lwip_netif, pbuf* packet, const ip4_addr_t* destination) noexcept;
    static err_t output_ip6(netif* lwip_netif, pbuf* packet, const ip6_addr_t* destination) noexcept;
    static err_t on_accept_echo(void* arg, tcp_pcb* pcb, err_t error) noexcept;
    static err_t on_accept_discard(void* arg, tcp_pcb* pcb, err_t error) noexcept;
    static err_t on_receive(void* arg, tcp_pcb* pcb, pbuf* data, err_t error) noexcept;
    static err_t on_sent(void* arg, tcp_pcb* pcb, std::uint16_t length_bytes) noexcept;
    static void on_error(void* arg, err_t error) noexcept;

    [[nodiscard]] const PeerNetif* best_route(const net::IpAddress& destination) const noexcept;
    [[nodiscard]] PeerNetif* find_peer_netif(PeerId peer) noexcept;
    [[nodiscard]] Status add_node_addresses(PeerNetif& peer_netif) noexcept;
    [[nodiscard]] tcp_pcb* listen_on(std::uint16_t port) noexcept;
    void send_from(PeerNetif& peer_netif, pbuf* packet, const net::IpAddress& destination) noexcept;
    [[nodiscard]] err_t accept(tcp_pcb* pcb, Service service) noexcept;
    [[nodiscard]] err_t receive_echo(Connection& connection, pbuf* data) noexcept;
    [[nodiscard]] err_t write_echo(Connection& connection) noexcept;
    [[nodiscard]] err_t close(Connection& connection) noexcept;
    void release(Connection& connection) noexcept;

    OverlayOutput& output_;
    AckCoalescer acks_;
    bool coalesce_acks_ = false;
    OverlayInterceptor* interceptor_ = nullptr;
    OverlayInterceptor* datagram_interceptor_ = nullptr;
    // lwIP's accept-any hooks run before lwIP has parsed the IPv4 header: input() notes here
    // whether the packet it hands over is TCP (the only protocol the exit takes).
    bool input_is_tcp_ = false;
    net::IpAddress own_address_;
    FixedVector<net::IpAddress, max_extra_addresses> extra_addresses_;
    std::array<PeerNetif, PINHOLE_BUDGET_MAX_PEERS> peers_{};
    std::array<Connection, PINHOLE_BUDGET_MAX_STREAMS> connections_{};
    tcp_pcb* echo_listener_ = nullptr;
    tcp_pcb* discard_listener_ = nullptr;
    OverlayCounters counters_;
    // lwIP may hand a chain of pbufs; WireGuard seals one contiguous packet.
    std::array<std::uint8_t, wireguard::max_ip_packet_bytes> transmit_buffer_{};
};

}  // namespace pinhole::overlay
