// Asynchronous name resolution: the event loop never blocks on DNS (a worker thread around
// getaddrinfo on Linux, lwIP's resolver on bare metal).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::port {

using ResolveId = std::uint16_t;
inline constexpr std::size_t max_resolved_addresses = 8;
inline constexpr std::size_t max_host_name_bytes = 253;  // RFC 1035

class ResolveEvents {
public:
    // Exactly once per started resolution: the addresses found (at most
    // max_resolved_addresses), or not_found / timed_out / io with an empty span.
    virtual void on_resolved(ResolveId id, Errc result,
                             std::span<const net::IpAddress> addresses) noexcept = 0;

protected:
    ~ResolveEvents() = default;
};

class Resolver {
public:
    // Starts resolving `host` (a name of at most max_host_name_bytes) for `family`
    // (none: both). Errc::no_space when too many resolutions are in flight.
    [[nodiscard]] virtual Result<ResolveId> resolve(std::string_view host, net::Family family,
                                                    ResolveEvents& events) noexcept = 0;
    // Stops waiting: on_resolved will not be called for `id`.
    virtual void cancel(ResolveId id) noexcept = 0;

protected:
    ~Resolver() = default;
};

}  // namespace pinhole::port
