// Allowed sources (whitepaper section 2, "cryptokey routing"): IPv4 and IPv6 prefixes, each
// owned by one peer. A decrypted packet is accepted only if its source's longest matching
// prefix belongs to the peer it came from; an outgoing packet goes to the owner of its
// destination's longest match. Fixed capacity (PINHOLE_BUDGET_MAX_ALLOWED_IPS). Entries are
// kept sorted by prefix length, longest first, so a lookup stops at the first match: O(n) in
// the number of prefixes, which the budget keeps small.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "board_budget.h"
#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::wireguard {

class AllowedIps {
public:
    static constexpr std::size_t capacity = PINHOLE_BUDGET_MAX_ALLOWED_IPS;

    // Adds `prefix` for `peer_slot` (host bits are cleared). A prefix another peer owns moves
    // to this one, as WireGuard does. Errc::invalid_argument for Family::none or a length
    // beyond the family's, Errc::no_space when full.
    [[nodiscard]] Status insert(const net::Prefix& prefix, std::uint16_t peer_slot) noexcept;
    // Removes every prefix of `peer_slot`.
    void remove_peer(std::uint16_t peer_slot) noexcept;
    // The owner of the longest prefix containing `address`, if any.
    [[nodiscard]] std::optional<std::uint16_t> lookup(const net::IpAddress& address) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    struct Entry {
        net::Prefix prefix;
        std::uint16_t peer_slot = 0;
    };
    std::array<Entry, capacity> entries_{};
    std::size_t size_ = 0;
};

}  // namespace pinhole::wireguard
