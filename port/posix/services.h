// The small Linux services: clocks, getrandom, interface addresses, stderr logging. (Sockets,
// the resolver and storage have their own files.)
#pragma once

#include "port/clock.h"
#include "port/interfaces.h"
#include "port/log.h"
#include "port/random.h"

namespace pinhole::posix {

class PosixClock final : public port::Clock {
public:
    [[nodiscard]] std::uint32_t monotonic_ms() noexcept override;
    [[nodiscard]] port::WallTime wall_time() noexcept override;
};

class PosixRandom final : public port::Random {
public:
    [[nodiscard]] Status fill(std::span<std::uint8_t> out) noexcept override;
};

class PosixInterfaces final : public port::Interfaces {
public:
    [[nodiscard]] Result<std::size_t> local_addresses(std::span<net::IpAddress> out) noexcept override;
};

// One line per record on stderr, prefixed with the level (journald adds the time).
class StderrLog final : public port::LogSink {
public:
    void write(port::LogLevel level, std::string_view line) noexcept override;
};

}  // namespace pinhole::posix
