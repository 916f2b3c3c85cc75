// The simulation's generator: xoshiro256** (Blackman and Vigna, 2018), seeded through
// splitmix64 as its authors recommend. Fast, small, and the same on every platform, so a seed
// replays the same run on x86-64 and under qemu. Not cryptographic: simulation only.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace pinhole::sim {

// One step of splitmix64: also a good 64-bit mixer for deriving seeds.
[[nodiscard]] std::uint64_t splitmix64(std::uint64_t& state) noexcept;

class Prng {
public:
    explicit Prng(std::uint64_t seed) noexcept;

    [[nodiscard]] std::uint64_t next_u64() noexcept;
    // Uniform in [0, bound); 0 when bound is 0. Unbiased (rejection sampling).
    [[nodiscard]] std::uint64_t below(std::uint64_t bound) noexcept;
    // True with probability parts_per_million / 1e6.
    [[nodiscard]] bool chance_ppm(std::uint32_t parts_per_million) noexcept;
    void fill(std::span<std::uint8_t> out) noexcept;

private:
    std::array<std::uint64_t, 4> state_{};
};

}  // namespace pinhole::sim
