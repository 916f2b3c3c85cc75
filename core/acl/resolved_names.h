// What the agent's DNS (core/overlay/dns_server.h) resolved for each peer, for the domain rules
// of the access list (DESIGN §1: "ACL rules may name domains, matched against what the agent
// resolved for that peer, for that TTL"). A flow a peer opens to an address is allowed by a
// domain rule only when, within the answer's TTL, the agent told that peer that a name the rule
// matches has that address.
//
// A fixed table: one entry per (peer, name, address family), holding the addresses of one
// answer (a newer answer replaces them). When it is full, an expired entry is reused first,
// then the one that expires soonest (counted: that peer's flows to that name are refused until
// it asks again). No clock is read: callers pass the monotonic time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "board_budget.h"
#include "config/schema.h"
#include "core/net/address.h"
#include "core/util/fixed_vector.h"

namespace pinhole::acl {

// Eight answers for every resolution the board may have in flight: 128 on Linux, 16 on mps2.
inline constexpr std::size_t max_resolved_names = PINHOLE_BUDGET_MAX_RESOLUTIONS * 8;
// Addresses kept per answer (as many as the port's resolver returns).
inline constexpr std::size_t max_resolved_addresses_per_name = 8;

struct ResolvedNamesCounters {
    std::uint64_t remembered = 0;     // answers recorded (new or refreshed)
    std::uint64_t evicted_live = 0;   // a fresh entry given up because the table was full
    std::uint64_t names_refused = 0;  // a name longer than a host name, or empty
};

// Whether `rule` (a domain rule) matches `name` (lowercase, no trailing dot): "printer.lan"
// matches itself; "*.lan" (any_subdomain) matches names under lan, not lan itself.
[[nodiscard]] bool domain_rule_matches(const config::AllowRule& rule, std::string_view name) noexcept;

class ResolvedNames {
public:
    // `name` is lowered here (ASCII); a trailing dot is dropped. Addresses are stored unmapped
    // (::ffff:a.b.c.d as a.b.c.d); those of the other family than the first one's are
    // skipped, as are addresses past max_resolved_addresses_per_name. Nothing is recorded for
    // an empty list or a TTL of 0.
    void remember(std::uint16_t peer, std::string_view name, std::span<const net::IpAddress> addresses,
                  std::uint32_t ttl_ms, std::uint32_t now_ms) noexcept;
    // Whether, for `peer`, a name `rule` matches resolved to `address` and has not expired at
    // `now_ms`.
    [[nodiscard]] bool resolved_to(std::uint16_t peer, const config::AllowRule& rule,
                                   const net::IpAddress& address, std::uint32_t now_ms) const noexcept;
    // Forgets everything about `peer`.
    void forget(std::uint16_t peer) noexcept;
    // Entries not yet expired at `now_ms`.
    [[nodiscard]] std::size_t live(std::uint32_t now_ms) const noexcept;
    [[nodiscard]] const ResolvedNamesCounters& counters() const noexcept { return counters_; }

private:
    struct Entry {
        bool used = false;
        std::uint16_t peer = 0;
        net::Family family = net::Family::none;
        std::uint32_t expires_ms = 0;
        config::HostName name;
        FixedVector<net::IpAddress, max_resolved_addresses_per_name> addresses;
    };
    [[nodiscard]] Entry& slot_for(std::uint16_t peer, std::string_view name, net::Family family,
                                  std::uint32_t now_ms) noexcept;

    std::array<Entry, max_resolved_names> entries_{};
    ResolvedNamesCounters counters_;
};

}  // namespace pinhole::acl
