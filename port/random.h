// Cryptographically secure random bytes: getrandom on Linux, the board's TRNG on bare metal,
// a seeded generator in simulation. Never a fixed seed outside simulation.
#pragma once

#include <cstdint>
#include <span>

#include "core/util/result.h"

namespace pinhole::port {

class Random {
public:
    // Fills all of `out` or fails (Errc::io): callers must not go on with partial randomness.
    [[nodiscard]] virtual Status fill(std::span<std::uint8_t> out) noexcept = 0;

protected:
    ~Random() = default;
};

}  // namespace pinhole::port
