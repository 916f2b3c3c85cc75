#include "core/util/ring_buffer.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <numeric>
#include <vector>

namespace pinhole {
namespace {

// A move-only payload that counts live instances through a counter the test owns.
class Token {
public:
    Token(int* live_count, int value) noexcept : live_count_(live_count), value_(value) {
        ++*live_count_;
    }
    Token(Token&& other) noexcept : live_count_(other.live_count_), value_(other.value_) {
        ++*live_count_;
    }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() { --*live_count_; }
    [[nodiscard]] int value() const noexcept { return value_; }

private:
    int* live_count_;
    int value_;
};

TEST(RingBuffer, IsAFifoThatWrapsAround) {
    RingBuffer<int, 3> ring;  // not a power of two
    EXPECT_TRUE(ring.empty());
    EXPECT_FALSE(ring.pop().has_value());
    int next_in = 0;
    int next_out = 0;
    // Many more items than slots pass through, so head and tail wrap many times.
    for (int round = 0; round < 20; ++round) {
        while (!ring.full()) ASSERT_TRUE(ring.push(next_in++).ok());
        EXPECT_EQ(ring.size(), 3u);
        EXPECT_EQ(ring.push(99).error(), Errc::no_space);
        EXPECT_EQ(ring.front(), next_out);
        for (int taken = 0; taken < 1 + round % 3; ++taken) {
            const auto value = ring.pop();
            ASSERT_TRUE(value.has_value());
            EXPECT_EQ(*value, next_out++);
        }
    }
    ring.clear();
    EXPECT_TRUE(ring.empty());
    ASSERT_TRUE(ring.push(7).ok());
    EXPECT_EQ(ring.pop().value(), 7);
}

TEST(RingBuffer, HoldsMoveOnlyObjectsAndDestroysThem) {
    int live = 0;
    {
        RingBuffer<Token, 4> ring;
        for (int i = 0; i < 4; ++i) ASSERT_TRUE(ring.push(Token(&live, i)).ok());
        EXPECT_EQ(live, 4);
        {
            const auto first = ring.pop();
            ASSERT_TRUE(first.has_value());
            EXPECT_EQ(first->value(), 0);
            EXPECT_EQ(live, 4);  // three in the ring, one in `first`
        }
        EXPECT_EQ(live, 3);
        ASSERT_TRUE(ring.push(Token(&live, 4)).ok());  // wraps to slot 0
        EXPECT_EQ(ring.front().value(), 1);
        EXPECT_EQ(live, 4);
    }
    EXPECT_EQ(live, 0);  // the destructor destroyed what was left
}

TEST(RingBufferDeathTest, FrontOfAnEmptyRingIsABug) {
    RingBuffer<int, 2> ring;
    EXPECT_DEATH((void)ring.front(), "assertion failed");
}

std::vector<std::uint8_t> counting_bytes(std::size_t count, std::uint8_t first) {
    // push_back, not iota over a sized vector: GCC 12 at -O3 reports a false
    // -Wstringop-overflow for the latter when count may be 0.
    std::vector<std::uint8_t> bytes;
    for (std::size_t i = 0; i < count; i++) bytes.push_back(static_cast<std::uint8_t>(first + i));
    return bytes;
}

TEST(ByteRing, TakesWhatFitsAndReadsItBackInOrder) {
    ByteRing<10> ring;
    EXPECT_EQ(ring.capacity(), 10u);
    EXPECT_EQ(ring.writable_bytes(), 10u);
    const auto bytes = counting_bytes(14, 0);
    EXPECT_EQ(ring.write(bytes), 10u);  // only ten fit
    EXPECT_TRUE(ring.full());
    EXPECT_EQ(ring.write(bytes), 0u);
    std::array<std::uint8_t, 4> out{};
    EXPECT_EQ(ring.peek(out), 4u);
    EXPECT_EQ(out, (std::array<std::uint8_t, 4>{0, 1, 2, 3}));
    EXPECT_EQ(ring.readable_bytes(), 10u);  // peek leaves them
    EXPECT_EQ(ring.read(out), 4u);
    EXPECT_EQ(ring.readable_bytes(), 6u);
    EXPECT_EQ(ring.read(out), 4u);
    EXPECT_EQ(out, (std::array<std::uint8_t, 4>{4, 5, 6, 7}));
    EXPECT_EQ(ring.read(out), 2u);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.read(out), 0u);
}

TEST(ByteRing, WrapsAroundThroughEveryOffset) {
    ByteRing<7> ring;
    std::uint8_t next_in = 0;
    std::uint8_t next_out = 0;
    for (int round = 0; round < 50; ++round) {
        const std::size_t write_size = 1 + round % 6;
        const auto bytes = counting_bytes(write_size, next_in);
        const std::size_t written = ring.write(bytes);
        next_in = static_cast<std::uint8_t>(next_in + written);
        std::array<std::uint8_t, 5> out{};
        const std::size_t read = ring.read(std::span(out).first(1 + round % 5));
        for (std::size_t i = 0; i < read; ++i) ASSERT_EQ(out[i], next_out++);
        ASSERT_EQ(ring.readable_bytes(), static_cast<std::uint8_t>(next_in - next_out));
    }
}

TEST(ByteRing, ExposesContiguousRegionsForZeroCopy) {
    ByteRing<8> ring;
    EXPECT_EQ(ring.writable_span().size(), 8u);
    EXPECT_TRUE(ring.readable_span().empty());

    // Produce in place: fill part of the writable region, then commit it.
    auto free = ring.writable_span();
    for (std::size_t i = 0; i < 6; ++i) free[i] = static_cast<std::uint8_t>(10 + i);
    ring.commit_write(6);
    EXPECT_EQ(ring.readable_span().size(), 6u);
    EXPECT_EQ(ring.readable_span()[0], 10);
    ring.discard(4);  // consume in place
    EXPECT_EQ(ring.readable_span().size(), 2u);
    EXPECT_EQ(ring.readable_span()[0], 14);

    // Free space now wraps: two bytes at the end, then four at the start.
    EXPECT_EQ(ring.writable_span().size(), 2u);
    const auto more = counting_bytes(5, 20);
    EXPECT_EQ(ring.write(more), 5u);
    EXPECT_EQ(ring.readable_bytes(), 7u);
    EXPECT_EQ(ring.readable_span().size(), 4u);  // 14 15 20 21 up to the end
    EXPECT_EQ(ring.writable_span().size(), 1u);  // the one free byte before the head
    ring.discard(4);
    EXPECT_EQ(ring.readable_span().size(), 3u);  // 22 23 24 from the start
    EXPECT_EQ(ring.readable_span()[0], 22);

    // Emptying rewinds to the start, so the next write is one contiguous piece.
    ring.discard(3);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.writable_span().size(), 8u);
}

TEST(ByteRing, PeekCopiesAcrossTheWrap) {
    ByteRing<4> ring;
    EXPECT_EQ(ring.write(counting_bytes(3, 1)), 3u);
    ring.discard(2);
    EXPECT_EQ(ring.write(counting_bytes(3, 4)), 3u);  // 3 | 4 5 6 wrapping
    std::array<std::uint8_t, 4> out{};
    EXPECT_EQ(ring.peek(out), 4u);
    EXPECT_EQ(out, (std::array<std::uint8_t, 4>{3, 4, 5, 6}));
    ring.clear();
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.writable_bytes(), 4u);
}

TEST(ByteRingDeathTest, ConsumingOrCommittingTooMuchIsABug) {
    ByteRing<4> ring;
    EXPECT_EQ(ring.write(counting_bytes(2, 0)), 2u);
    EXPECT_DEATH(ring.discard(3), "assertion failed");
    EXPECT_DEATH(ring.commit_write(3), "assertion failed");
}

}  // namespace
}  // namespace pinhole
