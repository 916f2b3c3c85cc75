// What the network does to a packet between two hosts: delay, jitter, loss, duplication, and
// whether the link is cut. One default for every link, overridable per direction.
#pragma once

#include <array>
#include <cstdint>

#include "port/sim/limits.h"
#include "port/sim/prng.h"

namespace pinhole::sim {

using HostIndex = std::uint8_t;

struct LinkFaults {
    std::uint32_t delay_ms = 10;  // one way
    // A uniform extra delay in [0, jitter_ms] per packet: packets overtake each other when it
    // exceeds the gap between them, which is how the simulation reorders.
    std::uint32_t jitter_ms = 0;
    std::uint32_t loss_ppm = 0;        // parts per million of packets dropped
    std::uint32_t duplicate_ppm = 0;   // parts per million of packets delivered twice
};

[[nodiscard]] constexpr std::uint32_t ppm_from_percent(std::uint32_t percent) noexcept {
    return percent * 10'000;
}

class Links {
public:
    void set_default(const LinkFaults& faults) noexcept { default_ = faults; }
    void set(HostIndex from, HostIndex to, const LinkFaults& faults) noexcept;
    void reset(HostIndex from, HostIndex to) noexcept;  // back to the default
    [[nodiscard]] const LinkFaults& faults(HostIndex from, HostIndex to) const noexcept;

    void cut(HostIndex a, HostIndex b) noexcept;   // both directions
    void heal(HostIndex a, HostIndex b) noexcept;
    void isolate(HostIndex host) noexcept { isolated_[host] = true; }
    void rejoin(HostIndex host) noexcept { isolated_[host] = false; }
    void heal_all() noexcept;
    // A host always reaches itself (loopback), whatever is cut.
    [[nodiscard]] bool is_cut(HostIndex from, HostIndex to) const noexcept;
    [[nodiscard]] bool is_isolated(HostIndex host) const noexcept { return isolated_[host]; }

    // One-way delay for a packet sent now: the delay plus a draw of the jitter.
    [[nodiscard]] std::uint32_t sample_delay_ms(HostIndex from, HostIndex to, Prng& prng) const noexcept;

private:
    struct Link {
        bool overridden = false;
        bool cut = false;
        LinkFaults faults;
    };
    LinkFaults default_;
    std::array<std::array<Link, max_hosts_per_world>, max_hosts_per_world> links_{};
    std::array<bool, max_hosts_per_world> isolated_{};
};

}  // namespace pinhole::sim
