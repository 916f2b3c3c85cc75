// A unit built with the compile-time ceiling at warning, as a small board might be: info and
// debug lines must vanish entirely, arguments unevaluated, whatever the runtime level says.
#define PINHOLE_LOG_LEVEL_MAX PINHOLE_LOG_LEVEL_WARNING
#include "core/util/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pinhole {
namespace {

class CountingSink final : public port::LogSink {
public:
    void write(port::LogLevel, std::string_view line) noexcept override {
        lines.emplace_back(line);
    }
    std::vector<std::string> lines;
};

// Only referenced by compiled-out lines: calling it would fail the test.
int must_not_run() {
    ADD_FAILURE() << "an argument of a compiled-out log line was evaluated";
    return 0;
}

TEST(LogCeiling, LinesAboveTheCeilingCompileToNothing) {
    CountingSink sink;
    Logger logger(sink, port::LogLevel::debug);  // the runtime level would allow everything
    int evaluated = 0;
    PINHOLE_LOG_INFO(logger, "{} {}", ++evaluated, must_not_run());
    PINHOLE_LOG_DEBUG(logger, "{}", ++evaluated);
    EXPECT_EQ(evaluated, 0);
    EXPECT_TRUE(sink.lines.empty());

    PINHOLE_LOG_WARNING(logger, "{}", ++evaluated);
    PINHOLE_LOG_ERROR(logger, "{}", ++evaluated);
    EXPECT_EQ(evaluated, 2);
    EXPECT_EQ(sink.lines, (std::vector<std::string>{"1", "2"}));
}

TEST(LogCeiling, ACompiledOutLineStillNeedsNoVariableOfItsOwn) {
    CountingSink sink;
    Logger logger(sink, port::LogLevel::debug);
    // Used only by a compiled-out line: must not trigger -Wunused under -Werror.
    const int only_logged = 5;
    PINHOLE_LOG_DEBUG(logger, "value {}", only_logged);
    EXPECT_TRUE(sink.lines.empty());
}

}  // namespace
}  // namespace pinhole
