#include "core/crypto/tai64n.h"

#include <algorithm>

#include "core/util/assert.h"
#include "core/util/endian.h"

namespace pinhole::crypto {
namespace {

// TAI64 labels second s of TAI as 2^62 + s; like wireguard-go we add a fixed 10 s (TAI - UTC
// in 1972) and no later leap seconds: peers only compare their own timestamps.
constexpr std::uint64_t tai64_label_unix_epoch = (std::uint64_t{1} << 62) + 10;
constexpr std::uint32_t tai64n_whitener_mask = (std::uint32_t{1} << 24) - 1;
constexpr std::uint32_t nanoseconds_per_second = 1'000'000'000;

}  // namespace

Tai64n tai64n_encode(const port::WallTime& time) noexcept {
    PINHOLE_ASSERT(time.nanoseconds < nanoseconds_per_second);  // the port's contract
    Tai64n stamp;
    store_be64(&stamp[0], tai64_label_unix_epoch + time.seconds);
    store_be32(&stamp[8], time.nanoseconds & ~tai64n_whitener_mask);
    return stamp;
}

bool tai64n_after(const Tai64n& later, const Tai64n& earlier) noexcept {
    return std::lexicographical_compare(earlier.begin(), earlier.end(), later.begin(), later.end());
}

}  // namespace pinhole::crypto
