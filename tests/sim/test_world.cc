// The world itself: its generator, seeds and replay, virtual time across the 32-bit wrap,
// alarms, and the bound on a run.
#include <cstdlib>
#include <optional>
#include <string>

#include "core/util/time.h"
#include "port/sim/prng.h"
#include "port/sim/seed.h"
#include "sim_test_support.h"

namespace pinhole::sim {
namespace {

using namespace testing_support;

TEST(SimPrng, MatchesTheReferenceSplitmix64AndXoshiro256StarStar) {
    // splitmix64.c's output for 1234567, and xoshiro256** seeded with four splitmix64 words
    // of 42 (computed with an independent implementation of the reference code).
    std::uint64_t state = 1234567;
    EXPECT_EQ(splitmix64(state), 6457827717110365317ULL);
    EXPECT_EQ(splitmix64(state), 3203168211198807973ULL);
    Prng prng(42);
    EXPECT_EQ(prng.next_u64(), 1546998764402558742ULL);
    EXPECT_EQ(prng.next_u64(), 6990951692964543102ULL);
    EXPECT_EQ(prng.next_u64(), 12544586762248559009ULL);
}

TEST(SimPrng, BelowStaysInRangeAndCoversIt) {
    Prng prng(7);
    std::array<int, 6> counts{};
    for (int i = 0; i < 6000; ++i) {
        const std::uint64_t value = prng.below(6);
        ASSERT_LT(value, 6u);
        ++counts[value];
    }
    for (const int count : counts) EXPECT_GT(count, 800);
    EXPECT_EQ(prng.below(0), 0u);
}

// Sets PINHOLE_SIM_SEED for one test and puts back what the run was started with (a replay).
class SeedEnvironment {
public:
    SeedEnvironment() {
        const char* value = std::getenv(seed_environment_variable);
        if (value != nullptr) saved_ = value;
        ::unsetenv(seed_environment_variable);
    }
    ~SeedEnvironment() {
        if (saved_.has_value()) {
            ::setenv(seed_environment_variable, saved_->c_str(), 1);
        } else {
            ::unsetenv(seed_environment_variable);
        }
    }
    void set(const char* value) { ::setenv(seed_environment_variable, value, 1); }

private:
    std::optional<std::string> saved_;
};

TEST(SimSeed, EnvironmentOverridesTheTestsSeedForReplay) {
    SeedEnvironment environment;
    EXPECT_EQ(seed_from_environment(99), 99u);
    environment.set("123456789");
    EXPECT_EQ(seed_from_environment(99), 123456789u);
    environment.set("0xff");
    EXPECT_EQ(seed_from_environment(99), 255u);
    WorldOptions options;
    options.seed = 5;
    EXPECT_EQ(std::make_unique<World>(options)->seed(), 255u);
    options.seed_source = SeedSource::given_only;
    EXPECT_EQ(std::make_unique<World>(options)->seed(), 5u);
}

TEST(SimSeedDeathTest, AMalformedReplaySeedStopsTheRun) {
    SeedEnvironment environment;
    environment.set("12abc");
    EXPECT_DEATH((void)seed_from_environment(1), "PINHOLE_SIM_SEED");
}

TEST(SimSeed, TheWorldAnnouncesItsSeed) {
    static_assert(sizeof(World) < 8 * 1024 * 1024, "keep a world affordable");
    ::testing::internal::CaptureStderr();
    WorldOptions options;
    options.seed = 4242;
    options.seed_source = SeedSource::given_only;
    const auto world = std::make_unique<World>(options);
    EXPECT_NE(::testing::internal::GetCapturedStderr().find(
                  "sim seed: 4242 (replay: PINHOLE_SIM_SEED=4242)"),
              std::string::npos);
}

// A busy run: eight hosts exchange datagrams and a stream over lossy, jittery, duplicating
// links with a partition in the middle. Returns the world's trace hash.
std::uint64_t busy_run_trace(std::uint64_t seed) {
    WorldOptions options;
    options.seed = seed;
    options.seed_source = SeedSource::given_only;
    options.faults = LinkFaults{5, 30, ppm_from_percent(10), ppm_from_percent(5)};
    auto world = std::make_unique<World>(options);
    std::vector<Host*> hosts;
    std::vector<std::vector<net::IpAddress>> addresses;
    for (std::uint8_t i = 0; i < 8; ++i) addresses.push_back({v4(10, 0, 0, static_cast<std::uint8_t>(i + 1))});
    for (std::uint8_t i = 0; i < 8; ++i) hosts.push_back(&world->add_host({"node", addresses[i]}));
    UdpInbox inbox(*world);
    std::vector<port::UdpSocketId> sockets;
    for (Host* host : hosts) sockets.push_back(host->udp().open({{}, 4000}, inbox).value());

    TestServer server(*world, *hosts[7]);
    EXPECT_TRUE(hosts[7]->listen(80, server).ok());
    const std::vector<std::uint8_t> data = pattern(30'000);
    BulkSender client(*world, hosts[0]->tcp(), data);
    EXPECT_TRUE(hosts[0]->tcp().connect({v4(10, 0, 0, 8), 80}, client).ok());
    for (int round = 0; round < 200; ++round) {
        for (std::size_t from = 0; from < hosts.size(); ++from) {
            const std::uint8_t to = static_cast<std::uint8_t>((from + 1 + round) % 8 + 1);
            const std::uint8_t message[3] = {static_cast<std::uint8_t>(round), static_cast<std::uint8_t>(from), to};
            (void)hosts[from]->udp().send(sockets[from], {v4(10, 0, 0, to), 4000}, message);
        }
        if (round == 50) world->partition(*hosts[1], *hosts[2]);
        if (round == 120) world->heal_all();
        EXPECT_TRUE(world->run_for(7).ok());
    }
    EXPECT_TRUE(world->run_for(60'000).ok());
    EXPECT_GT(inbox.received.size(), 1000u);
    EXPECT_EQ(server.accepted.size(), 1u);
    EXPECT_TRUE(server.accepted.at(0)->bytes == data);
    return world->trace_hash();
}

TEST(SimReplay, TheSameSeedGivesTheSameTraceAndAnotherSeedAnother) {
    const std::uint64_t seed = seed_from_environment(77);
    SCOPED_TRACE(seed_message(seed));
    const std::uint64_t first = busy_run_trace(seed);
    EXPECT_EQ(busy_run_trace(seed), first);
    EXPECT_NE(busy_run_trace(seed + 1), first);
}

// The same seed replays the same run on every platform the tests run on (x86-64, aarch64 and
// armhf under qemu): nothing in the model depends on word size, endianness or the build type.
// A deliberate change to the model changes this value: update it in the same commit.
TEST(SimReplay, AFixedSeedHasTheSameTraceOnEveryPlatform) {
    EXPECT_EQ(busy_run_trace(77), 0x0ce2a3cfec843468ULL);
}

TEST(SimSeed, RandomSeedsDiffer) { EXPECT_NE(random_seed(), random_seed()); }

class SimClock : public SimulationTest {
protected:
    static WorldOptions near_the_wrap() {
        WorldOptions options = default_options();
        options.clock_start_ms = 0xFFFF'FFFFu - 999;  // 2^32 - 1000
        return options;
    }
    SimClock() : SimulationTest(near_the_wrap()) {}
};

TEST_F(SimClock, MonotonicTimeWrapsLikeTheRealOneWhileEventsKeepTheirOrder) {
    Host& a = add_host("a", {v4(192, 0, 2, 1)});
    Host& b = add_host("b", {v4(192, 0, 2, 2)});
    world().set_default_faults(LinkFaults{300, 0, 0, 0});
    UdpInbox inbox(world());
    const auto receiver = b.udp().open({{}, 9}, inbox).value();
    const auto sender = a.udp().open({}, inbox).value();
    const std::uint32_t start = a.clock().monotonic_ms();
    EXPECT_EQ(start, 0xFFFF'FC18u);
    for (int i = 0; i < 8; ++i) {
        const std::uint8_t message[1] = {static_cast<std::uint8_t>(i)};
        ASSERT_TRUE(a.udp().send(sender, {v4(192, 0, 2, 2), 9}, message).ok());
        run_for(250);  // crosses 2^32 after the fourth
    }
    run_for(1000);
    ASSERT_EQ(inbox.received.size(), 8u);
    for (std::size_t i = 0; i < inbox.received.size(); ++i) {
        EXPECT_EQ(inbox.received[i].payload[0], i);
        EXPECT_EQ(inbox.received[i].at_ms, 300 + 250 * i);
        EXPECT_EQ(inbox.received[i].socket, receiver);
    }
    const std::uint32_t now = b.clock().monotonic_ms();
    EXPECT_LT(now, start);  // the raw value wrapped...
    EXPECT_TRUE(time_after(now, start));  // ...and wrap-aware comparison still orders them
    EXPECT_EQ(elapsed_ms(now, start), world().now_ms());
}

TEST_F(SimClock, WallTimeFollowsVirtualTimeAndCanBeSteppedBackwards) {
    Host& a = add_host("a", {v4(192, 0, 2, 1)});
    Host& b = add_host("b", {v4(192, 0, 2, 2)});
    const port::WallTime epoch = world().options().wall_epoch;
    EXPECT_EQ(a.clock().wall_time().seconds, epoch.seconds);
    run_for(2500);
    EXPECT_EQ(a.clock().wall_time().seconds, epoch.seconds + 2);
    EXPECT_EQ(a.clock().wall_time().nanoseconds, 500'000'000u);
    b.clock().step_wall_clock(-3'600'000);  // b's clock jumps back an hour; a's does not
    EXPECT_EQ(b.clock().wall_time().seconds, epoch.seconds + 2 - 3600);
    EXPECT_EQ(a.clock().wall_time().seconds, epoch.seconds + 2);
    b.clock().step_wall_clock(-static_cast<std::int64_t>(epoch.seconds) * 2000);
    EXPECT_EQ(b.clock().wall_time().seconds, 0u);  // never before the epoch
    EXPECT_EQ(b.clock().wall_time().nanoseconds, 0u);
}

class RecordingAlarm final : public Alarm {
public:
    explicit RecordingAlarm(World& world) : world_(world) {}
    void on_alarm() noexcept override { fired_at_ms.push_back(world_.now_ms()); }
    std::vector<std::uint64_t> fired_at_ms;

private:
    World& world_;
};

using SimAlarms = SimulationTest;

TEST_F(SimAlarms, FireAtTheirTimeInOrderAndCanBeCancelled) {
    RecordingAlarm first(world());
    RecordingAlarm second(world());
    ASSERT_TRUE(world().schedule_alarm(300, second).ok());
    ASSERT_TRUE(world().schedule_alarm(100, first).ok());
    const AlarmId cancelled = world().schedule_alarm(200, first).value();
    world().cancel_alarm(cancelled);
    EXPECT_EQ(world().next_event_ms(), 100u);
    ASSERT_TRUE(world().step());
    EXPECT_EQ(world().now_ms(), 100u);
    run_for(1000);
    EXPECT_EQ(first.fired_at_ms, std::vector<std::uint64_t>{100});
    EXPECT_EQ(second.fired_at_ms, std::vector<std::uint64_t>{300});
    EXPECT_EQ(world().now_ms(), 1100u);
    EXPECT_FALSE(world().step());
}

// An alarm that re-arms itself at the same instant forever: a livelock in the code under test.
class StuckAlarm final : public Alarm {
public:
    explicit StuckAlarm(World& world) : world_(world) {}
    void on_alarm() noexcept override { (void)world_.schedule_alarm(world_.now_ms(), *this); }

private:
    World& world_;
};

class SimBoundedRun : public SimulationTest {
protected:
    static WorldOptions few_events() {
        WorldOptions options = default_options();
        options.max_events_per_run = 10'000;
        return options;
    }
    SimBoundedRun() : SimulationTest(few_events()) {}
};

TEST_F(SimBoundedRun, ARunThatCannotAdvanceStopsWithTimedOut) {
    StuckAlarm stuck(world());
    ASSERT_TRUE(world().schedule_alarm(10, stuck).ok());
    EXPECT_EQ(world().run_for(20).error(), Errc::timed_out);
    EXPECT_EQ(world().now_ms(), 10u);
}

}  // namespace
}  // namespace pinhole::sim
