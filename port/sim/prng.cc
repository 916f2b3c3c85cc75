#include "port/sim/prng.h"

#include <cstdint>

namespace pinhole::sim {
namespace {

constexpr std::uint64_t rotate_left(std::uint64_t value, int bits) noexcept {
    return (value << bits) | (value >> (64 - bits));
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t mixed = state;
    mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
    mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
    return mixed ^ (mixed >> 31);
}

Prng::Prng(std::uint64_t seed) noexcept {
    // splitmix64 never yields four zero words in a row, the one state xoshiro must avoid.
    for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t Prng::next_u64() noexcept {
    const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
    const std::uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = rotate_left(state_[3], 45);
    return result;
}

std::uint64_t Prng::below(std::uint64_t bound) noexcept {
    if (bound == 0) return 0;
    // Values at or above the last whole multiple of `bound` would bias the remainder: draw
    // again. Each draw is rejected with probability < 1/2, so 64 draws bound the loop.
    const std::uint64_t unbiased_limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t value = next_u64();
    for (int attempt = 0; attempt < 64 && value >= unbiased_limit; ++attempt) value = next_u64();
    return value % bound;
}

bool Prng::chance_ppm(std::uint32_t parts_per_million) noexcept {
    if (parts_per_million == 0) return false;  // draw nothing: a fault-free run stays untouched
    return below(1'000'000) < parts_per_million;
}

void Prng::fill(std::span<std::uint8_t> out) noexcept {
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (i % 8 == 0) word = next_u64();
        // Byte by byte, least significant first: the same bytes on every endianness.
        out[i] = static_cast<std::uint8_t>(word >> (8 * (i % 8)));
    }
}

}  // namespace pinhole::sim
