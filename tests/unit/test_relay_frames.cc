#include "core/relay/frames.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pinhole::relay {
namespace {

using Bytes = std::vector<std::uint8_t>;

crypto::X25519Key key_of(std::uint8_t seed) {
    crypto::X25519Key key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + i);
    return key;
}

Bytes frame_bytes(std::uint8_t version, std::uint8_t type, const Bytes& body) {
    Bytes bytes = {version, type, static_cast<std::uint8_t>(body.size() >> 8),
                   static_cast<std::uint8_t>(body.size())};
    bytes.insert(bytes.end(), body.begin(), body.end());
    return bytes;
}

Bytes key_body(const crypto::X25519Key& key, const Bytes& rest) {
    Bytes body(key.begin(), key.end());
    body.insert(body.end(), rest.begin(), rest.end());
    return body;
}

Errc parse_error_of(const Bytes& bytes) {
    const auto parsed = parse_frame(bytes);
    return parsed.ok() ? Errc::ok : parsed.error();
}

TEST(RelayFrames, DataRoundTripsBothDirections) {
    const Bytes datagram = {1, 0, 0, 0, 0xaa, 0xbb};
    for (const FrameType type : {FrameType::data_to, FrameType::data_from}) {
        std::array<std::uint8_t, max_frame_bytes> out{};
        const auto length = encode_data(type, key_of(7), datagram, out);
        ASSERT_TRUE(length.ok());
        EXPECT_EQ(length.value(), frame_header_bytes + 32 + datagram.size());
        EXPECT_EQ(Bytes(out.begin(), out.begin() + 4),
                  (Bytes{1, static_cast<std::uint8_t>(type), 0, 38}));
        const auto frame = parse_frame(std::span(out).first(length.value()));
        ASSERT_TRUE(frame.ok());
        EXPECT_EQ(frame.value().type, type);
        EXPECT_EQ(frame.value().peer_key, key_of(7));
        EXPECT_EQ(Bytes(frame.value().datagram.begin(), frame.value().datagram.end()), datagram);
        // The datagram is a view into the parsed buffer, not a copy.
        EXPECT_EQ(frame.value().datagram.data(), out.data() + 36);
    }
}

TEST(RelayFrames, LargestDatagramFitsTheLargestFrame) {
    const Bytes datagram(max_relay_datagram_bytes, 0x5a);
    std::array<std::uint8_t, max_frame_bytes> out{};
    const auto length = encode_data(FrameType::data_to, key_of(1), datagram, out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(length.value(), max_frame_bytes);
    const auto frame = parse_frame(out);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame.value().datagram.size(), max_relay_datagram_bytes);
}

TEST(RelayFrames, PingAndPongRoundTrip) {
    for (const FrameType type : {FrameType::ping, FrameType::pong}) {
        std::array<std::uint8_t, 12> out{};
        const auto length = encode_ping(type, 0x0102030405060708u, out);
        ASSERT_TRUE(length.ok());
        EXPECT_EQ(Bytes(out.begin(), out.end()),
                  (Bytes{1, static_cast<std::uint8_t>(type), 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}));
        const auto frame = parse_frame(out);
        ASSERT_TRUE(frame.ok());
        EXPECT_EQ(frame.value().type, type);
        EXPECT_EQ(frame.value().nonce, 0x0102030405060708u);
    }
}

TEST(RelayFrames, PresenceRoundTrips) {
    for (const bool up : {false, true}) {
        std::array<std::uint8_t, 37> out{};
        const auto length = encode_presence(key_of(9), up, out);
        ASSERT_TRUE(length.ok());
        EXPECT_EQ(length.value(), 37u);
        EXPECT_EQ(out[36], up ? 1 : 0);
        const auto frame = parse_frame(out);
        ASSERT_TRUE(frame.ok());
        EXPECT_EQ(frame.value().type, FrameType::presence);
        EXPECT_EQ(frame.value().peer_key, key_of(9));
        EXPECT_EQ(frame.value().up, up);
    }
}

TEST(RelayFrames, ErrorRoundTripsWithAndWithoutText) {
    for (const std::string_view text : {std::string_view(), std::string_view("no such peer: ~!")}) {
        std::array<std::uint8_t, 64> out{};
        const auto length = encode_error(ErrorCode::peer_offline, text, out);
        ASSERT_TRUE(length.ok());
        EXPECT_EQ(length.value(), 6 + text.size());
        EXPECT_EQ(out[4], 0);
        EXPECT_EQ(out[5], 4);
        const auto frame = parse_frame(std::span(out).first(length.value()));
        ASSERT_TRUE(frame.ok());
        EXPECT_EQ(frame.value().type, FrameType::error);
        EXPECT_EQ(frame.value().error, ErrorCode::peer_offline);
        EXPECT_EQ(frame.value().text, text);
    }
    const std::string long_text(max_error_text_bytes, 'x');
    std::array<std::uint8_t, 256> out{};
    const auto length = encode_error(ErrorCode::too_large, long_text, out);
    ASSERT_TRUE(length.ok());
    EXPECT_TRUE(parse_frame(std::span(out).first(length.value())).ok());
}

TEST(RelayFrames, ErrorCodesOfNewerPeersParse) {
    const auto frame = parse_frame(frame_bytes(1, 6, {0x12, 0x34, 'h', 'i'}));
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(static_cast<std::uint16_t>(frame.value().error), 0x1234);
    EXPECT_STREQ(describe(frame.value().error), "unknown error");
    EXPECT_STREQ(describe(ErrorCode::not_authorized), "peer not reachable");
}

TEST(RelayFrames, ShortHeadersAreMalformed) {
    EXPECT_EQ(parse_error_of({}), Errc::malformed);
    EXPECT_EQ(parse_error_of({1}), Errc::malformed);
    EXPECT_EQ(parse_error_of({1, 3}), Errc::malformed);
    EXPECT_EQ(parse_error_of({1, 3, 0}), Errc::malformed);
}

TEST(RelayFrames, AnotherVersionIsUnsupportedAndAnsweredWithVersion) {
    const Bytes ping = frame_bytes(1, 3, Bytes(8, 0));
    ASSERT_EQ(parse_error_of(ping), Errc::ok);
    for (const std::uint8_t version : {0, 2, 255}) {
        Bytes other = ping;
        other[0] = version;
        EXPECT_EQ(parse_error_of(other), Errc::unsupported);
        EXPECT_EQ(unsupported_answer(other), ErrorCode::version);
    }
}

TEST(RelayFrames, UnknownTypesAreUnsupportedAndAnsweredWithUnknownType) {
    for (const std::uint8_t type : {0, 7, 200, 255}) {
        const Bytes bytes = frame_bytes(1, type, {1, 2, 3});
        EXPECT_EQ(parse_error_of(bytes), Errc::unsupported);
        EXPECT_EQ(unsupported_answer(bytes), ErrorCode::unknown_type);
    }
    // ...but only when the frame itself is well formed.
    Bytes short_body = frame_bytes(1, 9, {1, 2, 3});
    short_body.pop_back();
    EXPECT_EQ(parse_error_of(short_body), Errc::malformed);
}

TEST(RelayFrames, LengthMismatchEitherWayIsMalformed) {
    Bytes ping = frame_bytes(1, 3, Bytes(8, 0));
    Bytes longer = ping;
    longer.push_back(0);
    EXPECT_EQ(parse_error_of(longer), Errc::malformed);
    Bytes shorter = ping;
    shorter.pop_back();
    EXPECT_EQ(parse_error_of(shorter), Errc::malformed);
    ping[3] = 7;  // claims fewer bytes than follow
    EXPECT_EQ(parse_error_of(ping), Errc::malformed);
    ping[3] = 9;  // claims more
    EXPECT_EQ(parse_error_of(ping), Errc::malformed);
}

TEST(RelayFrames, BodiesOfTheWrongSizeAreMalformed) {
    EXPECT_EQ(parse_error_of(frame_bytes(1, 3, Bytes(7, 0))), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 4, Bytes(9, 0))), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 5, Bytes(32, 0))), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 5, Bytes(34, 0))), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, {0})), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 1, Bytes(31, 0))), Errc::malformed);
}

TEST(RelayFrames, EmptyAndOversizeDatagramsAreMalformed) {
    EXPECT_EQ(parse_error_of(frame_bytes(1, 1, key_body(key_of(1), {}))), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 2, key_body(key_of(1), {}))), Errc::malformed);
    const Bytes too_big(max_relay_datagram_bytes + 1, 0);
    const Bytes oversize = frame_bytes(1, 1, key_body(key_of(1), too_big));
    ASSERT_EQ(oversize.size(), max_frame_bytes + 1);
    EXPECT_EQ(parse_error_of(oversize), Errc::malformed);
    // Any frame above max_frame_bytes is refused, whatever its type claims.
    EXPECT_EQ(parse_error_of(frame_bytes(1, 99, Bytes(max_frame_bytes, 0))), Errc::malformed);
}

TEST(RelayFrames, BadPresenceStatesAreMalformed) {
    for (const std::uint8_t state : {2, 0x80, 0xff}) {
        EXPECT_EQ(parse_error_of(frame_bytes(1, 5, key_body(key_of(3), {state}))), Errc::malformed);
    }
}

TEST(RelayFrames, BadErrorFramesAreMalformed) {
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, {0, 0, 'x'})), Errc::malformed);  // code 0
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, {0, 2, 'a', '\n'})), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, {0, 2, 'a', 0})), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, {0, 2, 0x7f})), Errc::malformed);
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, {0, 2, 0xc3, 0xa9})), Errc::malformed);
    Bytes too_long = {0, 2};
    too_long.resize(2 + max_error_text_bytes + 1, 'x');
    EXPECT_EQ(parse_error_of(frame_bytes(1, 6, too_long)), Errc::malformed);
}

TEST(RelayFrames, EncodersRefuseWhatTheParserWould) {
    std::array<std::uint8_t, max_frame_bytes + 16> out{};
    const Bytes one = {1};
    EXPECT_EQ(encode_data(FrameType::ping, key_of(1), one, out).error(), Errc::invalid_argument);
    EXPECT_EQ(encode_data(FrameType::data_to, key_of(1), {}, out).error(), Errc::invalid_argument);
    const Bytes too_big(max_relay_datagram_bytes + 1, 0);
    EXPECT_EQ(encode_data(FrameType::data_to, key_of(1), too_big, out).error(),
              Errc::invalid_argument);
    EXPECT_EQ(encode_ping(FrameType::presence, 1, out).error(), Errc::invalid_argument);
    EXPECT_EQ(encode_error(static_cast<ErrorCode>(0), "x", out).error(), Errc::invalid_argument);
    EXPECT_EQ(encode_error(ErrorCode::malformed, "tab\there", out).error(), Errc::invalid_argument);
    const std::string long_text(max_error_text_bytes + 1, 'x');
    EXPECT_EQ(encode_error(ErrorCode::malformed, long_text, out).error(), Errc::invalid_argument);
}

TEST(RelayFrames, EncodersReportNoSpace) {
    std::array<std::uint8_t, 64> out{};
    const Bytes datagram = {1, 2, 3};
    EXPECT_EQ(encode_data(FrameType::data_to, key_of(1), datagram, std::span(out).first(38)).error(),
              Errc::no_space);
    EXPECT_TRUE(encode_data(FrameType::data_to, key_of(1), datagram, std::span(out).first(39)).ok());
    EXPECT_EQ(encode_ping(FrameType::ping, 1, std::span(out).first(11)).error(), Errc::no_space);
    EXPECT_EQ(encode_presence(key_of(1), true, std::span(out).first(36)).error(), Errc::no_space);
    EXPECT_EQ(encode_error(ErrorCode::version, "abc", std::span(out).first(8)).error(),
              Errc::no_space);
    EXPECT_TRUE(encode_error(ErrorCode::version, "abc", std::span(out).first(9)).ok());
}

}  // namespace
}  // namespace pinhole::relay
