// The client side of names at the agent (DESIGN §1 "SOCKS5 host names resolve at the agent the
// flow exits from"): a client node asks an agent's DNS (core/overlay/dns_server.h), over the
// overlay to the agent's address, which addresses a host name has there, then dials one. The
// agent remembers what it told this node, so its domain rules let that flow through.
//
// One lookup asks AAAA first (the overlay is IPv6: every node can dial an IPv6 address) and, when
// the name has none, A. UDP only, one datagram each way, retried like the service directory's
// lookups (patient enough for a first handshake); the agent's answers fit 512 bytes, so a
// truncated one is reported as such, not retried over TCP. Answers are taken only from the
// asked peer's netif and the asked address, with the query's ID and question.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include <lwip/udp.h>

#include "core/overlay/dns_wire.h"
#include "core/overlay/overlay_stack.h"
#include "port/clock.h"

namespace pinhole::overlay {

class DnsClientEvents {
public:
    // The answer to resolve_host(): Errc::ok with at least one address (AAAA ones, or else A
    // ones), and the TTL the agent gave them; or not_found (no such name, or no address),
    // refused (the agent will not resolve names for this node), io (the agent's resolver
    // failed), unsupported (the agent could not read the query, or truncated its answer),
    // timed_out (no answer), with no address.
    virtual void on_host_resolved(std::uint32_t lookup, Errc result, std::span<const net::IpAddress> addresses,
                                  std::uint32_t ttl_s) noexcept = 0;

protected:
    ~DnsClientEvents() = default;
};

struct DnsClientCounters {
    std::uint64_t queries_sent = 0;
    std::uint64_t answers = 0;
    std::uint64_t replies_malformed = 0;
    std::uint64_t replies_unexpected = 0;  // late, duplicated, from another peer or address
    std::uint64_t lookups_timed_out = 0;
};

class DnsClient {
public:
    static constexpr std::size_t max_lookups = 8;
    static constexpr std::uint32_t retry_interval_ms = 700;
    static constexpr int max_attempts = 12;  // per question: 8.4 s

    DnsClient(OverlayStack& overlay, port::Clock& clock) noexcept;
    DnsClient(const DnsClient&) = delete;
    DnsClient& operator=(const DnsClient&) = delete;
    ~DnsClient();

    // Asks `peer`, at `server` (its overlay address), for the addresses of `host` (a host name,
    // or Errc::invalid_argument). Errc::no_space when max_lookups are in flight, not_found for
    // an unknown peer.
    [[nodiscard]] Result<std::uint32_t> resolve_host(PeerId peer, const net::IpAddress& server, std::string_view host,
                                                     DnsClientEvents& events) noexcept;
    void cancel(std::uint32_t lookup) noexcept;
    // Retries and timeouts; call at least every retry_interval_ms.
    void tick() noexcept;
    [[nodiscard]] const DnsClientCounters& counters() const noexcept { return counters_; }

private:
    struct Lookup {
        bool used = false;
        std::uint32_t id = 0;
        PeerId peer = 0;
        net::IpAddress server;
        DnsQuestion question;
        std::uint16_t query_id = 0;
        DnsClientEvents* events = nullptr;
        int attempts = 0;
        std::uint32_t next_send_ms = 0;
    };
    static void on_datagram(void* arg, udp_pcb* pcb, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;
    void take_reply(pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;
    void take_answer(Lookup& lookup, const DnsAnswer& answer) noexcept;
    void ask(Lookup& lookup, DnsType type) noexcept;
    void send_query(Lookup& lookup) noexcept;
    void finish(Lookup& lookup, Errc result, std::span<const net::IpAddress> addresses, std::uint32_t ttl_s) noexcept;

    OverlayStack& overlay_;
    port::Clock& clock_;
    udp_pcb* pcb_ = nullptr;
    std::array<Lookup, max_lookups> lookups_{};
    std::uint32_t next_id_ = 1;
    std::uint16_t next_query_id_ = 0x5a17;
    DnsClientCounters counters_;
    std::array<std::uint8_t, max_udp_dns_bytes> buffer_{};
};

}  // namespace pinhole::overlay
