#include "core/acl/resolved_names.h"

#include "core/util/time.h"

namespace pinhole::acl {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool is_fresh(std::uint32_t expires_ms, std::uint32_t now_ms) noexcept {
    return time_before(now_ms, expires_ms);
}

}  // namespace

bool domain_rule_matches(const config::AllowRule& rule, std::string_view name) noexcept {
    if (rule.kind != config::AllowKind::domain || rule.domain.size() == 0) return false;
    const std::string_view domain = rule.domain.view();
    if (!rule.any_subdomain) return equal_ignoring_case(name, domain);
    // "x.lan" under "lan": at least one label, then a dot, then the domain.
    if (name.size() < domain.size() + 2) return false;
    const std::size_t dot = name.size() - domain.size() - 1;
    if (name[dot] != '.') return false;
    return equal_ignoring_case(std::string_view(name.data() + dot + 1, domain.size()), domain);
}

void ResolvedNames::remember(std::uint16_t peer, std::string_view name,
                             std::span<const net::IpAddress> addresses, std::uint32_t ttl_ms,
                             std::uint32_t now_ms) noexcept {
    if (!name.empty() && name.back() == '.') name = std::string_view(name.data(), name.size() - 1);
    if (name.empty() || name.size() > config::max_host_name_chars) {
        counters_.names_refused++;
        return;
    }
    if (addresses.empty() || ttl_ms == 0) return;
    const net::Family family = net::unmapped(addresses[0]).family;
    Entry& entry = slot_for(peer, name, family, now_ms);
    std::array<char, config::max_host_name_chars> lowered{};
    for (std::size_t i = 0; i < name.size(); ++i) lowered[i] = lower(name[i]);
    entry.used = true;
    entry.peer = peer;
    entry.family = family;
    entry.expires_ms = deadline_after(now_ms, ttl_ms < max_interval_ms ? ttl_ms : max_interval_ms);
    (void)entry.name.assign(std::string_view(lowered.data(), name.size()));  // fits: checked above
    entry.addresses.clear();
    for (const net::IpAddress& address : addresses) {
        const net::IpAddress plain = net::unmapped(address);
        if (plain.family != family) continue;
        (void)entry.addresses.push_back(plain);  // past the capacity: dropped, as documented
    }
    counters_.remembered++;
}

// The entry for (peer, name, family) if there is one; else a free or expired one; else the
// one that expires soonest.
ResolvedNames::Entry& ResolvedNames::slot_for(std::uint16_t peer, std::string_view name,
                                              net::Family family, std::uint32_t now_ms) noexcept {
    Entry* reusable = nullptr;
    Entry* soonest = &entries_[0];
    for (Entry& entry : entries_) {
        if (entry.used && entry.peer == peer && entry.family == family &&
            equal_ignoring_case(entry.name.view(), name)) {
            return entry;
        }
        if (!entry.used || !is_fresh(entry.expires_ms, now_ms)) {
            if (reusable == nullptr) reusable = &entry;
            continue;
        }
        if (time_before(entry.expires_ms, soonest->expires_ms)) soonest = &entry;
    }
    if (reusable != nullptr) return *reusable;
    counters_.evicted_live++;
    return *soonest;
}

bool ResolvedNames::resolved_to(std::uint16_t peer, const config::AllowRule& rule,
                                const net::IpAddress& address, std::uint32_t now_ms) const noexcept {
    const net::IpAddress plain = net::unmapped(address);
    for (const Entry& entry : entries_) {
        if (!entry.used || entry.peer != peer || entry.family != plain.family) continue;
        if (!is_fresh(entry.expires_ms, now_ms) || !domain_rule_matches(rule, entry.name.view())) continue;
        for (const net::IpAddress& candidate : entry.addresses) {
            if (candidate == plain) return true;
        }
    }
    return false;
}

void ResolvedNames::forget(std::uint16_t peer) noexcept {
    for (Entry& entry : entries_) {
        if (entry.used && entry.peer == peer) entry = Entry{};
    }
}

std::size_t ResolvedNames::live(std::uint32_t now_ms) const noexcept {
    std::size_t count = 0;
    for (const Entry& entry : entries_) {
        if (entry.used && is_fresh(entry.expires_ms, now_ms)) count++;
    }
    return count;
}

}  // namespace pinhole::acl
