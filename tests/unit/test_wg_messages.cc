// WireGuard's message layouts: round trips and every counted rejection of the parsers.
#include <gtest/gtest.h>

#include <vector>

#include "core/wireguard/messages.h"

namespace pinhole::wireguard {
namespace {

InitiationMessage sample_initiation() {
    InitiationMessage message;
    message.sender_index = 0x11223344;
    message.ephemeral.fill(0xe1);
    message.encrypted_static.fill(0x5a);
    message.encrypted_timestamp.fill(0x7b);
    message.mac1.fill(0x01);
    message.mac2.fill(0x02);
    return message;
}

TEST(WgMessages, InitiationRoundTripAndLayout) {
    InitiationBytes bytes{};
    write_initiation(bytes, sample_initiation());
    EXPECT_EQ(bytes[0], 1);
    EXPECT_EQ(bytes[1] | bytes[2] | bytes[3], 0);
    EXPECT_EQ(bytes[4], 0x44);  // little-endian sender index
    EXPECT_EQ(bytes[8], 0xe1);
    EXPECT_EQ(bytes[40], 0x5a);
    EXPECT_EQ(bytes[88], 0x7b);
    EXPECT_EQ(bytes[116], 0x01);
    EXPECT_EQ(bytes[132], 0x02);
    MessageCounters counters;
    const auto parsed = parse_initiation(bytes, counters);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().sender_index, 0x11223344u);
    EXPECT_EQ(parsed.value().encrypted_static, sample_initiation().encrypted_static);
    EXPECT_EQ(parsed.value().mac2, sample_initiation().mac2);
    EXPECT_EQ(total_rejections(counters), 0u);
}

TEST(WgMessages, ResponseAndCookieReplyRoundTrip) {
    ResponseMessage response;
    response.sender_index = 7;
    response.receiver_index = 9;
    response.ephemeral.fill(3);
    response.encrypted_empty.fill(4);
    response.mac1.fill(5);
    ResponseBytes response_bytes{};
    write_response(response_bytes, response);
    EXPECT_EQ(response_bytes[0], 2);
    EXPECT_EQ(response_bytes[60], 5);
    MessageCounters counters;
    const auto parsed = parse_response(response_bytes, counters);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().receiver_index, 9u);
    EXPECT_EQ(parsed.value().encrypted_empty, response.encrypted_empty);

    CookieReplyMessage reply;
    reply.receiver_index = 0xabcdef01;
    reply.nonce.fill(8);
    reply.encrypted_cookie.fill(9);
    CookieReplyBytes reply_bytes{};
    write_cookie_reply(reply_bytes, reply);
    EXPECT_EQ(reply_bytes[0], 3);
    const auto parsed_reply = parse_cookie_reply(reply_bytes, counters);
    ASSERT_TRUE(parsed_reply.ok());
    EXPECT_EQ(parsed_reply.value().nonce, reply.nonce);
    EXPECT_EQ(parsed_reply.value().encrypted_cookie, reply.encrypted_cookie);
    EXPECT_EQ(total_rejections(counters), 0u);
}

TEST(WgMessages, DataHeader) {
    std::vector<std::uint8_t> datagram(data_min_bytes + 16, 0xcc);
    write_data_header(std::span<std::uint8_t, data_header_bytes>(datagram.data(), data_header_bytes),
                      0x01020304, 0x1122334455667788ull);
    MessageCounters counters;
    const auto parsed = parse_data(datagram, counters);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().receiver_index, 0x01020304u);
    EXPECT_EQ(parsed.value().counter, 0x1122334455667788ull);
    EXPECT_EQ(parsed.value().sealed.size(), 32u);
    EXPECT_EQ(parsed.value().sealed.data(), datagram.data() + 16);
    // A keepalive (no packet, just the tag) is the shortest data message.
    EXPECT_TRUE(parse_data(std::span(datagram).first(data_min_bytes), counters).ok());
    EXPECT_FALSE(parse_data(std::span(datagram).first(data_min_bytes - 1), counters).ok());
    EXPECT_EQ(counters.wrong_length, 1u);
}

TEST(WgMessages, WrongLengthIsCounted) {
    InitiationBytes bytes{};
    write_initiation(bytes, sample_initiation());
    MessageCounters counters;
    EXPECT_EQ(parse_initiation(std::span(bytes).first(147), counters).error(), Errc::malformed);
    std::vector<std::uint8_t> longer(bytes.begin(), bytes.end());
    longer.push_back(0);
    EXPECT_FALSE(parse_initiation(longer, counters).ok());
    EXPECT_FALSE(parse_message_type(std::span(bytes).first(3), counters).ok());
    EXPECT_FALSE(parse_cookie_reply(std::span(bytes).first(64), counters).ok());  // type 1
    EXPECT_EQ(counters.wrong_length, 3u);
    EXPECT_EQ(counters.unknown_type, 1u);
}

TEST(WgMessages, UnknownTypeIsCounted) {
    for (const std::uint8_t type : {0, 5, 255}) {
        std::vector<std::uint8_t> datagram(initiation_bytes, 0);
        datagram[0] = type;
        MessageCounters counters;
        EXPECT_FALSE(parse_message_type(datagram, counters).ok());
        EXPECT_FALSE(parse_initiation(datagram, counters).ok());
        EXPECT_EQ(counters.unknown_type, 2u) << int{type};
    }
    // A response where an initiation was expected is the wrong type too.
    std::vector<std::uint8_t> response(response_bytes, 0);
    response[0] = 2;
    MessageCounters counters;
    EXPECT_FALSE(parse_initiation(response, counters).ok());
    EXPECT_EQ(counters.unknown_type, 1u);
}

TEST(WgMessages, NonZeroReservedIsCounted) {
    for (std::size_t reserved = 1; reserved < 4; ++reserved) {
        InitiationBytes bytes{};
        write_initiation(bytes, sample_initiation());
        bytes[reserved] = 1;
        MessageCounters counters;
        EXPECT_FALSE(parse_initiation(bytes, counters).ok());
        EXPECT_EQ(counters.nonzero_reserved, 1u);
        EXPECT_EQ(total_rejections(counters), 1u);
    }
}

TEST(WgMessages, EveryReasonHasItsCounter) {
    MessageCounters counters;
    for (std::uint8_t reason = 0; reason <= static_cast<std::uint8_t>(Rejection::expired_keypair);
         ++reason) {
        count_rejection(counters, static_cast<Rejection>(reason));
        EXPECT_EQ(total_rejections(counters), reason + 1u);
    }
    EXPECT_EQ(counters.replayed_counter, 1u);
    EXPECT_EQ(counters.expired_keypair, 1u);
    EXPECT_EQ(counters.wrong_length, 1u);
}

}  // namespace
}  // namespace pinhole::wireguard
