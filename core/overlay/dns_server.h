// Names at the agent (DESIGN §1 "Services and names"): a node answers DNS on its overlay
// addresses, UDP and TCP port 53, to its peers only (a query arrives through a peer's netif, so
// the node knows who asks). The formats are core/overlay/dns_wire.h.
//
//  - `<service>.<agent>` (two labels, the first a service the asking peer may reach: the same
//    decision the service directory publishes) is the node's own: SRV (priority 0, weight 0,
//    the service's overlay port, the name itself as target), AAAA and A (the node's overlay
//    addresses); other types get an empty answer. Authoritative. The second label is whatever
//    the client calls this node: the node does not know its own name.
//  - Any other name, A or AAAA, to a peer the NamePolicy lets resolve: the port's resolver
//    (getaddrinfo in a worker on Linux), answered with a fixed TTL; addresses of the other
//    family are left out (an empty NOERROR then, not NXDOMAIN). A name the policy wants
//    remembered (a domain rule of that peer matches it) goes into resolved_names() with its
//    addresses for the TTL: core/acl then lets that peer's flows to them pass that rule.
//  - Refused, and counted: a message that is not a standard query (FORMERR, NOTIMP for another
//    opcode, nothing at all for a response or a runt), another class or type (NOTIMP), a peer
//    that may not resolve names (REFUSED), no room for another resolution or a resolver that
//    failed or took longer than resolve_timeout_ms (SERVFAIL), a name it never had (NXDOMAIN).
//
// Bounded: at most max_dns_pending resolutions wait (the board's PINHOLE_BUDGET_MAX_RESOLUTIONS,
// which the port's resolver shares with the exit); a UDP retry of a query still resolving is
// dropped; answers over UDP stop at 512 bytes (TC set, the question alone: RFC 2181 §9), over
// TCP at dns_response_max_bytes. TCP: at most max_dns_tcp_connections, each holding at most
// dns_tcp_buffer_bytes of queries and one delivery from lwIP (the next waits in lwIP, which stops
// the sender), answering one at a time in order (RFC 7766's pipelining, without reordering); one
// idle for tcp_idle_timeout_ms is closed, one over the limit reset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <lwip/tcp.h>
#include <lwip/udp.h>

#include "board_budget.h"
#include "core/acl/resolved_names.h"
#include "core/overlay/dns_wire.h"
#include "core/overlay/overlay_stack.h"
#include "core/overlay/service_directory.h"
#include "core/util/log.h"
#include "port/clock.h"
#include "port/resolver.h"

namespace pinhole::overlay {

inline constexpr std::size_t max_dns_pending = PINHOLE_BUDGET_MAX_RESOLUTIONS;
inline constexpr std::size_t max_dns_tcp_connections = PINHOLE_BUDGET_MAX_STREAMS >= 16 ? 4 : 1;
// Room for the longest query a client sends (a name, EDNS options) and several pipelined ones.
inline constexpr std::size_t dns_tcp_buffer_bytes = 2048;
// What an answer over TCP may take (the node's own answers need under 512).
inline constexpr std::size_t dns_response_max_bytes = 1024;

struct DnsSettings {
    std::uint32_t ttl_s = 60;                  // every answer's, and how long a name is remembered
    std::uint32_t resolve_timeout_ms = 4'000;  // then SERVFAIL (a stub resolver asks again)
    std::uint32_t tcp_idle_timeout_ms = 10'000;
};

// Who may resolve what (the node's access lists, core/acl).
class NamePolicy {
public:
    // Whether names other than the node's own are resolved for `peer` (REFUSED otherwise).
    [[nodiscard]] virtual bool may_resolve(PeerId peer) noexcept = 0;
    // Whether an answer about `name` (lowercase, no trailing dot) is remembered for `peer`.
    [[nodiscard]] virtual bool remembers(PeerId peer, std::string_view name) noexcept = 0;

protected:
    ~NamePolicy() = default;
};

struct DnsServerCounters {
    std::uint64_t queries_udp = 0;
    std::uint64_t queries_tcp = 0;
    std::uint64_t answered_own = 0;        // from the node's services and addresses
    std::uint64_t answered_resolved = 0;   // NOERROR from the resolver (empty ones included)
    std::uint64_t names_remembered = 0;    // for a domain rule
    std::uint64_t nxdomain = 0;
    std::uint64_t servfail = 0;
    std::uint64_t formerr = 0;
    std::uint64_t notimp = 0;
    std::uint64_t refused = 0;
    std::uint64_t truncated = 0;           // over UDP: TC, the client asks over TCP
    std::uint64_t dropped = 0;             // not answerable (a response, under a header)
    std::uint64_t duplicates = 0;          // a UDP retry while its question resolves
    std::uint64_t busy = 0;                // every pending slot taken (answered SERVFAIL)
    std::uint64_t resolver_timeouts = 0;
    std::uint64_t not_for_us = 0;          // to an address not the node's, or from no peer
    std::uint64_t tcp_accepted = 0;
    std::uint64_t tcp_refused = 0;         // every connection slot taken: reset
    std::uint64_t tcp_malformed = 0;       // a length under a header, or over the buffer: reset
    std::uint64_t tcp_idle_closed = 0;
    std::uint64_t send_failed = 0;         // lwIP had no memory for an answer
};

// Where an answer goes: the UDP address and netif a query came from, or a TCP connection.
struct DnsOrigin {
    bool tcp = false;
    netif* peer_netif = nullptr;  // udp
    ip_addr_t from{};             // udp
    std::uint16_t from_port = 0;  // udp
    ip_addr_t to{};               // udp: the node's address it was sent to (answered from it)
    std::uint8_t connection = 0;  // tcp: slot
    std::uint32_t generation = 0; // tcp: the slot's use this answer belongs to
};

class DnsServer final : public port::ResolveEvents {
public:
    struct Ports {
        port::Resolver& resolver;
        port::Clock& clock;
    };
    DnsServer(OverlayStack& overlay, DirectoryPolicy& services, NamePolicy& names, Ports ports,
              const Logger& logger, const DnsSettings& settings = {}) noexcept;
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;
    ~DnsServer();

    // Resolver deadlines and idle TCP connections; call at least once a second.
    void tick() noexcept;

    // One DNS message from `peer` (what UDP and TCP hand over; public for tests and the
    // fuzzer): answered to `origin` now, or once resolved, or dropped as the header says.
    void take_query(PeerId peer, std::span<const std::uint8_t> message, const DnsOrigin& origin) noexcept;

    [[nodiscard]] const acl::ResolvedNames& resolved_names() const noexcept { return names_; }
    [[nodiscard]] const DnsServerCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] std::size_t pending() const noexcept;
    [[nodiscard]] std::size_t tcp_connections() const noexcept;

    // port::ResolveEvents
    void on_resolved(port::ResolveId id, Errc result, std::span<const net::IpAddress> addresses) noexcept override;

private:
    struct Pending {
        bool used = false;
        PeerId peer = 0;
        DnsOrigin origin;
        DnsQuery query;
        port::ResolveId resolve = 0;
        std::uint32_t deadline_ms = 0;
    };
    struct Connection {
        DnsServer* server = nullptr;
        tcp_pcb* pcb = nullptr;
        PeerId peer = 0;
        std::uint8_t index = 0;
        std::uint32_t generation = 0;
        bool waiting = false;      // its first query is resolving: the rest waits
        bool peer_closed = false;  // FIN seen: closed once nothing is waiting
        std::uint32_t last_activity_ms = 0;
        std::size_t buffered = 0;
        std::array<std::uint8_t, dns_tcp_buffer_bytes> buffer{};
        pbuf* held = nullptr;  // a delivery not yet copied into the buffer (ours)
    };

    static void on_datagram(void* arg, udp_pcb* pcb, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;
    static err_t on_accept(void* arg, tcp_pcb* pcb, err_t error) noexcept;
    static err_t on_tcp_received(void* arg, tcp_pcb* pcb, pbuf* data, err_t error) noexcept;
    static void on_tcp_error(void* arg, err_t error) noexcept;
    void take_datagram(pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;
    [[nodiscard]] err_t accept(tcp_pcb* pcb) noexcept;
    [[nodiscard]] err_t receive(Connection& connection, pbuf* data) noexcept;
    // Answers the buffered queries in order while none waits; false when it reset the connection.
    [[nodiscard]] bool serve_buffered(Connection& connection) noexcept;
    [[nodiscard]] bool drain(Connection& connection) noexcept;
    void close(Connection& connection, bool reset) noexcept;

    [[nodiscard]] bool answer_own(PeerId peer, const DnsQuery& query, const DnsOrigin& origin) noexcept;
    void start_resolving(PeerId peer, const DnsQuery& query, const DnsOrigin& origin) noexcept;
    void refuse(std::span<const std::uint8_t> message, DnsRcode rcode, const DnsOrigin& origin) noexcept;
    void respond(const DnsQuery& query, const DnsResponse& response, const DnsOrigin& origin) noexcept;
    void finish(Pending& pending, Errc result, std::span<const net::IpAddress> addresses) noexcept;
    void remember(const Pending& pending, std::span<const DnsRecord> records) noexcept;
    void count(DnsRcode rcode) noexcept;
    void send(std::span<const std::uint8_t> message, const DnsOrigin& origin) noexcept;
    void send_tcp(Connection& connection, std::span<const std::uint8_t> message) noexcept;
    [[nodiscard]] bool is_duplicate(PeerId peer, const DnsQuery& query, const DnsOrigin& origin) const noexcept;
    [[nodiscard]] std::uint32_t now_ms() const noexcept { return ports_.clock.monotonic_ms(); }

    OverlayStack& overlay_;
    DirectoryPolicy& services_;
    NamePolicy& policy_;
    Ports ports_;
    const Logger& logger_;
    DnsSettings settings_;
    udp_pcb* udp_ = nullptr;
    tcp_pcb* listener_ = nullptr;
    std::array<Pending, max_dns_pending> pending_{};
    std::array<Connection, max_dns_tcp_connections> connections_{};
    std::uint32_t next_generation_ = 1;
    // The pcb reset inside one of its callbacks, which must then answer ERR_ABRT.
    tcp_pcb* aborted_ = nullptr;
    acl::ResolvedNames names_;
    DnsServerCounters counters_;
    std::array<DnsRecord, max_dns_addresses> records_{};
    std::array<std::uint8_t, dns_tcp_length_bytes + dns_response_max_bytes> out_{};
    std::array<std::uint8_t, max_udp_dns_bytes> in_{};
};

}  // namespace pinhole::overlay
