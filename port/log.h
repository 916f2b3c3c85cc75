// Where log lines go: stderr or syslog on Linux, the UART on a board, a buffer in simulation.
// The core formats lines itself (core/util/log.h); a sink only writes them.
#pragma once

#include <cstdint>
#include <string_view>

namespace pinhole::port {

enum class LogLevel : std::uint8_t { error, warning, info, debug };

class LogSink {
public:
    // One complete line without its newline. Must not fail or block for long.
    virtual void write(LogLevel level, std::string_view line) noexcept = 0;

protected:
    ~LogSink() = default;
};

}  // namespace pinhole::port
