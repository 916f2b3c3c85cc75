#include "core/util/base64.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinhole {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode(std::span<const std::uint8_t> bytes) {
    std::vector<char> out(base64_encoded_length(bytes.size()) + 1, 'x');
    const auto length = base64_encode(bytes, out);
    EXPECT_TRUE(length.ok());
    EXPECT_EQ(out[length.value()], '\0');
    return std::string(out.data(), length.value());
}

std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Errc decode_error(std::string_view text) {
    std::array<std::uint8_t, 64> out{};
    const auto result = base64_decode(text, out);
    return result.ok() ? Errc::ok : result.error();
}

TEST(Base64, EncodesTheRfc4648Vectors) {
    EXPECT_EQ(encode(as_bytes("")), "");
    EXPECT_EQ(encode(as_bytes("f")), "Zg==");
    EXPECT_EQ(encode(as_bytes("fo")), "Zm8=");
    EXPECT_EQ(encode(as_bytes("foo")), "Zm9v");
    EXPECT_EQ(encode(as_bytes("foob")), "Zm9vYg==");
    EXPECT_EQ(encode(as_bytes("fooba")), "Zm9vYmE=");
    EXPECT_EQ(encode(as_bytes("foobar")), "Zm9vYmFy");
}

TEST(Base64, DecodesTheRfc4648Vectors) {
    const std::array<std::pair<std::string_view, std::string_view>, 7> vectors{{
        {"", ""}, {"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"}, {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"},
    }};
    for (const auto& [text, plain] : vectors) {
        std::array<std::uint8_t, 16> out{};
        const auto length = base64_decode(text, out);
        ASSERT_TRUE(length.ok()) << text;
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(out.data()), length.value()),
                  plain);
    }
}

TEST(Base64, AWireGuardKeyIs44CharactersAndRoundTrips) {
    std::array<std::uint8_t, 32> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 37 + 5);
    const std::string text = encode(key);
    EXPECT_EQ(text.size(), 44u);
    EXPECT_EQ(base64_encoded_length(32), 44u);
    EXPECT_EQ(text.back(), '=');
    std::array<std::uint8_t, 32> decoded{};
    const auto length = base64_decode(text, decoded);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(length.value(), 32u);
    EXPECT_EQ(decoded, key);
}

TEST(Base64, EveryByteValueAndLengthRoundTrips) {
    for (std::size_t size = 0; size <= 70; ++size) {
        std::vector<std::uint8_t> bytes(size);
        for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 97 + size);
        const std::string text = encode(bytes);
        std::vector<std::uint8_t> decoded(size);
        const auto length = base64_decode(text, decoded);
        ASSERT_TRUE(length.ok()) << text;
        EXPECT_EQ(length.value(), size);
        EXPECT_EQ(decoded, bytes);
    }
}

TEST(Base64, EveryCharacterDecodesToItsAlphabetPositionOrIsRefused) {
    for (int c = 0; c < 256; ++c) {
        const std::string text = std::string(1, static_cast<char>(c)) + "AAA";
        std::array<std::uint8_t, 3> out{};
        const auto length = base64_decode(text, out);
        const std::size_t position = alphabet.find(static_cast<char>(c));
        if (position == std::string_view::npos) {
            EXPECT_EQ(length.error(), Errc::malformed) << c;
        } else {
            ASSERT_TRUE(length.ok()) << c;
            EXPECT_EQ(out[0], position << 2) << c;
        }
    }
}

TEST(Base64, RefusesLengthsThatAreNotAMultipleOfFour) {
    EXPECT_EQ(decode_error("Z"), Errc::malformed);
    EXPECT_EQ(decode_error("Zg"), Errc::malformed);
    EXPECT_EQ(decode_error("Zg="), Errc::malformed);
    EXPECT_EQ(decode_error("Zm9vY"), Errc::malformed);
}

TEST(Base64, RefusesMisplacedPadding) {
    EXPECT_EQ(decode_error("===="), Errc::malformed);
    EXPECT_EQ(decode_error("Z==="), Errc::malformed);
    EXPECT_EQ(decode_error("=Zg="), Errc::malformed);
    EXPECT_EQ(decode_error("Zg=A"), Errc::malformed);
    EXPECT_EQ(decode_error("Zg==Zg=="), Errc::malformed);  // padding before the end
    EXPECT_EQ(decode_error("Zm8=Zm9v"), Errc::malformed);
}

TEST(Base64, RefusesNonCanonicalTrailingBits) {
    EXPECT_EQ(decode_error("Zg=="), Errc::ok);
    EXPECT_EQ(decode_error("Zh=="), Errc::malformed);  // 'h' leaves a 1 in the unused bits
    EXPECT_EQ(decode_error("Zv=="), Errc::malformed);
    EXPECT_EQ(decode_error("Zm8="), Errc::ok);
    EXPECT_EQ(decode_error("Zm9="), Errc::malformed);
    EXPECT_EQ(decode_error("Zm//"), Errc::ok);  // no unused bits without padding
}

TEST(Base64, RefusesCharactersOutsideTheStandardAlphabet) {
    EXPECT_EQ(decode_error("Zm9v YmFy"), Errc::malformed);
    EXPECT_EQ(decode_error("Zm9vYmF\n"), Errc::malformed);
    EXPECT_EQ(decode_error("Zm-_"), Errc::malformed);  // the URL alphabet
    EXPECT_EQ(decode_error(std::string_view("Zm\0v", 4)), Errc::malformed);
}

TEST(Base64, LeavesNothingBehindWhenMalformed) {
    std::array<std::uint8_t, 6> out{};
    EXPECT_EQ(base64_decode("Zm9vYm@y", out).error(), Errc::malformed);
    EXPECT_EQ(out, (std::array<std::uint8_t, 6>{}));
}

TEST(Base64, ReportsNoSpace) {
    std::array<std::uint8_t, 5> small{};
    EXPECT_EQ(base64_decode("Zm9vYmFy", small).error(), Errc::no_space);
    std::array<std::uint8_t, 6> exact{};
    EXPECT_TRUE(base64_decode("Zm9vYmFy", exact).ok());
    EXPECT_EQ(base64_decode("Zm9vYmE=", small).value(), 5u);

    std::array<char, 8> no_room_for_nul{};
    EXPECT_EQ(base64_encode(as_bytes("foobar"), no_room_for_nul).error(), Errc::no_space);
    std::array<char, 9> room{};
    EXPECT_EQ(base64_encode(as_bytes("foobar"), room).value(), 8u);
    std::array<char, 0> none{};
    EXPECT_EQ(base64_encode({}, none).error(), Errc::no_space);
}

}  // namespace
}  // namespace pinhole
