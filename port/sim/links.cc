#include "port/sim/links.h"

namespace pinhole::sim {

void Links::set(HostIndex from, HostIndex to, const LinkFaults& faults) noexcept {
    links_[from][to].overridden = true;
    links_[from][to].faults = faults;
}

void Links::reset(HostIndex from, HostIndex to) noexcept { links_[from][to].overridden = false; }

const LinkFaults& Links::faults(HostIndex from, HostIndex to) const noexcept {
    const Link& link = links_[from][to];
    return link.overridden ? link.faults : default_;
}

void Links::cut(HostIndex a, HostIndex b) noexcept {
    links_[a][b].cut = true;
    links_[b][a].cut = true;
}

void Links::heal(HostIndex a, HostIndex b) noexcept {
    links_[a][b].cut = false;
    links_[b][a].cut = false;
}

void Links::heal_all() noexcept {
    for (auto& row : links_) {
        for (auto& link : row) link.cut = false;
    }
    isolated_.fill(false);
}

bool Links::is_cut(HostIndex from, HostIndex to) const noexcept {
    if (from == to) return false;
    return links_[from][to].cut || isolated_[from] || isolated_[to];
}

std::uint32_t Links::sample_delay_ms(HostIndex from, HostIndex to, Prng& prng) const noexcept {
    if (from == to) return 0;  // loopback: no wire
    const LinkFaults& link = faults(from, to);
    if (link.jitter_ms == 0) return link.delay_ms;
    return link.delay_ms + static_cast<std::uint32_t>(prng.below(std::uint64_t{link.jitter_ms} + 1));
}

}  // namespace pinhole::sim
