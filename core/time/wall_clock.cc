#include "core/time/wall_clock.h"

#include <array>

#include "core/util/endian.h"

namespace pinhole {
namespace {

constexpr std::uint64_t nanoseconds_per_second = 1'000'000'000;
constexpr std::uint64_t nanoseconds_per_millisecond = 1'000'000;
constexpr std::size_t floor_record_bytes = 8;  // big-endian nanoseconds since the epoch

std::uint64_t to_ns(const port::WallTime& time) noexcept {
    return time.seconds * nanoseconds_per_second + time.nanoseconds;
}

port::WallTime from_ns(std::uint64_t ns) noexcept {
    return port::WallTime{ns / nanoseconds_per_second,
                          static_cast<std::uint32_t>(ns % nanoseconds_per_second)};
}

}  // namespace

Status WallClock::start() noexcept {
    std::array<std::uint8_t, floor_record_bytes> record{};
    const Result<std::size_t> read =
        storage_.read(floor_record, port::Secrecy::public_record, record);
    if (read.ok() && read.value() == record.size()) {
        floor_ns_ = load_be64(record.data());
    } else if (!read.ok() && read.error() != Errc::not_found) {
        return read.error();
    }
    // A record of the wrong length (a torn write cannot happen: writes are atomic) is ignored:
    // the platform clock alone is the best we know.
    last_monotonic_ms_ = clock_.monotonic_ms();
    elapsed_ms_ = 0;
    return raise_floor();
}

port::WallTime WallClock::now() noexcept {
    const std::uint32_t monotonic_ms = clock_.monotonic_ms();
    elapsed_ms_ += static_cast<std::uint32_t>(monotonic_ms - last_monotonic_ms_);  // wraps right
    last_monotonic_ms_ = monotonic_ms;
    std::uint64_t now_ns = to_ns(clock_.wall_time());
    const std::uint64_t carried_ns = floor_ns_ + elapsed_ms_ * nanoseconds_per_millisecond;
    if (now_ns < carried_ns) now_ns = carried_ns;
    if (now_ns < last_returned_ns_) now_ns = last_returned_ns_;
    last_returned_ns_ = now_ns;
    return from_ns(now_ns);
}

Status WallClock::raise_floor() noexcept {
    std::array<std::uint8_t, floor_record_bytes> record{};
    store_be64(record.data(), to_ns(now()));
    return storage_.write(floor_record, port::Secrecy::public_record, record);
}

}  // namespace pinhole
