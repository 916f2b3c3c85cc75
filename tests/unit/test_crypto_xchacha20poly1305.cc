// HChaCha20 and XChaCha20-Poly1305 against draft-irtf-cfrg-xchacha-03 (section 2.2.1 and
// appendix A.3.1).
#include "core/crypto/xchacha20poly1305.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/test_crypto_hex.h"

namespace pinhole::crypto {
namespace {

using test::bytes_of;
using test::hex;
using test::hex_array;

TEST(HChaCha20, DraftSection221) {
    const ChaCha20Poly1305Key key = hex_array<32>(
        "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:"
        "10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f");
    const HChaCha20Nonce nonce = hex_array<16>("00:00:00:09:00:00:00:4a:00:00:00:00:31:41:59:27");
    const ChaCha20Poly1305Key expected = hex_array<32>(
        "82413b42 27b27bfe d30e4250 8a877d73 a0f9e4d5 8a74a853 c12ec413 26d3ecdc");
    ChaCha20Poly1305Key subkey;
    hchacha20(subkey, key, nonce);
    EXPECT_EQ(subkey, expected);
    ChaCha20Poly1305Key in_place = key;
    hchacha20(in_place, in_place, nonce);
    EXPECT_EQ(in_place, expected);
}

// Appendix A.3.1.
struct DraftExample {
    std::vector<std::uint8_t> plaintext = bytes_of(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
        "future, sunscreen would be it.");
    std::vector<std::uint8_t> aad = hex("50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7");
    ChaCha20Poly1305Key key = hex_array<32>(
        "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f"
        "90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f");
    XChaCha20Poly1305Nonce nonce = hex_array<24>(
        "40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 51 52 53 54 55 56 57");
    std::vector<std::uint8_t> sealed = hex(
        "bd 6d 17 9d 3e 83 d4 3b 95 76 57 94 93 c0 e9 39"
        "57 2a 17 00 25 2b fa cc be d2 90 2c 21 39 6c bb"
        "73 1c 7f 1b 0b 4a a6 44 0b f3 a8 2f 4e da 7e 39"
        "ae 64 c6 70 8c 54 c2 16 cb 96 b7 2e 12 13 b4 52"
        "2f 8c 9b a4 0d b5 d9 45 b1 1b 69 b9 82 c1 bb 9e"
        "3f 3f ac 2b c3 69 48 8f 76 b2 38 35 65 d3 ff f9"
        "21 f9 66 4c 97 63 7d a9 76 88 12 f6 15 c6 8b 13"
        "b5 2e"
        "c0:87:59:24:c1:c7:98:79:47:de:af:d8:78:0a:cf:49");  // the tag
};

TEST(XChaCha20Poly1305, DraftAppendixA31Seal) {
    const DraftExample example;
    std::vector<std::uint8_t> sealed(example.plaintext.size() + chacha20poly1305_tag_bytes);
    ASSERT_TRUE(xchacha20poly1305_seal(sealed, example.key, example.nonce, example.aad,
                                       example.plaintext).ok());
    EXPECT_EQ(sealed, example.sealed);
}

TEST(XChaCha20Poly1305, DraftAppendixA31Open) {
    const DraftExample example;
    std::vector<std::uint8_t> opened(example.plaintext.size());
    ASSERT_TRUE(xchacha20poly1305_open(opened, example.key, example.nonce, example.aad,
                                       example.sealed).ok());
    EXPECT_EQ(opened, example.plaintext);
}

TEST(XChaCha20Poly1305, RefusesTampering) {
    for (const std::size_t nonce_byte : {0, 15, 16, 23}) {  // both halves of the nonce matter
        DraftExample example;
        example.nonce[nonce_byte] ^= 1;
        std::vector<std::uint8_t> opened(example.plaintext.size(), 0xee);
        EXPECT_EQ(xchacha20poly1305_open(opened, example.key, example.nonce, example.aad,
                                         example.sealed).error(),
                  Errc::authentication) << "nonce byte " << nonce_byte;
        EXPECT_EQ(opened, std::vector<std::uint8_t>(opened.size(), 0));
    }
    DraftExample example;
    example.sealed.back() ^= 0x80;
    std::vector<std::uint8_t> opened(example.plaintext.size());
    EXPECT_EQ(xchacha20poly1305_open(opened, example.key, example.nonce, example.aad,
                                     example.sealed).error(),
              Errc::authentication);
}

}  // namespace
}  // namespace pinhole::crypto
