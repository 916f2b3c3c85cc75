// Keys in WireGuard's text form, the key-derived overlay address, where a node's key comes
// from, and invites.
#include "core/keys/invite.h"
#include "core/keys/keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/fakes.h"

namespace {

using pinhole::Errc;
using pinhole::fakes::CountingRandom;
using pinhole::fakes::FakeStorage;
using namespace pinhole::keys;

// RFC 7748 section 6.1: Alice's private key and public key.
constexpr char alice_private[] = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
constexpr char alice_public[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

std::string text_of(const X25519Key& key) {
    std::array<char, key_text_bytes + 1> text{};
    EXPECT_TRUE(format_key(key, text).ok());
    return text.data();
}

TEST(Keys, ParseAndFormatRoundTripWithWhitespaceAround) {
    const auto key = parse_key(std::string(" ") + alice_public + "\n");
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(text_of(key.value()), alice_public);
}

TEST(Keys, RejectsAnythingButExactly32Bytes) {
    for (const char* bad : {"", "abc", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",
                            "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo==",
                            "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!=",
                            "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Sp qqbTmo="}) {
        EXPECT_EQ(parse_key(bad).error(), Errc::malformed) << bad;
    }
}

TEST(Keys, DerivesThePublicKeyOfRfc7748) {
    const auto pair = key_pair_from_private(parse_key(alice_private).value());
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(text_of(pair.value().public_key), alice_public);
}

TEST(Keys, OverlayAddressIsInThePinholePrefixAndStable) {
    const X25519Key key = parse_key(alice_public).value();
    const pinhole::net::IpAddress address = overlay_address(key);
    ASSERT_TRUE(address.is_v6());
    EXPECT_EQ(address.bytes[0], 0xfd);
    EXPECT_EQ(address.bytes[5], 0x68);
    EXPECT_EQ(overlay_address(key), address);
    X25519Key other = key;
    other[0] ^= 1;
    EXPECT_NE(overlay_address(other), address);
}

TEST(Identity, AConfiguredKeyWinsOverStoredOnes) {
    FakeStorage storage;
    CountingRandom random;
    storage.records["agent_key"] = {'x'};
    const auto pair = load_identity(alice_private, storage, random, true);
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(text_of(pair.value().public_key), alice_public);
}

TEST(Identity, IsCreatedOnceAndPersistedWithTheRightSecrecy) {
    FakeStorage storage;
    CountingRandom random;
    EXPECT_EQ(load_identity({}, storage, random, false).error(), Errc::not_found);
    const auto created = load_identity({}, storage, random, true);
    ASSERT_TRUE(created.ok());
    EXPECT_EQ(storage.secrecies.at("agent_key"), pinhole::port::Secrecy::secret);
    EXPECT_EQ(storage.secrecies.at("agent_key.pub"), pinhole::port::Secrecy::public_record);
    EXPECT_EQ(storage.text("agent_key.pub"), text_of(created.value().public_key) + "\n");
    const auto again = load_identity({}, storage, random, true);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().public_key, created.value().public_key);
}

TEST(Identity, ReportsExposedAndMalformedKeyFiles) {
    FakeStorage storage;
    CountingRandom random;
    storage.records["agent_key"] = {'n', 'o', 't', '\n'};
    EXPECT_EQ(load_identity({}, storage, random, true).error(), Errc::malformed);
    storage.refuse_secrets = true;
    EXPECT_EQ(load_identity({}, storage, random, true).error(), Errc::permission);
}

Invite alice_invite() {
    Invite invite;
    invite.public_key = parse_key(alice_public).value();
    return invite;
}

std::string line_of(const Invite& invite) {
    std::array<char, invite_text_bytes> line{};
    const auto length = format_invite(invite, line);
    EXPECT_TRUE(length.ok());
    return std::string(line.data(), length.ok() ? length.value() : 0);
}

TEST(Invite, RoundTripsWithAndWithoutGatewayAndPin) {
    Invite invite = alice_invite();
    const auto plain = parse_invite(line_of(invite));
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain.value().public_key, invite.public_key);
    EXPECT_FALSE(plain.value().has_gateway);

    ASSERT_TRUE(set_gateway(invite, "wss://gw.example.net/pinhole", invite.public_key).ok());
    ASSERT_TRUE(set_cert_sha256(invite, std::string(64, 'a')).ok());
    const std::string line = line_of(invite);
    EXPECT_EQ(line.rfind("pinhole-invite/1 key=", 0), 0u);
    const auto full = parse_invite(line + "\n");
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(full.value().gateway_url_text(), "wss://gw.example.net/pinhole");
    EXPECT_TRUE(full.value().has_cert_sha256);
    EXPECT_EQ(full.value().cert_sha256[0], 0xaa);
}

TEST(Invite, RefusesMalformedLines) {
    const std::string good = line_of(alice_invite());
    const std::string key = std::string("key=") + alice_public;
    const std::vector<std::string> bad_lines = {
             std::string(""), std::string("pinhole-invite/2 ") + key, "pinhole-invite/1",
             "pinhole-invite/1 " + key + " " + key,                     // repeated field
             "pinhole-invite/1 " + key + " colour=blue",                 // unknown field
             "pinhole-invite/1 " + key + " address=fd7a:7069:6e68::1",   // not this key's address
             "pinhole-invite/1 " + key + " gateway=tcp://gw:1",          // gateway without its key
             "pinhole-invite/1 " + key + " cert_sha256=" + std::string(64, '0'),  // pin alone
             "pinhole-invite/1 key=", good + " a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8",
    };
    for (const std::string& bad : bad_lines) {
        EXPECT_EQ(parse_invite(bad).error(), Errc::malformed) << bad;
    }
}

}  // namespace
