// Logging that costs nothing when off. Two gates:
//  - compile time: PINHOLE_LOG_LEVEL_MAX (default: info in release builds, debug otherwise; a
//    board may lower it, down to PINHOLE_LOG_LEVEL_OFF). A macro above it expands to a
//    discarded `if constexpr (false)`: no code, arguments never evaluated, yet still
//    type-checked so it cannot rot;
//  - run time: the Logger's level. Arguments are evaluated only if the level is enabled.
// Lines are formatted by core/util/format.h into log_line_bytes on the stack (cut with "…")
// and handed to the port's LogSink. The format string must be a constant: its "{}" count is
// checked against the arguments at compile time.
//
//   PINHOLE_LOG_INFO(logger, "peer {} at {}", Hex{public_key}, endpoint);
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "core/util/format.h"
#include "port/log.h"

#define PINHOLE_LOG_LEVEL_OFF (-1)
#define PINHOLE_LOG_LEVEL_ERROR 0
#define PINHOLE_LOG_LEVEL_WARNING 1
#define PINHOLE_LOG_LEVEL_INFO 2
#define PINHOLE_LOG_LEVEL_DEBUG 3

#ifndef PINHOLE_LOG_LEVEL_MAX
#ifdef NDEBUG
#define PINHOLE_LOG_LEVEL_MAX PINHOLE_LOG_LEVEL_INFO
#else
#define PINHOLE_LOG_LEVEL_MAX PINHOLE_LOG_LEVEL_DEBUG
#endif
#endif

namespace pinhole {

static_assert(static_cast<int>(port::LogLevel::error) == PINHOLE_LOG_LEVEL_ERROR &&
              static_cast<int>(port::LogLevel::warning) == PINHOLE_LOG_LEVEL_WARNING &&
              static_cast<int>(port::LogLevel::info) == PINHOLE_LOG_LEVEL_INFO &&
              static_cast<int>(port::LogLevel::debug) == PINHOLE_LOG_LEVEL_DEBUG);

// Longest line handed to a sink, in bytes; longer ones end in "…".
inline constexpr std::size_t log_line_bytes = 256;

class Logger {
public:
    Logger(port::LogSink& sink, port::LogLevel level) noexcept : sink_(sink), level_(level) {}

    [[nodiscard]] port::LogLevel level() const noexcept { return level_; }
    void set_level(port::LogLevel level) noexcept { level_ = level; }
    [[nodiscard]] bool enabled(port::LogLevel level) const noexcept { return level <= level_; }

    // Formats and writes one line if `level` is enabled. Prefer the macros: they skip
    // evaluating the arguments when the level is off.
    template <typename... Args>
    void log(port::LogLevel level, std::string_view format, const Args&... args) const noexcept {
        if (!enabled(level)) return;
        std::array<char, log_line_bytes> line;  // only the formatted prefix is ever read
        const std::size_t length = format_to(line, format, args...);
        sink_.write(level, std::string_view(line.data(), length));
    }

private:
    port::LogSink& sink_;
    port::LogLevel level_;
};

namespace log_detail {
// Only its type is used (in decltype): the argument count of a log call, unevaluated.
template <typename... Args>
std::integral_constant<std::size_t, sizeof...(Args)> count_args(const Args&...) noexcept;
}  // namespace log_detail

}  // namespace pinhole

#define PINHOLE_LOG_AT_(logger, level, log_format, ...)                                          \
    do {                                                                                       \
        static_assert(::pinhole::format_placeholder_count(log_format) ==                        \
                          decltype(::pinhole::log_detail::count_args(__VA_ARGS__))::value,     \
                      "log format: the number of {} differs from the number of arguments");   \
        const auto& pinhole_log_logger_ = (logger);                                            \
        if (pinhole_log_logger_.enabled(level)) {                                              \
            pinhole_log_logger_.log(level, log_format __VA_OPT__(, ) __VA_ARGS__);             \
        }                                                                                      \
    } while (0)

// Compiled out: checked like the real thing, never run, no code.
#define PINHOLE_LOG_OFF_(logger, level, ...)                                                   \
    do {                                                                                       \
        if constexpr (false) PINHOLE_LOG_AT_(logger, level, __VA_ARGS__);                      \
    } while (0)

#if PINHOLE_LOG_LEVEL_MAX >= PINHOLE_LOG_LEVEL_ERROR
#define PINHOLE_LOG_ERROR(logger, ...) \
    PINHOLE_LOG_AT_(logger, ::pinhole::port::LogLevel::error, __VA_ARGS__)
#else
#define PINHOLE_LOG_ERROR(logger, ...) \
    PINHOLE_LOG_OFF_(logger, ::pinhole::port::LogLevel::error, __VA_ARGS__)
#endif

#if PINHOLE_LOG_LEVEL_MAX >= PINHOLE_LOG_LEVEL_WARNING
#define PINHOLE_LOG_WARNING(logger, ...) \
    PINHOLE_LOG_AT_(logger, ::pinhole::port::LogLevel::warning, __VA_ARGS__)
#else
#define PINHOLE_LOG_WARNING(logger, ...) \
    PINHOLE_LOG_OFF_(logger, ::pinhole::port::LogLevel::warning, __VA_ARGS__)
#endif

#if PINHOLE_LOG_LEVEL_MAX >= PINHOLE_LOG_LEVEL_INFO
#define PINHOLE_LOG_INFO(logger, ...) \
    PINHOLE_LOG_AT_(logger, ::pinhole::port::LogLevel::info, __VA_ARGS__)
#else
#define PINHOLE_LOG_INFO(logger, ...) \
    PINHOLE_LOG_OFF_(logger, ::pinhole::port::LogLevel::info, __VA_ARGS__)
#endif

#if PINHOLE_LOG_LEVEL_MAX >= PINHOLE_LOG_LEVEL_DEBUG
#define PINHOLE_LOG_DEBUG(logger, ...) \
    PINHOLE_LOG_AT_(logger, ::pinhole::port::LogLevel::debug, __VA_ARGS__)
#else
#define PINHOLE_LOG_DEBUG(logger, ...) \
    PINHOLE_LOG_OFF_(logger, ::pinhole::port::LogLevel::debug, __VA_ARGS__)
#endif
