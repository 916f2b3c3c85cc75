// TAI64N timestamps (https://cr.yp.to/libtai/tai64.html) as WireGuard's handshake initiation
// carries them: a responder accepts an initiation only if its timestamp is later than the last
// one it saw from that peer, which defeats replayed initiations.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "port/clock.h"

namespace pinhole::crypto {

inline constexpr std::size_t tai64n_bytes = 12;
using Tai64n = std::array<std::uint8_t, tai64n_bytes>;

// Big-endian 2^62 + 10 + Unix seconds, then big-endian nanoseconds rounded down to a multiple
// of 2^24 ns (~16.8 ms): the label and the rounding wireguard-go and the Linux driver use, so
// timestamps do not reveal the clock's fine grain. Initiations are rate-limited to 50 per
// second, well above that grain.
[[nodiscard]] Tai64n tai64n_encode(const port::WallTime& time) noexcept;

// True when `later` is strictly after `earlier` (a byte-wise comparison of the encodings).
[[nodiscard]] bool tai64n_after(const Tai64n& later, const Tai64n& earlier) noexcept;

}  // namespace pinhole::crypto
