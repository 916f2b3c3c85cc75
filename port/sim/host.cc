#include "port/sim/host.h"

#include <unistd.h>

#include <algorithm>

#include "core/util/format.h"
#include "port/sim/world.h"

namespace pinhole::sim {
namespace {

constexpr std::uint16_t first_ephemeral_port = 49152;

// Each host's generator is its own stream of the world seed, so what one node draws never
// shifts another's bytes or the network's faults.
std::uint64_t host_seed(std::uint64_t world_seed, HostIndex index) noexcept {
    std::uint64_t state = world_seed ^ (0x5157'4d48'4f53'5400ULL + index);  // "SIMHOST"
    return splitmix64(state);
}

char level_letter(port::LogLevel level) noexcept {
    switch (level) {
        case port::LogLevel::error: return 'E';
        case port::LogLevel::warning: return 'W';
        case port::LogLevel::info: return 'I';
        case port::LogLevel::debug: return 'D';
    }
    return '?';
}

}  // namespace

Host::Host(World& world, HostIndex index, const HostOptions& options) noexcept
    : world_(world), index_(index), random_(host_seed(world.seed(), index)) {
    label_bytes_ = std::min(options.label.size(), label_.size());
    std::copy_n(options.label.begin(), label_bytes_, label_.begin());
    PINHOLE_ASSERT(options.addresses.size() <= max_addresses_per_host);
    for (const net::IpAddress& address : options.addresses) {
        PINHOLE_ASSERT(address.family != net::Family::none);
        const Status added = addresses_.push_back(address);
        PINHOLE_ASSERT(added.ok());
    }
}

port::Platform Host::platform() noexcept {
    return port::Platform{clock_,      random_,     udp_,    tcp_,
                          resolver_,   interfaces_, storage_, log_};
}

bool Host::owns(const net::IpAddress& address) const noexcept {
    return std::find(addresses_.begin(), addresses_.end(), address) != addresses_.end();
}

Result<net::IpAddress> Host::source_address_for(const net::IpAddress& to) const noexcept {
    for (const net::IpAddress& address : addresses_) {
        if (address.family == to.family) return address;
    }
    return Errc::unreachable;
}

std::uint16_t Host::next_ephemeral_port() noexcept {
    const std::uint16_t port = next_ephemeral_port_;
    next_ephemeral_port_ = port == 65535 ? first_ephemeral_port : static_cast<std::uint16_t>(port + 1);
    return port;
}

std::uint32_t HostClock::monotonic_ms() noexcept { return host_.world().monotonic_ms(); }

port::WallTime HostClock::wall_time() noexcept {
    const World& world = host_.world();
    const port::WallTime epoch = world.options().wall_epoch;
    constexpr std::int64_t nanoseconds_per_second = 1'000'000'000;
    const std::int64_t since_epoch_ms = static_cast<std::int64_t>(world.now_ms()) + wall_offset_ms_;
    const std::int64_t wall_ns =
        std::max<std::int64_t>(0, static_cast<std::int64_t>(epoch.seconds) * nanoseconds_per_second +
                                      epoch.nanoseconds + since_epoch_ms * 1'000'000);
    return port::WallTime{static_cast<std::uint64_t>(wall_ns / nanoseconds_per_second),
                          static_cast<std::uint32_t>(wall_ns % nanoseconds_per_second)};
}

Status HostRandom::fill(std::span<std::uint8_t> out) noexcept {
    prng_.fill(out);
    return {};
}

Result<std::size_t> HostInterfaces::local_addresses(std::span<net::IpAddress> out) noexcept {
    const std::span<const net::IpAddress> addresses = host_.addresses();
    const std::size_t count = std::min(out.size(), addresses.size());
    std::copy_n(addresses.begin(), count, out.begin());
    return count;
}

void HostLog::write(port::LogLevel level, std::string_view line) noexcept {
    const std::uint64_t now_ms = host_.world().now_ms();
    const std::uint64_t millis = now_ms % 1000;
    Line& kept = lines_[next_slot_];
    // "[12.005] alice W: text": seconds and zero-padded milliseconds of virtual time.
    kept.length_bytes = format_to(kept.text, "[{}.{}{}{}] {} {}: {}", now_ms / 1000, millis / 100,
                                  millis / 10 % 10, millis % 10, host_.label(),
                                  level_letter(level), line);
    next_slot_ = (next_slot_ + 1) % lines_.size();
    kept_count_ = std::min(kept_count_ + 1, lines_.size());
    if (host_.world().logs_to_stderr()) {
        char with_newline[max_log_line_bytes + 1];
        std::copy_n(kept.text.begin(), kept.length_bytes, with_newline);
        with_newline[kept.length_bytes] = '\n';
        (void)!::write(STDERR_FILENO, with_newline, kept.length_bytes + 1);
    }
}

std::string_view HostLog::line(std::size_t index) const noexcept {
    PINHOLE_ASSERT(index < kept_count_);
    const std::size_t oldest = (next_slot_ + lines_.size() - kept_count_) % lines_.size();
    const Line& kept = lines_[(oldest + index) % lines_.size()];
    return {kept.text.data(), kept.length_bytes};
}

std::size_t HostLog::count_containing(std::string_view text) const noexcept {
    std::size_t count = 0;
    for (std::size_t i = 0; i < kept_count_; ++i) {
        if (line(i).find(text) != std::string_view::npos) ++count;
    }
    return count;
}

}  // namespace pinhole::sim
