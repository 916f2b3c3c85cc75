// The wall clock's floor: a board without an RTC reboots at 1970, yet its TAI64N timestamps
// must keep growing.
#include "core/time/wall_clock.h"

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

namespace {

using pinhole::Errc;
using pinhole::port::WallTime;

using pinhole::fakes::FakeClock;
using pinhole::fakes::FakeStorage;

constexpr std::uint64_t november_2026_s = 1'795'000'000;

TEST(WallClock, FollowsAGoodPlatformClock) {
    FakeClock clock;
    FakeStorage storage;
    clock.wall = WallTime{november_2026_s, 5};
    pinhole::WallClock wall(clock, storage);
    ASSERT_TRUE(wall.start().ok());
    EXPECT_EQ(wall.now().seconds, november_2026_s);
    clock.wall.seconds += 10;
    EXPECT_EQ(wall.now().seconds, november_2026_s + 10);
}

TEST(WallClock, NeverGoesBackWithinARun) {
    FakeClock clock;
    FakeStorage storage;
    clock.wall = WallTime{november_2026_s, 0};
    pinhole::WallClock wall(clock, storage);
    ASSERT_TRUE(wall.start().ok());
    const WallTime before = wall.now();
    clock.wall.seconds -= 3600;  // an NTP step backwards
    const WallTime after = wall.now();
    EXPECT_GE(after.seconds, before.seconds);
}

TEST(WallClock, ARebootWithoutRtcResumesFromThePersistedFloor) {
    FakeStorage storage;
    {
        FakeClock clock;
        clock.wall = WallTime{november_2026_s, 0};
        pinhole::WallClock wall(clock, storage);
        ASSERT_TRUE(wall.start().ok());
        clock.monotonic = 120'000;
        clock.wall.seconds += 120;
        ASSERT_TRUE(wall.raise_floor().ok());  // the node does this every REKEY_AFTER_TIME
    }
    FakeClock rebooted;  // wall time 0: 1970, no RTC
    rebooted.monotonic = 4'294'960'000u;  // and a monotonic counter about to wrap
    pinhole::WallClock wall(rebooted, storage);
    ASSERT_TRUE(wall.start().ok());
    EXPECT_EQ(wall.now().seconds, november_2026_s + 120);
    rebooted.monotonic += 30'000;  // wraps past 2^32
    EXPECT_EQ(wall.now().seconds, november_2026_s + 150);
}

TEST(WallClock, AFailingStorageIsReported) {
    struct BrokenStorage final : pinhole::port::Storage {
        pinhole::Result<std::size_t> read(std::string_view, pinhole::port::Secrecy,
                                          std::span<std::uint8_t>) noexcept override {
            return Errc::io;
        }
        pinhole::Status write(std::string_view, pinhole::port::Secrecy,
                              std::span<const std::uint8_t>) noexcept override {
            return Errc::io;
        }
    } storage;
    FakeClock clock;
    pinhole::WallClock wall(clock, storage);
    EXPECT_EQ(wall.start().error(), Errc::io);
}

}  // namespace
