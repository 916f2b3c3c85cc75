// The service directory (DESIGN §1 Services and names): a node answers, on UDP
// service_directory_port of its overlay addresses, which of its services the asking peer may
// reach and on which port (core/overlay/service_directory_wire.h has the format); a client node
// asks an agent before it dials a service by name. One datagram each way, retried on loss.
#pragma once

#include <array>
#include <cstdint>

#include <lwip/udp.h>

#include "core/overlay/overlay_stack.h"
#include "core/overlay/service_directory_wire.h"
#include "port/clock.h"

namespace pinhole::overlay {

// Which services a peer may see (the node's access lists).
class DirectoryPolicy {
public:
    virtual void published_services(PeerId peer, ServiceList& out) noexcept = 0;

protected:
    ~DirectoryPolicy() = default;
};

class DirectoryEvents {
public:
    // The answer to lookup(): Errc::ok with the peer's list, or timed_out.
    virtual void on_directory(std::uint32_t query, Errc result, const ServiceList& services) noexcept = 0;

protected:
    ~DirectoryEvents() = default;
};

struct DirectoryCounters {
    std::uint64_t requests_answered = 0;
    std::uint64_t requests_malformed = 0;
    std::uint64_t requests_not_for_us = 0;  // to another address: the directory is ours only
    std::uint64_t replies_malformed = 0;
    std::uint64_t replies_unexpected = 0;
    std::uint64_t lookups_timed_out = 0;
};

class ServiceDirectory {
public:
    static constexpr std::size_t max_lookups = 8;
    // Patient enough for one lost WireGuard initiation (REKEY_TIMEOUT, 5 s): a node that just
    // started may ask before its first handshake, or before its relay channel is up.
    static constexpr std::uint32_t retry_interval_ms = 700;
    static constexpr int max_attempts = 12;

    ServiceDirectory(OverlayStack& overlay, DirectoryPolicy& policy, port::Clock& clock) noexcept;
    ServiceDirectory(const ServiceDirectory&) = delete;
    ServiceDirectory& operator=(const ServiceDirectory&) = delete;
    ~ServiceDirectory();

    // Asks `peer` (at its key-derived overlay address) for its list. Errc::no_space when
    // max_lookups are in flight, not_found for an unknown peer.
    [[nodiscard]] Result<std::uint32_t> lookup(PeerId peer, const net::IpAddress& peer_address,
                                               DirectoryEvents& events) noexcept;
    void cancel(std::uint32_t query) noexcept;
    // Retries and timeouts; call at least every retry_interval_ms.
    void tick() noexcept;
    [[nodiscard]] const DirectoryCounters& counters() const noexcept { return counters_; }

private:
    struct Lookup {
        bool used = false;
        std::uint32_t id = 0;
        PeerId peer = 0;
        net::IpAddress address;
        DirectoryEvents* events = nullptr;
        int attempts = 0;
        std::uint32_t next_send_ms = 0;
    };
    static void on_datagram(void* arg, udp_pcb* pcb, pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;
    void answer(pbuf* datagram, const ip_addr_t* from, u16_t port) noexcept;
    void take_reply(pbuf* datagram) noexcept;
    void send_request(Lookup& lookup) noexcept;

    OverlayStack& overlay_;
    DirectoryPolicy& policy_;
    port::Clock& clock_;
    udp_pcb* server_ = nullptr;  // requests in, replies out
    udp_pcb* client_ = nullptr;  // our requests out, replies in
    std::array<Lookup, max_lookups> lookups_{};
    std::uint32_t next_id_ = 1;
    DirectoryCounters counters_;
    std::array<std::uint8_t, service_directory_max_datagram_bytes> buffer_{};
};

}  // namespace pinhole::overlay
