// mac1, mac2 and cookie replies between a CookieMaker (sender) and a CookieChecker (receiver).
#include <gtest/gtest.h>

#include "core/wireguard/cookie.h"
#include "fakes.h"

namespace pinhole::wireguard {
namespace {

struct CookieFixture {
    crypto::X25519Key responder_public{};
    CookieChecker checker;
    CookieMaker maker;
    fakes::CountingRandom random;
    MessageCounters counters;
    // A named endpoint, not a temporary: GCC 12 at -O3 reports a false -Wdangling-pointer.
    net::Endpoint sender{net::IpAddress::v4(192, 0, 2, 7), 51820};
    CookieSource source = cookie_source_udp(sender);
    std::uint32_t now_ms = 5000;

    CookieFixture() {
        responder_public.fill(0x42);
        checker.initialize(responder_public);
        maker.initialize(responder_public);
    }
    // An initiation-sized message with sender index 0x0a0b0c0d and macs from the maker.
    InitiationBytes message(std::uint8_t fill = 0x33) {
        InitiationBytes bytes{};
        bytes.fill(fill);
        bytes[0] = 1;
        bytes[1] = bytes[2] = bytes[3] = 0;
        bytes[4] = 0x0d;
        bytes[5] = 0x0c;
        bytes[6] = 0x0b;
        bytes[7] = 0x0a;
        EXPECT_TRUE(maker.add_macs(bytes, now_ms).ok());
        return bytes;
    }
    MacCheck validate(std::span<const std::uint8_t> bytes, bool under_load) {
        return checker.validate_macs(bytes, source, under_load, now_ms, random, counters);
    }
    // The checker answers `bytes` with a cookie reply, which the maker takes.
    Status exchange_cookie(std::span<const std::uint8_t> bytes) {
        CookieReplyMessage reply;
        EXPECT_TRUE(checker.create_reply(reply, bytes, source, now_ms, random).ok());
        EXPECT_EQ(reply.receiver_index, 0x0a0b0c0du);
        return maker.consume_reply(reply, now_ms, counters);
    }
};

TEST(WgCookie, Mac1ValidAndInvalid) {
    CookieFixture fixture;
    InitiationBytes bytes = fixture.message();
    EXPECT_EQ(fixture.validate(bytes, false), MacCheck::valid_mac1);
    bytes[20] ^= 1;
    EXPECT_EQ(fixture.validate(bytes, false), MacCheck::invalid);
    EXPECT_EQ(fixture.counters.bad_mac1, 1u);
    // mac1 made for another responder's key.
    CookieMaker other;
    crypto::X25519Key other_public{};
    other_public.fill(0x43);
    other.initialize(other_public);
    bytes = fixture.message();
    ASSERT_TRUE(other.add_macs(bytes, fixture.now_ms).ok());
    EXPECT_EQ(fixture.validate(bytes, false), MacCheck::invalid);
    EXPECT_EQ(fixture.counters.bad_mac1, 2u);
    // Not a handshake size.
    EXPECT_EQ(fixture.validate(std::span(bytes).first(100), false), MacCheck::invalid);
    EXPECT_EQ(fixture.counters.wrong_length, 1u);
}

TEST(WgCookie, Mac2RequiredUnderLoadAndCookieRoundTrip) {
    CookieFixture fixture;
    const InitiationBytes first = fixture.message();
    EXPECT_EQ(fixture.validate(first, true), MacCheck::valid_mac1);  // no cookie yet
    EXPECT_EQ(fixture.counters.bad_mac2, 1u);
    ASSERT_TRUE(fixture.exchange_cookie(first).ok());
    EXPECT_TRUE(fixture.maker.has_fresh_cookie(fixture.now_ms));

    fixture.now_ms += 1000;
    const InitiationBytes second = fixture.message(0x34);
    EXPECT_EQ(fixture.validate(second, true), MacCheck::valid_mac1_and_mac2);
    EXPECT_EQ(fixture.counters.bad_mac2, 1u);
    // The cookie binds to the source: another port does not have it.
    fixture.source = cookie_source_udp({net::IpAddress::v4(192, 0, 2, 7), 51821});
    EXPECT_EQ(fixture.validate(second, true), MacCheck::valid_mac1);
    EXPECT_EQ(fixture.counters.bad_mac2, 2u);
}

TEST(WgCookie, ResponseSizedMessagesToo) {
    CookieFixture fixture;
    ResponseBytes bytes{};
    bytes[0] = 2;
    bytes[4] = 0x0d;  // sender index 0x0a0b0c0d, which the reply answers
    bytes[5] = 0x0c;
    bytes[6] = 0x0b;
    bytes[7] = 0x0a;
    ASSERT_TRUE(fixture.maker.add_macs(bytes, fixture.now_ms).ok());
    EXPECT_EQ(fixture.validate(bytes, false), MacCheck::valid_mac1);
    ASSERT_TRUE(fixture.exchange_cookie(bytes).ok());
    ASSERT_TRUE(fixture.maker.add_macs(bytes, fixture.now_ms).ok());
    EXPECT_EQ(fixture.validate(bytes, true), MacCheck::valid_mac1_and_mac2);
}

TEST(WgCookie, ReplyForAnotherMac1IsRejected) {
    CookieFixture fixture;
    const InitiationBytes first = fixture.message();
    const InitiationBytes second = fixture.message(0x35);  // the maker now expects second's mac1
    CookieReplyMessage reply;
    ASSERT_TRUE(fixture.checker.create_reply(reply, first, fixture.source, fixture.now_ms,
                                             fixture.random).ok());
    EXPECT_EQ(fixture.maker.consume_reply(reply, fixture.now_ms, fixture.counters).error(),
              Errc::authentication);
    EXPECT_EQ(fixture.counters.decrypt_cookie, 1u);
    EXPECT_FALSE(fixture.maker.has_fresh_cookie(fixture.now_ms));
    // A reply answering `second` works once; the same reply again does not.
    ASSERT_TRUE(fixture.checker.create_reply(reply, second, fixture.source, fixture.now_ms,
                                             fixture.random).ok());
    EXPECT_TRUE(fixture.maker.consume_reply(reply, fixture.now_ms, fixture.counters).ok());
    EXPECT_FALSE(fixture.maker.consume_reply(reply, fixture.now_ms, fixture.counters).ok());
    EXPECT_EQ(fixture.counters.decrypt_cookie, 2u);
    // A tampered reply does not decrypt.
    const InitiationBytes third = fixture.message(0x36);
    ASSERT_TRUE(fixture.checker.create_reply(reply, third, fixture.source, fixture.now_ms,
                                             fixture.random).ok());
    reply.encrypted_cookie[0] ^= 1;
    EXPECT_FALSE(fixture.maker.consume_reply(reply, fixture.now_ms, fixture.counters).ok());
    EXPECT_EQ(fixture.counters.decrypt_cookie, 3u);
}

TEST(WgCookie, SecretRotationInvalidatesOldCookies) {
    CookieFixture fixture;
    ASSERT_TRUE(fixture.exchange_cookie(fixture.message()).ok());
    fixture.now_ms += cookie_secret_max_age_ms - cookie_secret_latency_ms - 1;
    EXPECT_EQ(fixture.validate(fixture.message(), true), MacCheck::valid_mac1_and_mac2);
    // The maker stops using its cookie before the checker's secret expires.
    fixture.now_ms += 1;
    EXPECT_FALSE(fixture.maker.has_fresh_cookie(fixture.now_ms));

    // A checker whose secret has rotated no longer accepts a cookie made before.
    CookieFixture rotated;
    ASSERT_TRUE(rotated.exchange_cookie(rotated.message()).ok());
    rotated.now_ms += 1000;
    const InitiationBytes with_cookie = rotated.message();  // mac2 from the held cookie
    EXPECT_EQ(rotated.validate(with_cookie, true), MacCheck::valid_mac1_and_mac2);
    rotated.now_ms += cookie_secret_max_age_ms;
    EXPECT_EQ(rotated.validate(with_cookie, true), MacCheck::valid_mac1);
    EXPECT_EQ(rotated.counters.bad_mac2, 1u);
}

TEST(WgCookie, RelayedSourceBindsToTheKey) {
    CookieFixture fixture;
    crypto::X25519Key sender{};
    sender.fill(0x61);
    fixture.source = cookie_source_relay(sender);
    EXPECT_EQ(fixture.source.view().size(), 32u);
    ASSERT_TRUE(fixture.exchange_cookie(fixture.message()).ok());
    const InitiationBytes bytes = fixture.message(0x37);
    EXPECT_EQ(fixture.validate(bytes, true), MacCheck::valid_mac1_and_mac2);
    sender[31] ^= 1;  // another sender through the same relay
    fixture.source = cookie_source_relay(sender);
    EXPECT_EQ(fixture.validate(bytes, true), MacCheck::valid_mac1);
}

TEST(WgCookie, UdpSourceBytes) {
    const CookieSource v4 = cookie_source_udp({net::IpAddress::v4(10, 0, 0, 1), 0x1234});
    ASSERT_EQ(v4.view().size(), 6u);
    EXPECT_EQ(v4.bytes[0], 10);
    EXPECT_EQ(v4.bytes[4], 0x12);  // port big-endian, as the kernel hashes it
    EXPECT_EQ(v4.bytes[5], 0x34);
    std::array<std::uint8_t, 16> address{};
    address[15] = 1;
    const CookieSource v6 = cookie_source_udp({net::IpAddress::v6(address), 443});
    EXPECT_EQ(v6.view().size(), 18u);
}

}  // namespace
}  // namespace pinhole::wireguard
