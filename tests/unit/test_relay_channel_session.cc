// core/relay/channel_session: the Noise_IK session of the relay channel between a node and
// the gateway, its stream framing, and its failures (wrong keys, tampering, replay, reorder).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <new>
#include <vector>

#include "core/crypto/tai64n.h"
#include "core/keys/keys.h"
#include "core/relay/channel_session.h"
#include "fakes.h"
#include "test_crypto_hex.h"

namespace pinhole::relay {
namespace {

using Bytes = std::vector<std::uint8_t>;

keys::KeyPair key_pair(std::uint8_t seed) {
    crypto::X25519Key private_key{};
    private_key.fill(seed);
    const auto pair = keys::key_pair_from_private(private_key);
    EXPECT_TRUE(pair.ok());
    return pair.value();
}

crypto::Tai64n stamp(std::uint64_t seconds) { return crypto::tai64n_encode({seconds, 0}); }

// The noise message of a length-prefixed buffer, checked against its prefix.
Bytes unframe(const Bytes& framed) {
    const auto length = next_message_bytes(framed);
    EXPECT_TRUE(length.ok());
    if (!length.ok()) return {};
    EXPECT_EQ(framed.size(), length_prefix_bytes + length.value());
    return {framed.begin() + length_prefix_bytes, framed.end()};
}

Bytes sealed(ChannelSession& session, const Bytes& frame) {
    Bytes out(length_prefix_bytes + max_transport_message_bytes);
    const auto written = session.seal(frame, out);
    EXPECT_TRUE(written.ok());
    out.resize(written.ok() ? written.value() : 0);
    return unframe(out);
}

// Opens a copy of `message` (open decrypts in place).
Result<Bytes> opened(ChannelSession& session, Bytes message) {
    const auto frame = session.open(message);
    if (!frame.ok()) return frame.error();
    return Bytes(frame.value().begin(), frame.value().end());
}

class RelayChannelSession : public ::testing::Test {
protected:
    // Message 1 from `node_` to `pinned` (the gateway key the node trusts).
    Bytes start(const crypto::X25519Key& pinned, const crypto::Tai64n& now) {
        Bytes out(length_prefix_bytes + message1_bytes + 7);  // room to spare
        const auto written = node_side_.start_initiator(node_, pinned, random_, now, out);
        EXPECT_TRUE(written.ok());
        out.resize(written.ok() ? written.value() : 0);
        return unframe(out);
    }
    Bytes accept() {
        Bytes out(length_prefix_bytes + message2_bytes);
        const auto written = gateway_side_.accept(random_, out);
        EXPECT_TRUE(written.ok());
        out.resize(written.ok() ? written.value() : 0);
        return unframe(out);
    }
    void establish() {
        const Bytes message1 = start(gateway_.public_key, stamp(1'700'000'000));
        ASSERT_TRUE(gateway_side_.read_initiation(gateway_, message1).ok());
        ASSERT_TRUE(node_side_.finish_initiator(accept()).ok());
        ASSERT_TRUE(node_side_.established());
        ASSERT_TRUE(gateway_side_.established());
    }

    fakes::CountingRandom random_;
    keys::KeyPair node_ = key_pair(0x11);
    keys::KeyPair gateway_ = key_pair(0x22);
    keys::KeyPair stranger_ = key_pair(0x33);
    ChannelSession node_side_;
    ChannelSession gateway_side_;
};

TEST_F(RelayChannelSession, HandshakeThenFramesBothWays) {
    const crypto::Tai64n now = stamp(1'700'000'123);
    const Bytes message1 = start(gateway_.public_key, now);
    EXPECT_EQ(message1.size(), message1_bytes);
    EXPECT_FALSE(node_side_.established());
    const auto initiation = gateway_side_.read_initiation(gateway_, message1);
    ASSERT_TRUE(initiation.ok());
    EXPECT_EQ(initiation.value().node_key, node_.public_key);
    EXPECT_EQ(initiation.value().timestamp, now);
    EXPECT_FALSE(gateway_side_.established());
    const Bytes message2 = accept();
    EXPECT_EQ(message2.size(), message2_bytes);
    EXPECT_TRUE(gateway_side_.established());
    ASSERT_TRUE(node_side_.finish_initiator(message2).ok());
    EXPECT_TRUE(node_side_.established());

    const std::vector<Bytes> frames = {Bytes{}, test::bytes_of("ping"),
                                       Bytes(max_frame_plaintext_bytes, 0xab)};
    for (const Bytes& frame : frames) {
        const Bytes up = sealed(node_side_, frame);
        EXPECT_EQ(up.size(), frame.size() + 16);
        const auto got_up = opened(gateway_side_, up);
        ASSERT_TRUE(got_up.ok());
        EXPECT_EQ(got_up.value(), frame);
        const auto got_down = opened(node_side_, sealed(gateway_side_, frame));
        ASSERT_TRUE(got_down.ok());
        EXPECT_EQ(got_down.value(), frame);
    }
    EXPECT_TRUE(node_side_.established());
    EXPECT_TRUE(gateway_side_.established());
}

TEST_F(RelayChannelSession, FramingLimits) {
    establish();
    Bytes out(length_prefix_bytes + max_transport_message_bytes + 1);
    const Bytes too_long(max_frame_plaintext_bytes + 1, 1);
    EXPECT_EQ(node_side_.seal(too_long, out).error(), Errc::invalid_argument);
    EXPECT_FALSE(node_side_.established());  // fail-closed

    const std::uint8_t prefix_short[] = {0x00};
    EXPECT_EQ(next_message_bytes({}).error(), Errc::would_block);
    EXPECT_EQ(next_message_bytes(prefix_short).error(), Errc::would_block);
    const std::uint8_t zero[] = {0x00, 0x00};
    const std::uint8_t below_tag[] = {0x00, 0x0f};
    const std::uint8_t tag_only[] = {0x00, 0x10, 0xff};
    const std::uint8_t largest[] = {0x06, 0x74};  // 1652
    const std::uint8_t too_large[] = {0x06, 0x75};
    const std::uint8_t huge[] = {0xff, 0xff};
    EXPECT_EQ(next_message_bytes(zero).error(), Errc::malformed);
    EXPECT_EQ(next_message_bytes(below_tag).error(), Errc::malformed);
    EXPECT_EQ(next_message_bytes(tag_only).value(), 16u);
    EXPECT_EQ(next_message_bytes(largest).value(), max_transport_message_bytes);
    EXPECT_EQ(next_message_bytes(too_large).error(), Errc::malformed);
    EXPECT_EQ(next_message_bytes(huge).error(), Errc::malformed);
}

TEST_F(RelayChannelSession, ShortBuffersAndWrongSizesAreRefused) {
    Bytes short_out(length_prefix_bytes + message1_bytes - 1);
    EXPECT_EQ(node_side_.start_initiator(node_, gateway_.public_key, random_, stamp(1), short_out).error(),
              Errc::invalid_argument);
    const Bytes message1 = start(gateway_.public_key, stamp(2));
    Bytes longer = message1;
    longer.push_back(0);
    EXPECT_EQ(gateway_side_.read_initiation(gateway_, longer).error(), Errc::malformed);
    EXPECT_EQ(gateway_side_.read_initiation(gateway_, Bytes{}).error(), Errc::malformed);
    ASSERT_TRUE(gateway_side_.read_initiation(gateway_, message1).ok());
    Bytes short_answer(length_prefix_bytes + message2_bytes - 1);
    EXPECT_EQ(gateway_side_.accept(random_, short_answer).error(), Errc::invalid_argument);
    EXPECT_EQ(node_side_.finish_initiator(Bytes(message2_bytes + 1)).error(), Errc::malformed);
    EXPECT_FALSE(node_side_.established());
    // Out of order: nothing started.
    ChannelSession fresh;
    Bytes out(64);
    EXPECT_EQ(fresh.finish_initiator(Bytes(message2_bytes)).error(), Errc::invalid_argument);
    EXPECT_EQ(fresh.accept(random_, out).error(), Errc::invalid_argument);
    EXPECT_EQ(fresh.seal({}, out).error(), Errc::invalid_argument);
    EXPECT_EQ(fresh.open(out).error(), Errc::invalid_argument);
}

// The node pinned another key than the gateway's: the gateway cannot read message 1.
TEST_F(RelayChannelSession, WrongGatewayKeyOnNodeSideFails) {
    const Bytes message1 = start(stranger_.public_key, stamp(1'700'000'000));
    EXPECT_EQ(gateway_side_.read_initiation(gateway_, message1).error(), Errc::authentication);
    EXPECT_FALSE(gateway_side_.established());
    Bytes out(length_prefix_bytes + message2_bytes);
    EXPECT_EQ(gateway_side_.accept(random_, out).error(), Errc::invalid_argument);
}

// A gateway with another key than the one the node pinned cannot read message 1, and no
// message 2 it can make (its own handshake's, or one for another initiation) completes.
TEST_F(RelayChannelSession, GatewayWithAnotherKeyCannotComplete) {
    const Bytes message1 = start(gateway_.public_key, stamp(1'700'000'000));
    ChannelSession impostor;
    EXPECT_EQ(impostor.read_initiation(stranger_, message1).error(), Errc::authentication);

    // The impostor's answer to a node that did pin it, fed to our node.
    ChannelSession other_node;
    Bytes out(length_prefix_bytes + message1_bytes);
    ASSERT_TRUE(other_node.start_initiator(node_, stranger_.public_key, random_, stamp(5), out).ok());
    ASSERT_TRUE(impostor.read_initiation(stranger_, unframe(out)).ok());
    Bytes answer(length_prefix_bytes + message2_bytes);
    ASSERT_TRUE(impostor.accept(random_, answer).ok());
    const ChannelSession waiting = node_side_;
    EXPECT_EQ(node_side_.finish_initiator(unframe(answer)).error(), Errc::authentication);
    EXPECT_FALSE(node_side_.established());

    // The genuine gateway's answer to another initiation of the same node.
    node_side_ = waiting;
    ChannelSession earlier_node;
    ASSERT_TRUE(earlier_node.start_initiator(node_, gateway_.public_key, random_, stamp(6), out).ok());
    ASSERT_TRUE(gateway_side_.read_initiation(gateway_, unframe(out)).ok());
    EXPECT_EQ(node_side_.finish_initiator(accept()).error(), Errc::authentication);
    EXPECT_FALSE(node_side_.established());
}

TEST_F(RelayChannelSession, TamperedHandshakeMessagesFail) {
    const Bytes message1 = start(gateway_.public_key, stamp(1'700'000'000));
    for (std::size_t i = 0; i < message1.size(); ++i) {
        for (const std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
            Bytes tampered = message1;
            tampered[i] ^= flip;
            ChannelSession gateway;
            const auto read = gateway.read_initiation(gateway_, tampered);
            ASSERT_FALSE(read.ok()) << "byte " << i;
            EXPECT_EQ(read.error(), Errc::authentication) << "byte " << i;
        }
    }
    ASSERT_TRUE(gateway_side_.read_initiation(gateway_, message1).ok());
    const Bytes message2 = accept();
    for (std::size_t i = 0; i < message2.size(); ++i) {
        for (const std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
            Bytes tampered = message2;
            tampered[i] ^= flip;
            ChannelSession node = node_side_;
            EXPECT_EQ(node.finish_initiator(tampered).error(), Errc::authentication) << "byte " << i;
            EXPECT_FALSE(node.established());
        }
    }
    ASSERT_TRUE(node_side_.finish_initiator(message2).ok());
}

TEST_F(RelayChannelSession, TamperedTransportMessagesFail) {
    establish();
    const Bytes frame = test::bytes_of("a relay frame");
    for (ChannelSession* sender : {&node_side_, &gateway_side_}) {
        ChannelSession& receiver = sender == &node_side_ ? gateway_side_ : node_side_;
        const Bytes message = sealed(*sender, frame);
        for (std::size_t i = 0; i < message.size(); ++i) {
            Bytes tampered = message;
            tampered[i] ^= 0x01;
            ChannelSession copy = receiver;
            EXPECT_EQ(opened(copy, tampered).error(), Errc::authentication) << "byte " << i;
            EXPECT_FALSE(copy.established());
        }
        // Truncated: one byte short is another message.
        ChannelSession copy = receiver;
        EXPECT_EQ(opened(copy, Bytes(message.begin(), message.end() - 1)).error(), Errc::authentication);
        ASSERT_TRUE(opened(receiver, message).ok());
    }
}

TEST_F(RelayChannelSession, ReorderedReplayedAndReflectedTransportFail) {
    establish();
    const Bytes first = sealed(node_side_, test::bytes_of("first"));
    const Bytes second = sealed(node_side_, test::bytes_of("second"));
    const Bytes third = sealed(node_side_, test::bytes_of("third"));
    const ChannelSession before = gateway_side_;

    ChannelSession reordered = before;
    EXPECT_EQ(opened(reordered, second).error(), Errc::authentication);
    EXPECT_FALSE(reordered.established());
    EXPECT_EQ(opened(reordered, first).error(), Errc::invalid_argument);  // closed for good

    ChannelSession replayed = before;
    ASSERT_TRUE(opened(replayed, first).ok());
    EXPECT_EQ(opened(replayed, first).error(), Errc::authentication);

    ChannelSession gap = before;
    ASSERT_TRUE(opened(gap, first).ok());
    EXPECT_EQ(opened(gap, third).error(), Errc::authentication);

    // The node's own message sent back to it.
    ChannelSession reflected = node_side_;
    EXPECT_EQ(opened(reflected, first).error(), Errc::authentication);

    ChannelSession in_order = before;
    EXPECT_EQ(opened(in_order, first).value(), test::bytes_of("first"));
    EXPECT_EQ(opened(in_order, second).value(), test::bytes_of("second"));
    EXPECT_EQ(opened(in_order, third).value(), test::bytes_of("third"));
}

// The timestamp comes out as sent, so the gateway can refuse a replayed message 1.
TEST_F(RelayChannelSession, TimestampComesOutAsSent) {
    const crypto::Tai64n earlier = crypto::tai64n_encode({1'700'000'000, 500'000'000});
    const Bytes message1 = start(gateway_.public_key, earlier);
    const auto first = gateway_side_.read_initiation(gateway_, message1);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.value().timestamp, earlier);

    // A replay reads the same timestamp again: not after the greatest seen, refused.
    ChannelSession gateway;
    const auto replay = gateway.read_initiation(gateway_, message1);
    ASSERT_TRUE(replay.ok());
    EXPECT_FALSE(crypto::tai64n_after(replay.value().timestamp, first.value().timestamp));
    gateway.clear();

    const crypto::Tai64n later = crypto::tai64n_encode({1'700'000'001, 0});
    const auto fresh = gateway.read_initiation(gateway_, start(gateway_.public_key, later));
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(fresh.value().timestamp, later);
    EXPECT_TRUE(crypto::tai64n_after(fresh.value().timestamp, first.value().timestamp));
}

// clear() leaves nothing: not established, every byte of the session zero.
TEST_F(RelayChannelSession, ClearWipes) {
    alignas(ChannelSession) std::array<std::uint8_t, sizeof(ChannelSession)> storage{};
    auto* session = new (storage.data()) ChannelSession();
    Bytes out(length_prefix_bytes + message1_bytes);
    ASSERT_TRUE(session->start_initiator(node_, gateway_.public_key, random_, stamp(9), out).ok());
    ASSERT_TRUE(gateway_side_.read_initiation(gateway_, unframe(out)).ok());
    ASSERT_TRUE(session->finish_initiator(accept()).ok());
    ASSERT_TRUE(session->established());
    Bytes message = sealed(*session, test::bytes_of("x"));
    EXPECT_TRUE(opened(gateway_side_, message).ok());
    EXPECT_NE(storage, (std::array<std::uint8_t, sizeof(ChannelSession)>{}));

    session->clear();
    EXPECT_FALSE(session->established());
    EXPECT_EQ(storage, (std::array<std::uint8_t, sizeof(ChannelSession)>{}));
    EXPECT_EQ(session->seal(test::bytes_of("x"), out).error(), Errc::invalid_argument);
    EXPECT_EQ(session->open(message).error(), Errc::invalid_argument);
    session->~ChannelSession();

    gateway_side_.clear();
    EXPECT_FALSE(gateway_side_.established());
}

}  // namespace
}  // namespace pinhole::relay
