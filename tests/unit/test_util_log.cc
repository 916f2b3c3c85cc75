#include "core/util/log.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/net/address.h"

namespace pinhole {
namespace {

class RecordingSink final : public port::LogSink {
public:
    void write(port::LogLevel level, std::string_view line) noexcept override {
        lines.emplace_back(level, std::string(line));
    }
    std::vector<std::pair<port::LogLevel, std::string>> lines;
};

TEST(Log, WritesFormattedLinesAtEnabledLevels) {
    RecordingSink sink;
    Logger logger(sink, port::LogLevel::info);
    const net::Endpoint peer{net::IpAddress::v4(192, 0, 2, 1), 51820};
    PINHOLE_LOG_ERROR(logger, "handshake with {} failed: {}", peer, Errc::timed_out);
    PINHOLE_LOG_WARNING(logger, "retry {}", 3);
    PINHOLE_LOG_INFO(logger, "no arguments");
    ASSERT_EQ(sink.lines.size(), 3u);
    EXPECT_EQ(sink.lines[0].first, port::LogLevel::error);
    EXPECT_EQ(sink.lines[0].second, "handshake with 192.0.2.1:51820 failed: timed out");
    EXPECT_EQ(sink.lines[1].first, port::LogLevel::warning);
    EXPECT_EQ(sink.lines[1].second, "retry 3");
    EXPECT_EQ(sink.lines[2].first, port::LogLevel::info);
    EXPECT_EQ(sink.lines[2].second, "no arguments");
}

TEST(Log, SkipsDisabledLevelsWithoutEvaluatingArguments) {
    RecordingSink sink;
    Logger logger(sink, port::LogLevel::warning);
    int evaluated = 0;
    PINHOLE_LOG_INFO(logger, "{}", ++evaluated);
    PINHOLE_LOG_DEBUG(logger, "{}", ++evaluated);
    EXPECT_EQ(evaluated, 0);
    EXPECT_TRUE(sink.lines.empty());
    PINHOLE_LOG_WARNING(logger, "{}", ++evaluated);
    EXPECT_EQ(evaluated, 1);
    EXPECT_EQ(sink.lines.size(), 1u);

    logger.set_level(port::LogLevel::error);
    EXPECT_EQ(logger.level(), port::LogLevel::error);
    PINHOLE_LOG_WARNING(logger, "{}", ++evaluated);
    EXPECT_EQ(evaluated, 1);
    EXPECT_EQ(sink.lines.size(), 1u);
}

TEST(Log, DebugFollowsTheBuildsCeiling) {
    RecordingSink sink;
    Logger logger(sink, port::LogLevel::debug);
    int evaluated = 0;
    PINHOLE_LOG_DEBUG(logger, "{}", ++evaluated);
#if PINHOLE_LOG_LEVEL_MAX >= PINHOLE_LOG_LEVEL_DEBUG
    EXPECT_EQ(evaluated, 1);
    EXPECT_EQ(sink.lines.size(), 1u);
#else
    EXPECT_EQ(evaluated, 0);  // compiled out in release builds
    EXPECT_TRUE(sink.lines.empty());
#endif
}

TEST(Log, CutsLongLinesAtTheLineCapacity) {
    RecordingSink sink;
    Logger logger(sink, port::LogLevel::info);
    const std::string long_text(1000, 'x');
    PINHOLE_LOG_INFO(logger, "{}", std::string_view(long_text));
    ASSERT_EQ(sink.lines.size(), 1u);
    EXPECT_EQ(sink.lines[0].second.size(), log_line_bytes);
    EXPECT_EQ(sink.lines[0].second.substr(log_line_bytes - 4), "x\u2026");
}

}  // namespace
}  // namespace pinhole
