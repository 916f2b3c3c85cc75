// Where a simulation's seed comes from. A failing run is replayed by exporting the seed it
// printed: PINHOLE_SIM_SEED=<n> ctest ... (or the test binary with --gtest_filter).
#pragma once

#include <cstdint>

namespace pinhole::sim {

inline constexpr char seed_environment_variable[] = "PINHOLE_SIM_SEED";

// PINHOLE_SIM_SEED when it is set (decimal, or hex with 0x), otherwise `fallback`. A value that
// does not parse stops the run: replaying the wrong seed would look like a passing replay.
[[nodiscard]] std::uint64_t seed_from_environment(std::uint64_t fallback) noexcept;

// A fresh seed from the operating system, for runs that explore rather than replay.
[[nodiscard]] std::uint64_t random_seed() noexcept;

// Writes "sim seed: <n>" and the replay hint as one line on stderr.
void announce_seed(std::uint64_t seed) noexcept;

}  // namespace pinhole::sim
