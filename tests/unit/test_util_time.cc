#include "core/util/time.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace pinhole {
namespace {

constexpr std::uint32_t wrap = 0xFFFF'FFFFu;  // the last millisecond before the clock wraps

static_assert(time_before(1, 2) && !time_before(2, 1) && !time_before(2, 2));

TEST(Time, ComparesPlainTimes) {
    EXPECT_TRUE(time_before(100, 200));
    EXPECT_FALSE(time_before(200, 100));
    EXPECT_TRUE(time_after(200, 100));
    EXPECT_FALSE(time_after(100, 100));
    EXPECT_TRUE(time_after_or_equal(100, 100));
    EXPECT_TRUE(time_after_or_equal(101, 100));
    EXPECT_FALSE(time_after_or_equal(99, 100));
}

TEST(Time, ComparesAcrossTheWrap) {
    EXPECT_TRUE(time_before(wrap - 10, 5));  // 5 is 16 ms after the wrap
    EXPECT_TRUE(time_after(5, wrap - 10));
    EXPECT_FALSE(time_before(5, wrap - 10));
    EXPECT_TRUE(time_after_or_equal(0, wrap));
    EXPECT_TRUE(time_before(wrap, 0));
}

TEST(Time, MeasuresElapsedTimeAcrossTheWrap) {
    EXPECT_EQ(elapsed_ms(150, 100), 50u);
    EXPECT_EQ(elapsed_ms(5, wrap - 10), 16u);
    EXPECT_EQ(elapsed_ms(7, 7), 0u);
}

TEST(Time, DeadlinesWrapAndAreReachedOnTime) {
    const std::uint32_t now = wrap - 99;
    const std::uint32_t deadline = deadline_after(now, 250);
    EXPECT_EQ(deadline, 150u);  // past the wrap
    EXPECT_FALSE(time_after_or_equal(now, deadline));
    EXPECT_FALSE(time_after_or_equal(wrap, deadline));
    EXPECT_FALSE(time_after_or_equal(149, deadline));
    EXPECT_TRUE(time_after_or_equal(150, deadline));
    EXPECT_EQ(remaining_ms(now, deadline), 250u);
    EXPECT_EQ(remaining_ms(wrap, deadline), 151u);
    EXPECT_EQ(remaining_ms(150, deadline), 0u);
    EXPECT_EQ(remaining_ms(10'000, deadline), 0u);
}

TEST(Time, HoldsUpToTheLongestInterval) {
    const std::uint32_t now = 0x8000'0010u;
    const std::uint32_t deadline = deadline_after(now, max_interval_ms);
    EXPECT_TRUE(time_before(now, deadline));
    EXPECT_EQ(elapsed_ms(deadline, now), max_interval_ms);
    EXPECT_EQ(remaining_ms(now, deadline), max_interval_ms);
    // Further apart, the order flips: why longer intervals are refused.
    const std::uint32_t too_far = now + max_interval_ms + 2;
    EXPECT_FALSE(time_before(now, too_far));
    EXPECT_TRUE(time_after(now, too_far));
}

TEST(TimeDeathTest, ADeadlineBeyondTheComparableRangeIsABug) {
    EXPECT_DEATH((void)deadline_after(0, max_interval_ms + 1), "assertion failed");
}

}  // namespace
}  // namespace pinhole
