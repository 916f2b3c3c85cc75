// KeypairSet rotation, path by path, as the kernel's noise.c: initiator straight to current,
// responder through next until confirmed, expiry by time and counter, and wiping of every
// dropped keypair.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "core/wireguard/constants.h"
#include "core/wireguard/keypair.h"

namespace pinhole::wireguard {
namespace {

SessionKeys session(std::uint8_t tag, std::uint32_t local_index, bool initiator) {
    SessionKeys keys;
    keys.keys.sending_key.fill(tag);
    keys.keys.receiving_key.fill(static_cast<std::uint8_t>(tag + 1));
    keys.local_index = local_index;
    keys.remote_index = local_index + 1000;
    keys.initiator = initiator;
    return keys;
}

std::uint32_t index_of(const Keypair* keypair) { return keypair ? keypair->local_index : 0; }

bool all_zero(const crypto::ChaCha20Poly1305Key& key) {
    return std::all_of(key.begin(), key.end(), [](std::uint8_t byte) { return byte == 0; });
}

TEST(WgKeypair, InitiatorGoesStraightToCurrent) {
    KeypairSet set;
    SessionKeys keys = session(0x11, 1, true);
    const DroppedIndices dropped = set.install(keys, 500);
    EXPECT_TRUE(dropped.empty());
    ASSERT_NE(set.current(), nullptr);
    EXPECT_EQ(set.current()->local_index, 1u);
    EXPECT_EQ(set.current()->remote_index, 1001u);
    EXPECT_EQ(set.current()->birth_ms, 500u);
    EXPECT_TRUE(set.current()->initiator);
    EXPECT_EQ(set.current()->sending_key[0], 0x11);
    EXPECT_EQ(set.current()->receiving_key[0], 0x12);
    EXPECT_EQ(set.previous(), nullptr);
    EXPECT_EQ(set.next(), nullptr);
    EXPECT_TRUE(all_zero(keys.keys.sending_key)) << "the session's keys are wiped";
    EXPECT_TRUE(all_zero(keys.keys.receiving_key));
}

TEST(WgKeypair, InitiatorRotatesCurrentToPreviousAndDropsTheOldPrevious) {
    KeypairSet set;
    SessionKeys first = session(1, 1, true), second = session(2, 2, true), third = session(3, 3, true);
    EXPECT_TRUE(set.install(first, 0).empty());
    EXPECT_TRUE(set.install(second, 10).empty());
    EXPECT_EQ(index_of(set.previous()), 1u);
    EXPECT_EQ(index_of(set.current()), 2u);
    const DroppedIndices dropped = set.install(third, 20);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0], 1u);
    EXPECT_EQ(index_of(set.previous()), 2u);
    EXPECT_EQ(index_of(set.current()), 3u);
}

TEST(WgKeypair, ResponderWaitsInNextUntilConfirmed) {
    KeypairSet set;
    SessionKeys keys = session(1, 7, false);
    EXPECT_TRUE(set.install(keys, 0).empty());
    EXPECT_EQ(set.current(), nullptr);
    ASSERT_NE(set.next(), nullptr);
    DroppedIndices dropped;
    EXPECT_TRUE(set.received_with(*set.next(), dropped));
    EXPECT_TRUE(dropped.empty());
    EXPECT_EQ(index_of(set.current()), 7u);
    EXPECT_EQ(set.next(), nullptr);
    EXPECT_EQ(set.previous(), nullptr);
    EXPECT_FALSE(set.received_with(*set.current(), dropped)) << "current is not next";
}

TEST(WgKeypair, ResponderDropsPreviousAndOldNext) {
    KeypairSet set;
    SessionKeys a = session(1, 1, true), b = session(2, 2, true);
    SessionKeys c = session(3, 3, false), d = session(4, 4, false);
    (void)set.install(a, 0);
    (void)set.install(b, 0);  // previous 1, current 2
    DroppedIndices dropped = set.install(c, 0);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0], 1u) << "previous is useless once a new next exists";
    EXPECT_EQ(index_of(set.current()), 2u);
    EXPECT_EQ(index_of(set.next()), 3u);
    dropped = set.install(d, 0);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0], 3u) << "an unconfirmed next is replaced";
    EXPECT_EQ(index_of(set.next()), 4u);

    DroppedIndices confirmed;
    ASSERT_TRUE(set.received_with(*set.next(), confirmed));
    EXPECT_TRUE(confirmed.empty());
    EXPECT_EQ(index_of(set.previous()), 2u);
    EXPECT_EQ(index_of(set.current()), 4u);
    EXPECT_EQ(set.next(), nullptr);
}

TEST(WgKeypair, ConfirmingNextDropsTheOldPrevious) {
    KeypairSet set;
    SessionKeys a = session(1, 1, true), b = session(2, 2, false);
    (void)set.install(a, 0);
    EXPECT_TRUE(set.install(b, 0).empty());
    DroppedIndices confirmed;
    ASSERT_TRUE(set.received_with(*set.next(), confirmed));  // previous 1, current 2
    SessionKeys c = session(3, 3, false);
    (void)set.install(c, 0);  // drops previous 1
    DroppedIndices second;
    ASSERT_TRUE(set.received_with(*set.next(), second));
    EXPECT_TRUE(second.empty());
    EXPECT_EQ(index_of(set.previous()), 2u);
    EXPECT_EQ(index_of(set.current()), 3u);
}

TEST(WgKeypair, InitiatorWithPendingNextDemotesNextAndDropsCurrent) {
    // Crossing handshakes: we answered one (next pending) and then completed our own.
    KeypairSet set;
    SessionKeys a = session(1, 1, true), b = session(2, 2, false), c = session(3, 3, true);
    (void)set.install(a, 0);
    (void)set.install(b, 0);
    const DroppedIndices dropped = set.install(c, 0);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0], 1u);
    EXPECT_EQ(index_of(set.previous()), 2u);
    EXPECT_EQ(index_of(set.current()), 3u);
    EXPECT_EQ(set.next(), nullptr);
}

TEST(WgKeypair, ExpiryByTimeAndByCounter) {
    KeypairSet set;
    SessionKeys a = session(1, 1, true), b = session(2, 2, true);
    (void)set.install(a, 0xFFFF'FF00u);  // born just before the 32-bit wrap
    (void)set.install(b, 1000);
    EXPECT_TRUE(set.expire(0xFFFF'FF00u + reject_after_time_ms - 1, reject_after_time_ms).empty());
    DroppedIndices dropped = set.expire(0xFFFF'FF00u + reject_after_time_ms, reject_after_time_ms);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0], 1u);
    EXPECT_EQ(set.previous(), nullptr);

    set.current()->sending_counter = reject_after_messages;
    dropped = set.expire(1001, reject_after_time_ms);
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0], 2u);
    EXPECT_EQ(set.current(), nullptr);
}

TEST(WgKeypair, ExpiredChecksAge) {
    Keypair keypair;
    keypair.birth_ms = 0xFFFF'FFF0u;
    EXPECT_FALSE(keypair.expired(0xFFFF'FFF0u + 99, 100));
    EXPECT_TRUE(keypair.expired(0xFFFF'FFF0u + 100, 100));
}

TEST(WgKeypair, ClearWipesEveryKeypair) {
    KeypairSet set;
    SessionKeys a = session(1, 1, true), b = session(2, 2, true), c = session(3, 3, false);
    (void)set.install(a, 0);
    (void)set.install(b, 0);
    (void)set.install(c, 0);  // drops 1; current 2, next 3
    Keypair* current = set.current();
    Keypair* next = set.next();
    ASSERT_TRUE(current && next);
    const DroppedIndices dropped = set.clear();
    EXPECT_EQ(dropped.size(), 2u);
    EXPECT_FALSE(current->valid);
    EXPECT_TRUE(all_zero(current->sending_key));
    EXPECT_TRUE(all_zero(current->receiving_key));
    EXPECT_TRUE(all_zero(next->sending_key));
    EXPECT_EQ(set.current(), nullptr);
    EXPECT_EQ(set.next(), nullptr);
}

TEST(WgKeypair, MovedKeypairLeavesNoCopyBehind) {
    KeypairSet set;
    SessionKeys a = session(1, 1, false);
    (void)set.install(a, 0);
    Keypair* next_slot = set.next();
    DroppedIndices dropped;
    ASSERT_TRUE(set.received_with(*next_slot, dropped));
    EXPECT_FALSE(next_slot->valid);
    EXPECT_TRUE(all_zero(next_slot->sending_key));
    EXPECT_TRUE(all_zero(next_slot->receiving_key));
}

TEST(WgKeypair, FindByLocalIndex) {
    KeypairSet set;
    SessionKeys a = session(1, 10, true), b = session(2, 20, true), c = session(3, 30, false);
    (void)set.install(a, 0);
    (void)set.install(b, 0);
    (void)set.install(c, 0);  // drops 10
    EXPECT_EQ(set.find(10), nullptr);
    EXPECT_EQ(set.find(20), set.current());
    EXPECT_EQ(set.find(30), set.next());
    EXPECT_EQ(set.find(99), nullptr);
}

}  // namespace
}  // namespace pinhole::wireguard
