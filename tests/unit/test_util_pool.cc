#include "core/util/pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace pinhole {
namespace {

struct Session {
    Session(int* live_count, int session_id) noexcept : live(live_count), id(session_id) {
        ++*live;
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { --*live; }
    int* live;
    int id;
};

TEST(Pool, AcquiresUntilExhaustedThenReusesReleasedSlots) {
    int live = 0;
    Pool<Session, 3> pool;
    EXPECT_TRUE(pool.empty());
    EXPECT_EQ(pool.capacity(), 3u);
    Session* a = pool.acquire(&live, 1);
    Session* b = pool.acquire(&live, 2);
    Session* c = pool.acquire(&live, 3);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(pool.full());
    EXPECT_EQ(pool.size(), 3u);
    EXPECT_EQ(live, 3);
    EXPECT_EQ(pool.acquire(&live, 4), nullptr);  // exhausted: nothing built
    EXPECT_EQ(live, 3);

    EXPECT_EQ(pool.index_of(a), 0u);
    EXPECT_EQ(pool.index_of(b), 1u);
    EXPECT_EQ(pool.index_of(c), 2u);
    pool.release(b);
    EXPECT_EQ(live, 2);
    EXPECT_EQ(pool.size(), 2u);
    EXPECT_EQ(pool.at(1), nullptr);
    Session* d = pool.acquire(&live, 5);
    EXPECT_EQ(d, b);  // the freed slot, rebuilt
    EXPECT_EQ(d->id, 5);
    EXPECT_EQ(pool.at(1), d);
    EXPECT_EQ(pool.at(0)->id, 1);
}

TEST(Pool, DestroysLiveObjectsWithIt) {
    int live = 0;
    {
        Pool<Session, 4> pool;
        ASSERT_NE(pool.acquire(&live, 1), nullptr);
        Session* second = pool.acquire(&live, 2);
        ASSERT_NE(pool.acquire(&live, 3), nullptr);
        pool.release(second);
        EXPECT_EQ(live, 2);
    }
    EXPECT_EQ(live, 0);
}

TEST(Pool, VisitsLiveObjectsInSlotOrderAndMayReleaseThem) {
    int live = 0;
    Pool<Session, 5> pool;
    std::vector<Session*> sessions;
    for (int id = 0; id < 5; ++id) sessions.push_back(pool.acquire(&live, id));
    pool.release(sessions[1]);
    pool.release(sessions[3]);

    std::vector<int> seen;
    pool.for_each([&](Session& session) { seen.push_back(session.id); });
    EXPECT_EQ(seen, (std::vector<int>{0, 2, 4}));

    // Releasing the visited object during the walk is allowed.
    pool.for_each([&](Session& session) {
        if (session.id == 2) pool.release(&session);
    });
    EXPECT_EQ(pool.size(), 2u);
    seen.clear();
    const auto& constant = pool;
    constant.for_each([&](const Session& session) { seen.push_back(session.id); });
    EXPECT_EQ(seen, (std::vector<int>{0, 4}));
}

TEST(Pool, ChurnNeverLosesASlot) {
    int live = 0;
    Pool<Session, 8> pool;
    std::vector<Session*> held;
    for (int step = 0; step < 1000; ++step) {
        if (step % 3 != 2 && !pool.full()) {
            held.push_back(pool.acquire(&live, step));
        } else if (!held.empty()) {
            const std::size_t victim = static_cast<std::size_t>(step) % held.size();
            pool.release(held[victim]);
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(victim));
        }
        ASSERT_EQ(pool.size(), held.size());
        ASSERT_EQ(live, static_cast<int>(held.size()));
    }
    for (Session* session : held) pool.release(session);
    EXPECT_TRUE(pool.empty());
    for (int id = 0; id < 8; ++id) EXPECT_NE(pool.acquire(&live, id), nullptr);
    EXPECT_TRUE(pool.full());
}

TEST(PoolDeathTest, ReleasingWhatIsNotOursOrNotLiveIsABug) {
    int live = 0;
    Pool<Session, 2> pool;
    Session* session = pool.acquire(&live, 1);
    Session stranger(&live, 9);
    EXPECT_DEATH(pool.release(&stranger), "assertion failed");
    pool.release(session);
    EXPECT_DEATH(pool.release(session), "assertion failed");  // double release
    EXPECT_DEATH((void)pool.index_of(session), "assertion failed");
    EXPECT_DEATH((void)pool.at(2), "assertion failed");
}

}  // namespace
}  // namespace pinhole
