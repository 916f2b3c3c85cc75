#include "apps/gateway/authorized_keys.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include <array>
#include <cstdint>
#include <string>

#include "core/keys/keys.h"

namespace pinhole::gateway {
namespace {

crypto::X25519Key key_of(std::uint8_t seed) {
    crypto::X25519Key key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed * 7 + i);
    return key;
}

std::string text_of(std::uint8_t seed) {
    std::array<char, keys::key_text_bytes + 1> out{};
    EXPECT_TRUE(keys::format_key(key_of(seed), out).ok());
    return std::string(out.data(), keys::key_text_bytes);
}

AuthorizedKeys parse_ok(const std::string& text) {
    const AuthorizedKeysResult result = AuthorizedKeys::parse(text, "authorized_keys");
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
    return result.ok() ? result.value() : AuthorizedKeys();
}

// The whole message, "file:line:column: ...".
std::string parse_error(const std::string& text) {
    const AuthorizedKeysResult result = AuthorizedKeys::parse(text, "gw/authorized_keys");
    EXPECT_FALSE(result.ok());
    return result.ok() ? std::string() : result.error().to_string();
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

TEST(AuthorizedKeys, ParsesEntriesCommentsAndBlankLines) {
    const std::string text = "# the gateway's nodes\n"
                             "\n" +
                             text_of(1) + " router reach=laptop,phone   # the agent\n" +
                             "   \t\n" + text_of(2) + "\tlaptop reach=*\r\n" + text_of(3) +
                             " phone reach=router\n" + text_of(4) + " printer\n";
    const AuthorizedKeys keys = parse_ok(text);
    ASSERT_EQ(keys.size(), 4u);
    const AuthorizedKey* router = keys.find(key_of(1));
    ASSERT_NE(router, nullptr);
    EXPECT_EQ(router->name, "router");
    EXPECT_FALSE(router->reach_all);
    EXPECT_EQ(router->reach, (std::vector<std::string>{"laptop", "phone"}));
    ASSERT_NE(keys.find(key_of(2)), nullptr);
    EXPECT_EQ(keys.find(key_of(2))->name, "laptop");
    EXPECT_TRUE(keys.find(key_of(2))->reach_all);
    EXPECT_TRUE(keys.find(key_of(4))->reach.empty());
    EXPECT_EQ(keys.find(key_of(9)), nullptr);
    EXPECT_EQ(keys.entries()[3].name, "printer");
}

TEST(AuthorizedKeys, EmptyFilesListNobody) {
    EXPECT_EQ(parse_ok("").size(), 0u);
    EXPECT_EQ(parse_ok("# nobody yet\n\n").size(), 0u);
    EXPECT_EQ(parse_ok(text_of(1) + " only").size(), 1u);  // no final newline
}

// Presence goes to the mutual peers that are online, found through a key's own reach list.
TEST(AuthorizedKeys, MutualPeersAreTheOnlineKeysBothLinesAllow) {
    const AuthorizedKeys keys = parse_ok(text_of(1) + " a reach=b\n" + text_of(2) + " b reach=a,c\n" + text_of(3) +
                                         " c reach=*\n" + text_of(4) + " d\n");
    std::map<crypto::X25519Key, int> online;
    for (std::uint8_t seed = 1; seed <= 4; ++seed) online[key_of(seed)] = seed;
    using Keys = std::vector<crypto::X25519Key>;
    EXPECT_EQ(keys.mutual_peers(key_of(1), online), Keys{key_of(2)});
    EXPECT_EQ(keys.mutual_peers(key_of(2), online), (Keys{key_of(1), key_of(3)}));
    EXPECT_EQ(keys.mutual_peers(key_of(3), online), Keys{key_of(2)});  // reach=*: b is the only one naming c
    EXPECT_TRUE(keys.mutual_peers(key_of(4), online).empty());
    EXPECT_TRUE(keys.mutual_peers(key_of(9), online).empty());
    online.erase(key_of(1));
    EXPECT_EQ(keys.mutual_peers(key_of(2), online), Keys{key_of(3)});  // a went offline
}

TEST(AuthorizedKeys, RelaysOnlyWhenBothKeysAllowIt) {
    const AuthorizedKeys keys = parse_ok(text_of(1) + " router reach=laptop,phone\n" + text_of(2) +
                                         " laptop reach=*\n" + text_of(3) + " phone\n" +
                                         text_of(4) + " admin reach=*\n" + text_of(5) +
                                         " guest reach=router\n");
    // router <-> laptop: each names (or stars) the other.
    EXPECT_TRUE(keys.may_relay(key_of(1), key_of(2)));
    EXPECT_TRUE(keys.may_relay(key_of(2), key_of(1)));
    // router names phone, but phone reaches nobody: neither direction.
    EXPECT_FALSE(keys.may_relay(key_of(1), key_of(3)));
    EXPECT_FALSE(keys.may_relay(key_of(3), key_of(1)));
    // Two stars reach each other.
    EXPECT_TRUE(keys.may_relay(key_of(2), key_of(4)));
    EXPECT_TRUE(keys.may_relay(key_of(4), key_of(2)));
    // A star does not override the other side: phone reaches nobody.
    EXPECT_FALSE(keys.may_relay(key_of(4), key_of(3)));
    // guest names router, router does not name guest.
    EXPECT_FALSE(keys.may_relay(key_of(5), key_of(1)));
    EXPECT_FALSE(keys.may_relay(key_of(1), key_of(5)));
    // Unknown keys and a key to itself never relay.
    EXPECT_FALSE(keys.may_relay(key_of(2), key_of(9)));
    EXPECT_FALSE(keys.may_relay(key_of(9), key_of(2)));
    EXPECT_FALSE(keys.may_relay(key_of(2), key_of(2)));
    // The rule is symmetric for every pair.
    for (std::uint8_t a = 1; a <= 6; ++a) {
        for (std::uint8_t b = 1; b <= 6; ++b) {
            EXPECT_EQ(keys.may_relay(key_of(a), key_of(b)), keys.may_relay(key_of(b), key_of(a)));
        }
    }
}

TEST(AuthorizedKeys, BadKeysNameTheirColumn) {
    const std::string error = parse_error("\n  not-a-key laptop\n");
    EXPECT_TRUE(starts_with(error, "gw/authorized_keys:2:3: `not-a-key` is not a WireGuard public key"))
        << error;
    EXPECT_NE(error.find("wg pubkey"), std::string::npos);
    const std::string short_key = text_of(1).substr(0, 43);
    EXPECT_TRUE(starts_with(parse_error(short_key + " laptop"), "gw/authorized_keys:1:1: "));
}

TEST(AuthorizedKeys, MissingAndBadNames) {
    EXPECT_TRUE(starts_with(parse_error(text_of(1) + "  # no name\n"),
                            "gw/authorized_keys:1:45: a name must follow the key"));
    EXPECT_TRUE(starts_with(parse_error(text_of(1) + " Laptop\n"),
                            "gw/authorized_keys:1:46: `Laptop` is not a valid name; use lowercase"));
    EXPECT_TRUE(starts_with(parse_error(text_of(1) + " 9lives"), "gw/authorized_keys:1:46: "));
    EXPECT_TRUE(starts_with(parse_error(text_of(1) + " trailing-"), "gw/authorized_keys:1:46: "));
    EXPECT_TRUE(starts_with(parse_error(text_of(1) + " " + std::string(32, 'a')),
                            "gw/authorized_keys:1:46: "));
}

TEST(AuthorizedKeys, DuplicatesNameTheFirstLine) {
    const std::string key_twice = parse_error(text_of(1) + " one\n" + text_of(1) + " two\n");
    EXPECT_TRUE(starts_with(key_twice, "gw/authorized_keys:2:1: this key is already listed on "
                                       "line 1 (as `one`); list each key once"))
        << key_twice;
    const std::string name_twice = parse_error(text_of(1) + " one\n\n" + text_of(2) + " one\n");
    EXPECT_TRUE(starts_with(name_twice, "gw/authorized_keys:3:46: the name `one` is already used "
                                        "on line 1; give each key its own name"))
        << name_twice;
}

TEST(AuthorizedKeys, BadReachLists) {
    const std::string prefix = text_of(1) + " one ";  // reach= starts at column 50
    EXPECT_TRUE(starts_with(parse_error(prefix + "allow=two"),
                            "gw/authorized_keys:1:50: `allow=two` is not reach=...; an entry is"));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach="),
                            "gw/authorized_keys:1:56: reach= names nobody"));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=two,,three\n" + text_of(2) + " two"),
                            "gw/authorized_keys:1:60: an empty name in reach="));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=two,\n" + text_of(2) + " two"),
                            "gw/authorized_keys:1:60: an empty name in reach="));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=two,*\n" + text_of(2) + " two"),
                            "gw/authorized_keys:1:60: `*` stands alone"));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=two,Bad\n" + text_of(2) + " two"),
                            "gw/authorized_keys:1:60: `Bad` is not a valid name"));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=one"),
                            "gw/authorized_keys:1:56: `one` is this entry's own name"));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=two,two\n" + text_of(2) + " two"),
                            "gw/authorized_keys:1:60: `two` is listed twice"));
    EXPECT_TRUE(starts_with(parse_error(prefix + "reach=* extra"),
                            "gw/authorized_keys:1:58: unexpected `extra`"));
}

TEST(AuthorizedKeys, UnknownReachNamesAreErrorsWhereverTheyAre) {
    // Names may be defined on later lines...
    EXPECT_EQ(parse_ok(text_of(1) + " one reach=two\n" + text_of(2) + " two reach=one\n").size(), 2u);
    // ...but one no line defines is an error at its own column.
    const std::string error =
        parse_error(text_of(1) + " one reach=two\n" + text_of(2) + " two reach=one,ghost\n");
    EXPECT_TRUE(starts_with(error, "gw/authorized_keys:2:60: reach= names `ghost`, which no line "
                                   "of this file defines; add its key or remove the name"))
        << error;
}

TEST(AuthorizedKeys, LoadReadsFilesAndReportsMissingOnes) {
    const std::string path = ::testing::TempDir() + "pinhole_authorized_keys_test";
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    const std::string text = text_of(1) + " one reach=*\n" + text_of(2) + " two reach=*\n";
    ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), file), text.size());
    std::fclose(file);
    const AuthorizedKeysResult loaded = AuthorizedKeys::load(path);
    ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(loaded.value().may_relay(key_of(1), key_of(2)));
    std::remove(path.c_str());
    const AuthorizedKeysResult missing = AuthorizedKeys::load(path);
    ASSERT_FALSE(missing.ok());
    EXPECT_TRUE(starts_with(missing.error().to_string(), path + ": cannot open"));
}

}  // namespace
}  // namespace pinhole::gateway
