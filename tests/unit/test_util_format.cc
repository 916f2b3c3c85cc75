#include "core/util/format.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/net/address.h"

namespace pinhole {
namespace {

template <typename... Args>
std::string format(std::string_view fmt, const Args&... args) {
    std::array<char, 128> out{};
    const std::size_t length = format_to(out, fmt, args...);
    return std::string(out.data(), length);
}

template <std::size_t N, typename... Args>
std::string format_into(std::string_view fmt, const Args&... args) {
    std::array<char, N> out{};
    const std::size_t length = format_to(out, fmt, args...);
    EXPECT_LE(length, N);
    return std::string(out.data(), length);
}

static_assert(format_placeholder_count("") == 0);
static_assert(format_placeholder_count("a {} b {}") == 2);
static_assert(format_placeholder_count("{{}} {}") == 1);
static_assert(format_placeholder_count("{{{}}}") == 1);
static_assert(format_placeholder_count("{ } } {") == 0);

TEST(Format, FillsPlaceholdersInOrder) {
    EXPECT_EQ(format("plain text"), "plain text");
    EXPECT_EQ(format("{} + {} = {}", 1, 2, 3), "1 + 2 = 3");
    EXPECT_EQ(format("{}{}", "a", "b"), "ab");
    EXPECT_EQ(format(""), "");
}

TEST(Format, PrintsIntegersOfEveryWidth) {
    EXPECT_EQ(format("{}", 0), "0");
    EXPECT_EQ(format("{}", -42), "-42");
    EXPECT_EQ(format("{}", std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(format("{}", std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
    EXPECT_EQ(format("{}", std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
    EXPECT_EQ(format("{}", std::uint8_t{200}), "200");  // a number, not a character
    EXPECT_EQ(format("{}", std::int8_t{-128}), "-128");
    EXPECT_EQ(format("{}", std::uint16_t{65535}), "65535");
    EXPECT_EQ(format("{}", 4'000'000'000u), "4000000000");
    EXPECT_EQ(format("{}", std::size_t{7}), "7");
    EXPECT_EQ(format("{} {}", -1L, 1ULL), "-1 1");
}

TEST(Format, PrintsBoolsCharsTextAndErrors) {
    EXPECT_EQ(format("{} {}", true, false), "true false");
    EXPECT_EQ(format("[{}]", 'x'), "[x]");
    const char* null_text = nullptr;
    EXPECT_EQ(format("{}", null_text), "(null)");
    EXPECT_EQ(format("{}", std::string_view("view", 2)), "vi");
    EXPECT_EQ(format("{}", std::string("owned")), "owned");
    EXPECT_EQ(format("failed: {}", Errc::timed_out), "failed: timed out");
}

TEST(Format, PrintsAddressesEndpointsAndHex) {
    const net::IpAddress v4 = net::IpAddress::v4(192, 0, 2, 1);
    const auto v6 = net::parse_address("2001:db8::1");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(format("{} {}", v4, v6.value()), "192.0.2.1 2001:db8::1");
    EXPECT_EQ(format("{}", net::Endpoint{v6.value(), 51820}), "[2001:db8::1]:51820");
    EXPECT_EQ(format("{}", net::Endpoint{v4, 80}), "192.0.2.1:80");
    EXPECT_EQ(format("{}", net::IpAddress{}), "(no address)");
    EXPECT_EQ(format("{}", net::Endpoint{}), "(no endpoint)");
    const std::array<std::uint8_t, 4> bytes{0x00, 0x7f, 0xab, 0xff};
    EXPECT_EQ(format("key {}", Hex{bytes}), "key 007fabff");
    EXPECT_EQ(format("[{}]", Hex{}), "[]");
}

TEST(Format, EscapesBracesAndToleratesMismatches) {
    EXPECT_EQ(format("{{}} {}", 5), "{} 5");
    EXPECT_EQ(format("{{{}}}", 5), "{5}");
    EXPECT_EQ(format("lone { and } stay"), "lone { and } stay");
    EXPECT_EQ(format("{} {}", 1), "1 {?}");
    EXPECT_EQ(format("{}", 1, 2), "1");
}

TEST(Format, CutsLongTextAndMarksIt) {
    EXPECT_EQ(format_into<8>("{}", "12345678"), "12345678");  // fits exactly: no mark
    EXPECT_EQ(format_into<8>("{}", "123456789"), "12345\u2026");
    EXPECT_EQ(format_into<8>("abc{}", 1234567), "abc12\u2026");
    std::array<std::uint8_t, 1000> long_key{};
    EXPECT_EQ(format_into<10>("{}", Hex{long_key}), "0000000\u2026");
    EXPECT_EQ(format_into<2>("{}", "abc"), "ab");  // too small for the mark
    EXPECT_EQ(format_to(std::span<char>(), "{}", "abc"), 0u);
}

TEST(Format, NeverCutsAUtf8CharacterInHalf) {
    // "é" is two bytes, "€" three: a cut falling inside one backs up to its start.
    EXPECT_EQ(format_into<8>("{}", "abcd\u20ac\u20ac"), "abcd\u2026");
    EXPECT_EQ(format_into<8>("{}", "abc\u00e9\u00e9\u00e9"), "abc\u00e9\u2026");
    EXPECT_EQ(format_into<8>("{}", "abc\u20ac\u20ac"), "abc\u2026");
    EXPECT_EQ(format_into<8>("{}", "ab\u20ac\u20ac"), "ab\u20ac\u20ac");  // exactly fits
}

TEST(Format, TryFormatReportsNoSpaceInsteadOfCutting) {
    std::array<char, 8> out{};
    const auto fits = try_format_to(out, "{}:{}", "host", 80);
    ASSERT_TRUE(fits.ok());
    EXPECT_EQ(std::string_view(out.data(), fits.value()), "host:80");
    EXPECT_EQ(try_format_to(out, "{}:{}", "host", 8080).error(), Errc::no_space);
}

}  // namespace
}  // namespace pinhole
