// Data messages: round trip, padding, keepalives, every rejection with its counted reason,
// the counter limits (set directly near them), and that a forged packet never moves the
// replay window.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/wireguard/transport.h"

namespace pinhole::wireguard {
namespace {

constexpr std::size_t mtu = 1420;

struct OneKeypair final : KeypairLookup {
    Keypair* find_keypair(std::uint32_t local_index) noexcept override {
        return keypair != nullptr && keypair->local_index == local_index ? keypair : nullptr;
    }
    Keypair* keypair = nullptr;
};

// Two keypairs that mirror each other: what `sender` seals, `receiver` opens.
struct Pair {
    Pair() {
        sender.sending_key.fill(0x42);
        receiver.receiving_key.fill(0x42);
        sender.remote_index = 0x01020304;
        receiver.local_index = 0x01020304;
        sender.valid = receiver.valid = true;
        sender.initiator = true;
        lookup.keypair = &receiver;
    }
    Keypair sender, receiver;
    OneKeypair lookup;
    TimerSettings settings;
    MessageCounters counters;

    std::vector<std::uint8_t> seal(std::span<const std::uint8_t> packet, std::uint32_t now = 0) {
        std::vector<std::uint8_t> out(data_message_bytes(packet.size(), mtu));
        const Result<SealedData> sealed = seal_data(sender, packet, mtu, out, now, settings);
        EXPECT_TRUE(sealed.ok());
        if (sealed.ok()) out.resize(sealed.value().message_bytes);
        return out;
    }
    Result<OpenedData> open(std::span<const std::uint8_t> datagram, std::uint32_t now = 0) {
        plaintext.assign(datagram.size(), 0);
        return open_data(datagram, plaintext, lookup, now, settings, counters);
    }
    std::vector<std::uint8_t> plaintext;
};

TEST(WgTransport, RoundTripWithPadding) {
    Pair pair;
    const std::vector<std::uint8_t> packet(21, 0xAB);
    const std::vector<std::uint8_t> message = pair.seal(packet);
    ASSERT_EQ(message.size(), 16u + 32u + 16u) << "21 bytes pad to 32";
    EXPECT_EQ(message[0], 4);
    EXPECT_EQ(message[1] | message[2] | message[3], 0);
    EXPECT_EQ(message[4], 0x04);  // receiver index, little-endian
    EXPECT_EQ(message[7], 0x01);
    EXPECT_EQ(message[8], 0);     // counter 0
    const Result<OpenedData> opened = pair.open(message);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(opened.value().keypair, &pair.receiver);
    EXPECT_EQ(opened.value().counter, 0u);
    ASSERT_EQ(opened.value().packet.size(), 32u);
    EXPECT_TRUE(std::equal(packet.begin(), packet.end(), opened.value().packet.begin()));
    for (std::size_t i = 21; i < 32; ++i) EXPECT_EQ(opened.value().packet[i], 0);
    EXPECT_EQ(pair.sender.sending_counter, 1u);
    EXPECT_EQ(total_rejections(pair.counters), 0u);
}

TEST(WgTransport, PaddingNeverPassesTheMtu) {
    EXPECT_EQ(data_message_bytes(0, mtu), 32u);
    EXPECT_EQ(data_message_bytes(16, mtu), 48u);
    EXPECT_EQ(data_message_bytes(17, mtu), 64u);
    EXPECT_EQ(data_message_bytes(1419, mtu), 32u + 1420u) << "1424 would pass the MTU";
    EXPECT_EQ(data_message_bytes(1420, mtu), 32u + 1420u);
    EXPECT_EQ(data_message_bytes(1500, mtu), 32u + 1500u) << "never shortened";
}

TEST(WgTransport, KeepaliveIsAnEmptyPayload) {
    Pair pair;
    const std::vector<std::uint8_t> message = pair.seal({});
    ASSERT_EQ(message.size(), data_min_bytes);
    const Result<OpenedData> opened = pair.open(message);
    ASSERT_TRUE(opened.ok());
    EXPECT_TRUE(opened.value().packet.empty());
}

TEST(WgTransport, ParseRejectionsAreCounted) {
    Pair pair;
    std::vector<std::uint8_t> message = pair.seal(std::vector<std::uint8_t>(5, 1));
    const std::vector<std::uint8_t> short_message(message.begin(), message.begin() + 31);
    EXPECT_EQ(pair.open(short_message).error(), Errc::malformed);
    EXPECT_EQ(pair.counters.wrong_length, 1u);
    auto wrong_type = message;
    wrong_type[0] = 1;
    EXPECT_FALSE(pair.open(wrong_type).ok());
    auto reserved = message;
    reserved[2] = 1;
    EXPECT_EQ(pair.open(reserved).error(), Errc::malformed);
    EXPECT_EQ(pair.counters.nonzero_reserved, 1u);
    EXPECT_EQ(total_rejections(pair.counters), 3u);
}

TEST(WgTransport, UnknownIndexAndExpiredKeypair) {
    Pair pair;
    std::vector<std::uint8_t> message = pair.seal(std::vector<std::uint8_t>(5, 1));
    auto unknown = message;
    unknown[4] ^= 1;
    EXPECT_EQ(pair.open(unknown).error(), Errc::not_found);
    EXPECT_EQ(pair.counters.unknown_index, 1u);

    EXPECT_EQ(pair.open(message, reject_after_time_ms).error(), Errc::refused);
    EXPECT_EQ(pair.counters.expired_keypair, 1u);
    EXPECT_EQ(pair.receiver.receiving_window.next_expected(), 0u);
}

TEST(WgTransport, BadTagIsRejectedAndNeverMovesTheWindow) {
    Pair pair;
    std::vector<std::uint8_t> message = pair.seal(std::vector<std::uint8_t>(40, 1));
    auto forged = message;
    forged.back() ^= 0x80;
    EXPECT_EQ(pair.open(forged).error(), Errc::authentication);
    EXPECT_EQ(pair.counters.decrypt_data, 1u);
    // A forged far-ahead counter must not push the window past genuine packets.
    auto far_ahead = message;
    far_ahead[8 + 7] = 0x10;  // counter 2^60
    EXPECT_EQ(pair.open(far_ahead).error(), Errc::authentication);
    EXPECT_EQ(pair.receiver.receiving_window.next_expected(), 0u);
    EXPECT_TRUE(pair.open(message).ok());
}

TEST(WgTransport, ReplayIsRejected) {
    Pair pair;
    const std::vector<std::uint8_t> first = pair.seal(std::vector<std::uint8_t>(5, 1));
    const std::vector<std::uint8_t> second = pair.seal(std::vector<std::uint8_t>(5, 2));
    ASSERT_TRUE(pair.open(second).ok());
    ASSERT_TRUE(pair.open(first).ok()) << "reordered, not replayed";
    EXPECT_EQ(pair.open(first).error(), Errc::already_exists);
    EXPECT_EQ(pair.counters.replayed_counter, 1u);
}

TEST(WgTransport, SendingCounterLimits) {
    Pair pair;
    std::vector<std::uint8_t> out(64);
    const std::array<std::uint8_t, 4> packet{1, 2, 3, 4};
    pair.sender.sending_counter = rekey_after_messages - 2;
    pair.sender.initiator = false;
    Result<SealedData> sealed = seal_data(pair.sender, packet, mtu, out, 0, pair.settings);
    ASSERT_TRUE(sealed.ok());
    EXPECT_FALSE(sealed.value().rekey_due);
    sealed = seal_data(pair.sender, packet, mtu, out, 0, pair.settings);
    ASSERT_TRUE(sealed.ok());
    EXPECT_TRUE(sealed.value().rekey_due) << "REKEY_AFTER_MESSAGES reached";

    pair.sender.sending_counter = reject_after_messages - 1;
    ASSERT_TRUE(seal_data(pair.sender, packet, mtu, out, 0, pair.settings).ok());
    EXPECT_EQ(seal_data(pair.sender, packet, mtu, out, 0, pair.settings).error(), Errc::refused);
    EXPECT_EQ(pair.sender.sending_counter, reject_after_messages);
}

TEST(WgTransport, ReceivingCounterLimit) {
    Pair pair;
    pair.sender.sending_counter = reject_after_messages - 1;
    const std::vector<std::uint8_t> last = pair.seal(std::vector<std::uint8_t>(3, 1));
    ASSERT_TRUE(pair.open(last).ok());
    EXPECT_EQ(pair.open(last).error(), Errc::already_exists);
}

TEST(WgTransport, TimeLimitsOfAnInitiator) {
    Pair pair;
    std::vector<std::uint8_t> out(64);
    const std::array<std::uint8_t, 4> packet{1, 2, 3, 4};
    pair.sender.birth_ms = 0xFFFF'0000u;  // across the wrap
    Result<SealedData> sealed =
        seal_data(pair.sender, packet, mtu, out, 0xFFFF'0000u + rekey_after_time_ms - 1, pair.settings);
    ASSERT_TRUE(sealed.ok());
    EXPECT_FALSE(sealed.value().rekey_due);
    sealed = seal_data(pair.sender, packet, mtu, out, 0xFFFF'0000u + rekey_after_time_ms, pair.settings);
    ASSERT_TRUE(sealed.ok());
    EXPECT_TRUE(sealed.value().rekey_due);
    EXPECT_EQ(seal_data(pair.sender, packet, mtu, out, 0xFFFF'0000u + reject_after_time_ms,
                        pair.settings).error(),
              Errc::refused);
}

TEST(WgTransport, InitiatorReceivingNearRejectTimeAsksForRekey) {
    Pair pair;
    pair.receiver.initiator = true;
    const std::uint32_t margin = keepalive_timeout_ms + rekey_timeout_ms;
    const std::vector<std::uint8_t> a = pair.seal(std::vector<std::uint8_t>(3, 1));
    const std::vector<std::uint8_t> b = pair.seal(std::vector<std::uint8_t>(3, 2));
    Result<OpenedData> opened = pair.open(a, reject_after_time_ms - margin - 1);
    ASSERT_TRUE(opened.ok());
    EXPECT_FALSE(opened.value().rekey_due);
    opened = pair.open(b, reject_after_time_ms - margin);
    ASSERT_TRUE(opened.ok());
    EXPECT_TRUE(opened.value().rekey_due);
}

TEST(WgTransport, CallerErrors) {
    Pair pair;
    std::vector<std::uint8_t> small(20);
    const std::array<std::uint8_t, 4> packet{1, 2, 3, 4};
    EXPECT_EQ(seal_data(pair.sender, packet, mtu, small, 0, pair.settings).error(),
              Errc::invalid_argument);
    pair.sender.valid = false;
    std::vector<std::uint8_t> out(64);
    EXPECT_EQ(seal_data(pair.sender, packet, mtu, out, 0, pair.settings).error(),
              Errc::invalid_argument);
}

}  // namespace
}  // namespace pinhole::wireguard
