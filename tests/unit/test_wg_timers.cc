// The timers as reactions to events, with time passed in (including the 32-bit wrap): which
// actions expire() reports, and when.
#include <gtest/gtest.h>

#include <cstdint>

#include "core/wireguard/timers.h"

namespace pinhole::wireguard {
namespace {

// Always the same bytes: they seed the timers' jitter generator, which keeps every jitter
// below rekey_timeout_jitter_max_ms (333 ms): the tests allow the whole range.
struct FixedRandom final : port::Random {
    Status fill(std::span<std::uint8_t> out) noexcept override {
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = i == 0 ? value : 0;
        return {};
    }
    std::uint8_t value = 100;
};

TimerActions expire_at(Timers& timers, std::uint32_t now_ms) {
    TimerActions actions;
    timers.expire(now_ms, actions);
    return actions;
}

bool any(const TimerActions& a) {
    return a.send_initiation || a.send_keepalive || a.gave_up || a.zero_keys;
}

class WgTimers : public ::testing::TestWithParam<std::uint32_t> {
protected:
    std::uint32_t at(std::uint32_t offset_ms) const { return GetParam() + offset_ms; }
    FixedRandom random;
    TimerSettings settings;
};

INSTANTIATE_TEST_SUITE_P(StartTimes, WgTimers, ::testing::Values(0u, 0xFFFF'F000u));

TEST_P(WgTimers, RetransmitsWithJitterThenGivesUp) {
    Timers timers(settings, random);
    timers.on_handshake_initiated(at(0), false);
    // REKEY_TIMEOUT + jitter (0..332 ms).
    EXPECT_FALSE(any(expire_at(timers, at(4'999))));
    TimerActions actions = expire_at(timers, at(5'333));
    EXPECT_TRUE(actions.send_initiation);
    EXPECT_TRUE(actions.initiation_is_retry);
    EXPECT_EQ(timers.handshake_attempts(), 1u);

    std::uint32_t now = at(5'333);
    const std::uint32_t max_attempts = rekey_attempt_time_ms / rekey_timeout_ms;  // 18
    for (std::uint32_t attempt = 1; attempt < max_attempts; ++attempt) {
        timers.on_handshake_initiated(now, true);
        now += 5'333;
        actions = expire_at(timers, now);
        ASSERT_TRUE(actions.send_initiation) << attempt;
    }
    EXPECT_EQ(timers.handshake_attempts(), max_attempts);
    timers.on_handshake_initiated(now, true);
    now += 5'333;
    actions = expire_at(timers, now);
    EXPECT_FALSE(actions.send_initiation);
    EXPECT_TRUE(actions.gave_up);
    // Giving up arms the zeroing of keys, 3 × REJECT_AFTER_TIME later.
    EXPECT_FALSE(expire_at(timers, now + 3 * reject_after_time_ms - 1).zero_keys);
    EXPECT_TRUE(expire_at(timers, now + 3 * reject_after_time_ms).zero_keys);
}

TEST_P(WgTimers, JitterVariesAndAsksForRandomnessOnce) {
    struct CountingRandom final : port::Random {
        Status fill(std::span<std::uint8_t> out) noexcept override {
            calls++;
            for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(0x5A + i);
            return {};
        }
        int calls = 0;
    } counting;
    Timers timers(settings, counting);
    std::array<bool, 333> seen{};
    std::size_t distinct = 0;
    std::uint32_t now = at(0);
    for (int i = 0; i < 200; ++i) {  // each initiation arms the retransmit with a new jitter
        timers.on_handshake_initiated(now, false);
        std::uint32_t fired = now + 5'000;
        while (!expire_at(timers, fired).send_initiation) fired++;
        ASSERT_LT(fired - now - 5'000, 333u);
        if (!seen[fired - now - 5'000]) distinct++;
        seen[fired - now - 5'000] = true;
        now = fired;
    }
    EXPECT_EQ(counting.calls, 1);  // seeded once, not a system call per timer
    EXPECT_GT(distinct, 100u);
}

TEST_P(WgTimers, CompletedHandshakeStopsRetransmission) {
    Timers timers(settings, random);
    timers.on_handshake_initiated(at(0), false);
    timers.on_handshake_complete();
    EXPECT_FALSE(any(expire_at(timers, at(60'000))));
    EXPECT_EQ(timers.handshake_attempts(), 0u);
}

TEST_P(WgTimers, FreshInitiationRestartsTheAttemptCount) {
    Timers timers(settings, random);
    timers.on_handshake_initiated(at(0), false);
    ASSERT_TRUE(expire_at(timers, at(5'333)).send_initiation);
    timers.on_handshake_initiated(at(5'333), true);
    EXPECT_EQ(timers.handshake_attempts(), 1u);
    timers.on_handshake_initiated(at(6'000), false);
    EXPECT_EQ(timers.handshake_attempts(), 0u);
}

TEST_P(WgTimers, KeepaliveAfterReceivingDataUnlessWeSent) {
    Timers timers(settings, random);
    timers.on_data_received(at(0));
    EXPECT_FALSE(expire_at(timers, at(9'999)).send_keepalive);
    EXPECT_TRUE(expire_at(timers, at(10'000)).send_keepalive);

    timers.on_data_received(at(20'000));
    timers.on_any_authenticated_packet_sent();  // our reply carries the acknowledgement
    EXPECT_FALSE(any(expire_at(timers, at(40'000))));
}

TEST_P(WgTimers, DataReceivedWhileArmedAsksForAnotherKeepalive) {
    Timers timers(settings, random);
    timers.on_data_received(at(0));
    timers.on_data_received(at(5'000));
    EXPECT_TRUE(expire_at(timers, at(10'000)).send_keepalive);
    EXPECT_TRUE(expire_at(timers, at(20'000)).send_keepalive) << "the second one";
    EXPECT_FALSE(expire_at(timers, at(40'000)).send_keepalive);
}

TEST_P(WgTimers, NewHandshakeWhenSentDataGetsNoAnswer) {
    Timers timers(settings, random);
    timers.on_data_sent(at(0));
    timers.on_data_sent(at(3'000));  // does not push the deadline back
    // KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter (0..332 ms).
    EXPECT_FALSE(expire_at(timers, at(14'999)).send_initiation);
    const TimerActions actions = expire_at(timers, at(15'333));
    EXPECT_TRUE(actions.send_initiation);
    EXPECT_FALSE(actions.initiation_is_retry);

    timers.on_data_sent(at(20'000));
    timers.on_any_authenticated_packet_received();
    EXPECT_FALSE(any(expire_at(timers, at(60'000))));
}

TEST_P(WgTimers, ZeroKeyMaterialAfterThreeRejectTimes) {
    Timers timers(settings, random);
    timers.on_session_derived(at(0));
    timers.on_session_derived(at(1'000));  // re-armed from the newest session
    EXPECT_FALSE(expire_at(timers, at(1'000 + 3 * reject_after_time_ms - 1)).zero_keys);
    EXPECT_TRUE(expire_at(timers, at(1'000 + 3 * reject_after_time_ms)).zero_keys);
}

TEST_P(WgTimers, PersistentKeepaliveOnSilence) {
    Timers timers(settings, random);
    timers.set_persistent_keepalive_interval_ms(25'000, at(0));
    timers.on_any_authenticated_packet_traversal(at(10'000));
    EXPECT_FALSE(expire_at(timers, at(34'999)).send_keepalive);
    EXPECT_TRUE(expire_at(timers, at(35'000)).send_keepalive);
    timers.on_any_authenticated_packet_traversal(at(35'000));  // the keepalive itself
    EXPECT_TRUE(expire_at(timers, at(60'000)).send_keepalive);
    timers.set_persistent_keepalive_interval_ms(0, at(60'000));
    timers.on_any_authenticated_packet_traversal(at(60'000));
    EXPECT_FALSE(any(expire_at(timers, at(200'000))));
}

TEST_P(WgTimers, ShortenedSettingsAndStop) {
    settings.rekey_timeout_ms = 50;
    settings.rekey_attempt_time_ms = 100;  // two retries
    settings.rekey_timeout_jitter_max_ms = 0;
    Timers timers(settings, random);
    timers.on_handshake_initiated(at(0), false);
    EXPECT_TRUE(expire_at(timers, at(50)).send_initiation);
    timers.on_handshake_initiated(at(50), true);
    EXPECT_TRUE(expire_at(timers, at(100)).send_initiation);
    timers.on_handshake_initiated(at(100), true);
    EXPECT_TRUE(expire_at(timers, at(150)).gave_up);

    timers.on_data_received(at(200));
    timers.stop();
    EXPECT_FALSE(timers.next_deadline().has_value());
    EXPECT_FALSE(any(expire_at(timers, at(1'000'000))));
}

}  // namespace
}  // namespace pinhole::wireguard
