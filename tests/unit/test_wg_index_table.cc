// The index table: random unique indices, lookups, retargeting, removal (backward shift keeps
// every probe sequence intact), collisions from a random source that repeats itself.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "core/util/endian.h"
#include "core/wireguard/index_table.h"
#include "fakes.h"

namespace pinhole::wireguard {
namespace {

// Hands out the given 32-bit values in turn (then repeats the last one).
struct ScriptedRandom final : port::Random {
    Status fill(std::span<std::uint8_t> out) noexcept override {
        if (fail) return Errc::io;
        const std::uint32_t value = values[std::min(next, values.size() - 1)];
        ++next;
        std::array<std::uint8_t, 4> bytes{};
        store_le32(bytes.data(), value);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = bytes[i % 4];
        return {};
    }
    std::vector<std::uint32_t> values;
    std::size_t next = 0;
    bool fail = false;
};

struct SeededRandom final : port::Random {
    explicit SeededRandom(std::uint32_t seed) : engine(seed) {}
    Status fill(std::span<std::uint8_t> out) noexcept override {
        for (auto& byte : out) byte = static_cast<std::uint8_t>(engine());
        return {};
    }
    std::mt19937 engine;
};

TEST(WgIndexTable, InsertLookupRetargetRemove) {
    ScriptedRandom random;
    random.values = {0xDEAD'BEEFu, 7};
    IndexTable table(random);
    const Result<std::uint32_t> first = table.insert(3, IndexKind::handshake);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.value(), 0xDEAD'BEEFu);
    const auto entry = table.lookup(0xDEAD'BEEFu);
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(entry->peer_slot, 3u);
    EXPECT_EQ(entry->kind, IndexKind::handshake);
    EXPECT_FALSE(table.lookup(0xDEAD'BEEEu).has_value());

    EXPECT_TRUE(table.retarget(0xDEAD'BEEFu, IndexKind::keypair).ok());
    EXPECT_EQ(table.lookup(0xDEAD'BEEFu)->kind, IndexKind::keypair);
    EXPECT_EQ(table.retarget(1234, IndexKind::keypair).error(), Errc::not_found);

    table.remove(0xDEAD'BEEFu);
    EXPECT_FALSE(table.lookup(0xDEAD'BEEFu).has_value());
    EXPECT_EQ(table.size(), 0u);
    table.remove(0xDEAD'BEEFu);  // absent: nothing happens
}

TEST(WgIndexTable, RepeatedDrawIsRetried) {
    ScriptedRandom random;
    random.values = {42, 42, 42, 43};
    IndexTable table(random);
    ASSERT_EQ(table.insert(0, IndexKind::keypair).value(), 42u);
    const Result<std::uint32_t> second = table.insert(1, IndexKind::keypair);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second.value(), 43u) << "duplicates are drawn again";
    EXPECT_EQ(table.lookup(42)->peer_slot, 0u);
    EXPECT_EQ(table.lookup(43)->peer_slot, 1u);
}

TEST(WgIndexTable, RandomThatOnlyRepeatsGivesUp) {
    ScriptedRandom random;
    random.values = {9};
    IndexTable table(random);
    ASSERT_TRUE(table.insert(0, IndexKind::keypair).ok());
    EXPECT_EQ(table.insert(0, IndexKind::keypair).error(), Errc::already_exists);
    EXPECT_EQ(table.size(), 1u);
}

TEST(WgIndexTable, RandomFailureIsReported) {
    ScriptedRandom random;
    random.values = {1};
    random.fail = true;
    IndexTable table(random);
    EXPECT_EQ(table.insert(0, IndexKind::keypair).error(), Errc::io);
}

TEST(WgIndexTable, FullTableRefuses) {
    SeededRandom random(1);
    IndexTable table(random);
    for (std::size_t i = 0; i < IndexTable::capacity; ++i) {
        ASSERT_TRUE(table.insert(static_cast<std::uint16_t>(i / 4), IndexKind::keypair).ok());
    }
    EXPECT_EQ(table.insert(0, IndexKind::keypair).error(), Errc::no_space);
}

TEST(WgIndexTable, ProbeChainsSurviveRemoval) {
    // A full table (half the slots used) has many probe chains, some wrapping the end: remove
    // in a random order and check every survivor is still found after each removal.
    const std::uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRandom random(seed);
    IndexTable table(random);
    std::vector<std::uint32_t> live;
    for (std::size_t i = 0; i < IndexTable::capacity; ++i) {
        live.push_back(table.insert(static_cast<std::uint16_t>(i), IndexKind::keypair).value());
    }
    std::mt19937 order(seed);
    std::shuffle(live.begin(), live.end(), order);
    while (!live.empty()) {
        table.remove(live.back());
        EXPECT_FALSE(table.lookup(live.back()).has_value());
        live.pop_back();
        for (const std::uint32_t index : live) ASSERT_TRUE(table.lookup(index).has_value());
    }
    EXPECT_EQ(table.size(), 0u);
}

TEST(WgIndexTable, RemovePeerRemovesOnlyItsIndices) {
    SeededRandom random(7);
    IndexTable table(random);
    std::vector<std::pair<std::uint32_t, std::uint16_t>> inserted;
    for (std::size_t i = 0; i < IndexTable::capacity; ++i) {
        const auto peer = static_cast<std::uint16_t>(i % 3);
        inserted.emplace_back(table.insert(peer, IndexKind::keypair).value(), peer);
    }
    table.remove_peer(1);
    for (const auto& [index, peer] : inserted) {
        EXPECT_EQ(table.lookup(index).has_value(), peer != 1) << index;
    }
}

}  // namespace
}  // namespace pinhole::wireguard
