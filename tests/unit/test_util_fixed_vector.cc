#include "core/util/fixed_vector.h"

#include <gtest/gtest.h>

#include <utility>

namespace pinhole {
namespace {

// Counts live instances through a counter the test owns, so leaks and double destruction show.
class Tracked {
public:
    Tracked(int* live_count, int value) noexcept : live_count_(live_count), value_(value) {
        ++*live_count_;
    }
    Tracked(const Tracked& other) noexcept : Tracked(other.live_count_, other.value_) {}
    Tracked(Tracked&& other) noexcept : Tracked(other.live_count_, other.value_) {
        other.value_ = -1;
    }
    Tracked& operator=(const Tracked& other) noexcept {
        value_ = other.value_;
        return *this;
    }
    Tracked& operator=(Tracked&& other) noexcept {
        value_ = other.value_;
        other.value_ = -1;
        return *this;
    }
    ~Tracked() { --*live_count_; }
    [[nodiscard]] int value() const noexcept { return value_; }

private:
    int* live_count_;
    int value_;
};

// Not default-constructible, as the storage must not need it.
struct Pair {
    Pair(int first_value, int second_value) noexcept : first(first_value), second(second_value) {}
    int first;
    int second;
};

TEST(FixedVector, StartsEmptyWithItsCapacity) {
    FixedVector<int, 4> vector;
    EXPECT_EQ(vector.size(), 0u);
    EXPECT_EQ(vector.capacity(), 4u);
    EXPECT_TRUE(vector.empty());
    EXPECT_FALSE(vector.full());
    EXPECT_EQ(vector.begin(), vector.end());
    EXPECT_TRUE(vector.span().empty());
}

TEST(FixedVector, PushesUntilFullThenReportsNoSpace) {
    FixedVector<int, 3> vector;
    EXPECT_TRUE(vector.push_back(1).ok());
    const int two = 2;
    EXPECT_TRUE(vector.push_back(two).ok());
    EXPECT_TRUE(vector.emplace_back(3).ok());
    EXPECT_TRUE(vector.full());
    const Status overflow = vector.push_back(4);
    EXPECT_EQ(overflow.error(), Errc::no_space);
    EXPECT_EQ(vector.emplace_back(5).error(), Errc::no_space);
    EXPECT_EQ(vector.size(), 3u);
    EXPECT_EQ(vector.front(), 1);
    EXPECT_EQ(vector.back(), 3);
    int sum = 0;
    for (const int value : vector) sum += value;
    EXPECT_EQ(sum, 6);
    EXPECT_EQ(vector.span().size(), 3u);
    EXPECT_EQ(vector.span()[2], 3);
}

TEST(FixedVector, EmplacesTypesWithoutADefaultConstructor) {
    FixedVector<Pair, 2> vector;
    ASSERT_TRUE(vector.emplace_back(1, 2).ok());
    EXPECT_EQ(vector[0].first, 1);
    EXPECT_EQ(vector[0].second, 2);
}

TEST(FixedVector, EraseKeepsOrderAndEraseUnorderedMovesTheLast) {
    FixedVector<int, 5> vector;
    for (int value = 0; value < 5; ++value) ASSERT_TRUE(vector.push_back(value).ok());
    vector.erase(1);  // 0 2 3 4
    ASSERT_EQ(vector.size(), 4u);
    EXPECT_EQ(vector[0], 0);
    EXPECT_EQ(vector[1], 2);
    EXPECT_EQ(vector[3], 4);
    vector.erase_unordered(0);  // 4 2 3
    ASSERT_EQ(vector.size(), 3u);
    EXPECT_EQ(vector[0], 4);
    EXPECT_EQ(vector[1], 2);
    EXPECT_EQ(vector[2], 3);
    vector.erase_unordered(2);  // the last itself
    EXPECT_EQ(vector.size(), 2u);
    vector.erase(1);
    vector.pop_back();
    EXPECT_TRUE(vector.empty());
}

TEST(FixedVector, ConstructsAndDestroysEveryElementExactlyOnce) {
    int live = 0;
    {
        FixedVector<Tracked, 4> vector;
        for (int value = 0; value < 4; ++value) ASSERT_TRUE(vector.emplace_back(&live, value).ok());
        EXPECT_EQ(live, 4);
        vector.pop_back();
        EXPECT_EQ(live, 3);
        vector.erase(0);
        EXPECT_EQ(live, 2);
        EXPECT_EQ(vector[0].value(), 1);
        vector.erase_unordered(0);
        EXPECT_EQ(live, 1);
        EXPECT_EQ(vector[0].value(), 2);

        FixedVector<Tracked, 4> copy = vector;
        EXPECT_EQ(live, 2);
        FixedVector<Tracked, 4> moved = std::move(copy);
        EXPECT_EQ(live, 2);  // the moved-from vector is left empty
        EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): documented behaviour
        EXPECT_EQ(moved[0].value(), 2);
        moved = vector;
        EXPECT_EQ(live, 2);
        vector.clear();
        EXPECT_EQ(live, 1);
        ASSERT_TRUE(vector.emplace_back(&live, 9).ok());
        moved = std::move(vector);
        EXPECT_EQ(live, 1);
        EXPECT_EQ(moved[0].value(), 9);
    }
    EXPECT_EQ(live, 0);
}

TEST(FixedVectorDeathTest, IndexingPastTheSizeIsABug) {
    FixedVector<int, 4> vector;
    ASSERT_TRUE(vector.push_back(1).ok());
    EXPECT_DEATH((void)vector[1], "assertion failed");
    EXPECT_DEATH((void)vector[4], "assertion failed");
    const auto& constant = vector;
    EXPECT_DEATH((void)constant[7], "assertion failed");
}

TEST(FixedVectorDeathTest, TakingFromAnEmptyVectorIsABug) {
    FixedVector<int, 2> vector;
    EXPECT_DEATH(vector.pop_back(), "assertion failed");
    EXPECT_DEATH((void)vector.front(), "assertion failed");
    EXPECT_DEATH((void)vector.back(), "assertion failed");
    EXPECT_DEATH(vector.erase(0), "assertion failed");
    EXPECT_DEATH(vector.erase_unordered(0), "assertion failed");
}

}  // namespace
}  // namespace pinhole
