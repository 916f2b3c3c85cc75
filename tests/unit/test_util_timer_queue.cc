#include "core/util/timer_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace pinhole {
namespace {

enum class Timer : std::uint8_t { handshake, keepalive, rekey, punch, dns };

std::vector<Timer> expire_all(TimerQueue<8, Timer>& timers, std::uint32_t now_ms) {
    std::vector<Timer> fired;
    timers.expire(now_ms, [&](Timer id) { fired.push_back(id); });
    return fired;
}

TEST(TimerQueue, FiresDueTimersInDeadlineOrder) {
    TimerQueue<8, Timer> timers;
    EXPECT_FALSE(timers.next_deadline().has_value());
    ASSERT_TRUE(timers.arm(Timer::rekey, 300).ok());
    ASSERT_TRUE(timers.arm(Timer::handshake, 100).ok());
    ASSERT_TRUE(timers.arm(Timer::keepalive, 200).ok());
    EXPECT_EQ(timers.size(), 3u);
    EXPECT_EQ(timers.next_deadline(), 100u);

    EXPECT_TRUE(expire_all(timers, 99).empty());
    EXPECT_EQ(expire_all(timers, 200), (std::vector<Timer>{Timer::handshake, Timer::keepalive}));
    EXPECT_FALSE(timers.is_armed(Timer::handshake));
    EXPECT_TRUE(timers.is_armed(Timer::rekey));
    EXPECT_EQ(timers.next_deadline(), 300u);
    EXPECT_EQ(expire_all(timers, 1000), (std::vector<Timer>{Timer::rekey}));
    EXPECT_TRUE(timers.empty());
}

TEST(TimerQueue, EqualDeadlinesFireInArmingOrder) {
    TimerQueue<8, Timer> timers;
    ASSERT_TRUE(timers.arm(Timer::dns, 50).ok());
    ASSERT_TRUE(timers.arm(Timer::punch, 50).ok());
    ASSERT_TRUE(timers.arm(Timer::handshake, 50).ok());
    EXPECT_EQ(expire_all(timers, 50),
              (std::vector<Timer>{Timer::dns, Timer::punch, Timer::handshake}));
}

TEST(TimerQueue, ReArmingReplacesAndDisarmingForgets) {
    TimerQueue<8, Timer> timers;
    ASSERT_TRUE(timers.arm(Timer::keepalive, 100).ok());
    ASSERT_TRUE(timers.arm(Timer::rekey, 150).ok());
    ASSERT_TRUE(timers.arm(Timer::keepalive, 200).ok());  // pushed back
    EXPECT_EQ(timers.size(), 2u);
    EXPECT_EQ(timers.next_deadline(), 150u);
    EXPECT_EQ(expire_all(timers, 160), (std::vector<Timer>{Timer::rekey}));
    timers.disarm(Timer::keepalive);
    timers.disarm(Timer::keepalive);  // disarming an idle timer is harmless
    EXPECT_FALSE(timers.is_armed(Timer::keepalive));
    EXPECT_TRUE(expire_all(timers, 10'000).empty());
}

TEST(TimerQueue, ReportsNoSpaceWhenFullButStillReArms) {
    TimerQueue<2> timers;
    EXPECT_EQ(timers.capacity(), 2u);
    ASSERT_TRUE(timers.arm(1, 10).ok());
    ASSERT_TRUE(timers.arm(2, 20).ok());
    EXPECT_EQ(timers.arm(3, 5).error(), Errc::no_space);
    EXPECT_FALSE(timers.is_armed(3));
    EXPECT_TRUE(timers.arm(2, 5).ok());  // an armed id has its own slot
    EXPECT_EQ(timers.next_deadline(), 5u);
}

TEST(TimerQueue, ExpiresAcrossThe32BitWrap) {
    TimerQueue<8, Timer> timers;
    const std::uint32_t now = 0xFFFF'FF00u;  // 256 ms before the clock wraps
    ASSERT_TRUE(timers.arm(Timer::handshake, deadline_after(now, 0x80)).ok());   // before the wrap
    ASSERT_TRUE(timers.arm(Timer::keepalive, deadline_after(now, 0x180)).ok());  // 0x80 after it
    ASSERT_TRUE(timers.arm(Timer::rekey, deadline_after(now, 0x100)).ok());      // exactly 0
    ASSERT_TRUE(timers.arm(Timer::punch, deadline_after(now, 0x10)).ok());
    // Ordered by time, not by raw value: 0xFFFFFF10 fires before 0x00000000.
    EXPECT_EQ(timers.next_deadline(), 0xFFFF'FF10u);

    EXPECT_EQ(expire_all(timers, 0xFFFF'FFFFu),
              (std::vector<Timer>{Timer::punch, Timer::handshake}));
    EXPECT_EQ(timers.next_deadline(), 0u);
    EXPECT_EQ(expire_all(timers, 0), (std::vector<Timer>{Timer::rekey}));
    EXPECT_TRUE(expire_all(timers, 0x7F).empty());
    EXPECT_EQ(expire_all(timers, 0x80), (std::vector<Timer>{Timer::keepalive}));
}

TEST(TimerQueue, AJumpPastTheWrapFiresEverythingInOrder) {
    TimerQueue<8, Timer> timers;
    ASSERT_TRUE(timers.arm(Timer::dns, 5).ok());              // after the wrap
    ASSERT_TRUE(timers.arm(Timer::punch, 0xFFFF'FFF0u).ok());  // before it
    ASSERT_TRUE(timers.arm(Timer::rekey, 0xFFFF'FFFFu).ok());
    EXPECT_EQ(expire_all(timers, 1000),
              (std::vector<Timer>{Timer::punch, Timer::rekey, Timer::dns}));
}

TEST(TimerQueue, CallbacksMayDisarmAndReArm) {
    TimerQueue<8, Timer> timers;
    ASSERT_TRUE(timers.arm(Timer::handshake, 10).ok());
    ASSERT_TRUE(timers.arm(Timer::keepalive, 20).ok());
    ASSERT_TRUE(timers.arm(Timer::rekey, 30).ok());
    std::vector<Timer> fired;
    timers.expire(100, [&](Timer id) {
        fired.push_back(id);
        if (id == Timer::handshake) {
            timers.disarm(Timer::keepalive);  // due, but disarmed before its turn: never fires
            // A periodic timer re-arming itself, already due: waits for the next expire().
            EXPECT_TRUE(timers.arm(Timer::handshake, 100).ok());
            EXPECT_TRUE(timers.arm(Timer::punch, 0).ok());
        }
    });
    EXPECT_EQ(fired, (std::vector<Timer>{Timer::handshake, Timer::rekey}));
    EXPECT_TRUE(timers.is_armed(Timer::handshake));
    EXPECT_EQ(timers.next_deadline(), 0u);  // due now: the caller loops again at once
    EXPECT_EQ(expire_all(timers, 100), (std::vector<Timer>{Timer::punch, Timer::handshake}));
}

TEST(TimerQueue, ASelfReArmingTimerCannotSpinForever) {
    TimerQueue<4> timers;
    ASSERT_TRUE(timers.arm(1, 0).ok());
    int calls = 0;
    timers.expire(50, [&](std::uint16_t id) {
        ++calls;
        EXPECT_TRUE(timers.arm(id, 0).ok());  // due again at once
    });
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(timers.is_armed(1));
}

TEST(TimerQueueDeathTest, ExpireIsNotReentrant) {
    TimerQueue<4> timers;
    ASSERT_TRUE(timers.arm(1, 0).ok());
    EXPECT_DEATH(timers.expire(1, [&](std::uint16_t) { timers.expire(1, [](std::uint16_t) {}); }),
                 "assertion failed");
}

}  // namespace
}  // namespace pinhole
