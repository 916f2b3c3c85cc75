// ChaCha20-Poly1305 through the seam against RFC 8439 section 2.8.2, with every kind of
// tampering refused, in-place use, and the length contracts.
#include "core/crypto/chacha20poly1305.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/test_crypto_hex.h"

namespace pinhole::crypto {
namespace {

using test::bytes_of;
using test::hex;
using test::hex_array;

// RFC 8439 section 2.8.2.
struct Rfc8439Example {
    std::vector<std::uint8_t> plaintext = bytes_of(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
        "future, sunscreen would be it.");
    std::vector<std::uint8_t> aad = hex("50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7");
    ChaCha20Poly1305Key key = hex_array<32>(
        "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f"
        "90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f");
    ChaCha20Poly1305Nonce nonce = hex_array<12>("07 00 00 00 40 41 42 43 44 45 46 47");
    std::vector<std::uint8_t> sealed = hex(
        "d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2"
        "a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6"
        "3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b"
        "1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36"
        "92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58"
        "fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc"
        "3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b"
        "61 16"
        "1a e1 0b 59 4f 09 e2 6a 7e 90 2e cb d0 60 06 91");  // the tag
};

TEST(ChaCha20Poly1305, Rfc8439Section282Seal) {
    const Rfc8439Example example;
    std::vector<std::uint8_t> sealed(example.plaintext.size() + chacha20poly1305_tag_bytes);
    ASSERT_TRUE(chacha20poly1305_seal(sealed, example.key, example.nonce, example.aad,
                                      example.plaintext).ok());
    EXPECT_EQ(sealed, example.sealed);
}

TEST(ChaCha20Poly1305, Rfc8439Section282Open) {
    const Rfc8439Example example;
    std::vector<std::uint8_t> opened(example.plaintext.size());
    ASSERT_TRUE(chacha20poly1305_open(opened, example.key, example.nonce, example.aad,
                                      example.sealed).ok());
    EXPECT_EQ(opened, example.plaintext);
}

// Opens `example` after `tamper` changed it; it must fail and release nothing.
template <typename Tamper>
void expect_refused(Tamper tamper, const char* what) {
    Rfc8439Example example;
    tamper(example);
    std::vector<std::uint8_t> opened(example.sealed.size() - chacha20poly1305_tag_bytes, 0xee);
    EXPECT_EQ(chacha20poly1305_open(opened, example.key, example.nonce, example.aad,
                                    example.sealed).error(),
              Errc::authentication) << what;
    EXPECT_EQ(opened, std::vector<std::uint8_t>(opened.size(), 0)) << what;
}

TEST(ChaCha20Poly1305, RefusesEveryTampering) {
    expect_refused([](Rfc8439Example& e) { e.sealed.back() ^= 0x01; }, "tag, last bit");
    expect_refused([](Rfc8439Example& e) { e.sealed[e.sealed.size() - 16] ^= 0x80; },
                   "tag, first byte");
    expect_refused([](Rfc8439Example& e) { e.sealed[0] ^= 0x01; }, "ciphertext, first byte");
    expect_refused([](Rfc8439Example& e) { e.sealed[100] ^= 0x10; }, "ciphertext, middle");
    expect_refused([](Rfc8439Example& e) { e.aad[0] ^= 0x01; }, "aad changed");
    expect_refused([](Rfc8439Example& e) { e.aad.pop_back(); }, "aad shortened");
    expect_refused([](Rfc8439Example& e) { e.nonce[11] ^= 0x01; }, "nonce");
    expect_refused([](Rfc8439Example& e) { e.key[31] ^= 0x01; }, "key");
    expect_refused([](Rfc8439Example& e) { e.sealed.erase(e.sealed.begin()); }, "truncated");
}

TEST(ChaCha20Poly1305, SealsAndOpensInPlace) {
    const Rfc8439Example example;
    std::vector<std::uint8_t> buffer = example.plaintext;
    buffer.resize(buffer.size() + chacha20poly1305_tag_bytes);
    const std::span<std::uint8_t> whole(buffer);
    ASSERT_TRUE(chacha20poly1305_seal(whole, example.key, example.nonce, example.aad,
                                      whole.first(example.plaintext.size())).ok());
    EXPECT_EQ(buffer, example.sealed);
    ASSERT_TRUE(chacha20poly1305_open(whole.first(example.plaintext.size()), example.key,
                                      example.nonce, example.aad, whole).ok());
    EXPECT_EQ(std::vector(buffer.begin(), buffer.end() - 16), example.plaintext);
}

TEST(ChaCha20Poly1305, EmptyPlaintextIsATagOnly) {
    const Rfc8439Example example;  // WireGuard's keepalive and empty handshake payloads
    std::array<std::uint8_t, chacha20poly1305_tag_bytes> tag;
    ASSERT_TRUE(chacha20poly1305_seal(tag, example.key, example.nonce, example.aad, {}).ok());
    EXPECT_TRUE(chacha20poly1305_open({}, example.key, example.nonce, example.aad, tag).ok());
    tag[0] ^= 1;
    EXPECT_EQ(chacha20poly1305_open({}, example.key, example.nonce, example.aad, tag).error(),
              Errc::authentication);
}

TEST(ChaCha20Poly1305, RefusesLengthsOutOfContract) {
    const Rfc8439Example example;
    std::vector<std::uint8_t> buffer(example.plaintext.size() + 32);
    const std::span<std::uint8_t> whole(buffer);
    const auto plaintext = std::span<const std::uint8_t>(example.plaintext);
    EXPECT_EQ(chacha20poly1305_seal(whole.first(plaintext.size() + 15), example.key, example.nonce,
                                    example.aad, plaintext).error(),
              Errc::invalid_argument);
    EXPECT_EQ(chacha20poly1305_open(whole.first(plaintext.size() - 1), example.key,
                                    example.nonce, example.aad, example.sealed).error(),
              Errc::invalid_argument);
    // Overlapping but shifted by one byte: neither in place nor disjoint.
    EXPECT_EQ(chacha20poly1305_seal(whole.subspan(1, plaintext.size() + 16), example.key,
                                    example.nonce, example.aad,
                                    whole.first(plaintext.size())).error(),
              Errc::invalid_argument);
    std::array<std::uint8_t, 15> shorter_than_tag{};
    EXPECT_EQ(chacha20poly1305_open({}, example.key, example.nonce, example.aad,
                                    shorter_than_tag).error(),
              Errc::authentication);
}

TEST(ChaCha20Poly1305, CounterNonceIsWireGuards) {
    EXPECT_EQ(chacha20poly1305_counter_nonce(0), ChaCha20Poly1305Nonce{});
    EXPECT_EQ(chacha20poly1305_counter_nonce(0x0102030405060708),
              hex_array<12>("00000000 0807060504030201"));
    EXPECT_EQ(chacha20poly1305_counter_nonce(~std::uint64_t{0}),
              hex_array<12>("00000000 ffffffffffffffff"));
}

}  // namespace
}  // namespace pinhole::crypto
