#include "core/selftest.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"
#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/ct.h"
#include "core/crypto/x25519.h"

namespace pinhole {
namespace {

constexpr crypto::X25519Key x25519_scalar = {
    0xa5, 0x46, 0xe3, 0x6b, 0xf0, 0x52, 0x7c, 0x9d, 0x3b, 0x16, 0x15, 0x4b, 0x82, 0x46, 0x5e, 0xdd,
    0x62, 0x14, 0x4c, 0x0a, 0xc1, 0xfc, 0x5a, 0x18, 0x50, 0x6a, 0x22, 0x44, 0xba, 0x44, 0x9a, 0xc4};
constexpr crypto::X25519Key x25519_point = {
    0xe6, 0xdb, 0x68, 0x67, 0x58, 0x30, 0x30, 0xdb, 0x35, 0x94, 0xc1, 0xa4, 0x24, 0xb1, 0x5f, 0x7c,
    0x72, 0x66, 0x24, 0xec, 0x26, 0xb3, 0x35, 0x3b, 0x10, 0xa9, 0x03, 0xa6, 0xd0, 0xab, 0x1c, 0x4c};
constexpr crypto::X25519Key x25519_expected = {
    0xc3, 0xda, 0x55, 0x37, 0x9d, 0xe9, 0xc6, 0x90, 0x8e, 0x94, 0xea, 0x4d, 0xf2, 0x8d, 0x08, 0x4f,
    0x32, 0xec, 0xcf, 0x03, 0x49, 0x1c, 0x71, 0xf7, 0x54, 0xb4, 0x07, 0x55, 0x77, 0xa2, 0x85, 0x52};

constexpr char aead_plaintext[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";
constexpr std::size_t aead_plaintext_bytes = sizeof(aead_plaintext) - 1;  // no terminator
constexpr crypto::ChaCha20Poly1305Nonce aead_nonce = {0x07, 0x00, 0x00, 0x00, 0x40, 0x41,
                                                      0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
constexpr std::array<std::uint8_t, 12> aead_aad = {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
                                                   0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
constexpr std::array<std::uint8_t, 16> aead_expected_tag = {
    0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91};

constexpr crypto::Blake2s256 blake2s_abc_expected = {
    0x50, 0x8c, 0x5e, 0x8c, 0x32, 0x7c, 0x14, 0xe2, 0xe1, 0xa7, 0x2b, 0xa3, 0x4e, 0xeb, 0x45, 0x2f,
    0x37, 0x45, 0x8b, 0x20, 0x9e, 0xd6, 0x3a, 0x29, 0x4d, 0x99, 0x9b, 0x4c, 0x86, 0x67, 0x59, 0x82};

SelfTestResult check_blake2s() noexcept {
    constexpr std::array<std::uint8_t, 3> abc = {'a', 'b', 'c'};
    crypto::Blake2s256 digest{};
    const bool same = crypto::blake2s(digest, abc).ok() &&
                      crypto::constant_time_equal(digest, blake2s_abc_expected);
    return same ? SelfTestResult::ok : SelfTestResult::blake2s_mismatch;
}

SelfTestResult check_x25519() noexcept {
    crypto::X25519Key shared;
    const Status computed = crypto::x25519(shared, x25519_scalar, x25519_point);
    const bool same = computed.ok() && crypto::constant_time_equal(shared, x25519_expected);
    return same ? SelfTestResult::ok : SelfTestResult::x25519_mismatch;
}

SelfTestResult check_chachapoly() noexcept {
    crypto::ChaCha20Poly1305Key key;
    for (std::size_t i = 0; i < key.size(); i++) key[i] = static_cast<std::uint8_t>(0x80 + i);
    const std::span<const std::uint8_t> plaintext(
        reinterpret_cast<const std::uint8_t*>(aead_plaintext), aead_plaintext_bytes);
    std::array<std::uint8_t, aead_plaintext_bytes + crypto::chacha20poly1305_tag_bytes> sealed;
    std::array<std::uint8_t, aead_plaintext_bytes> opened;

    SelfTestResult result = SelfTestResult::ok;
    if (!crypto::chacha20poly1305_seal(sealed, key, aead_nonce, aead_aad, plaintext).ok()) {
        result = SelfTestResult::chachapoly_setup_failed;
    } else if (!crypto::constant_time_equal(
                   std::span(sealed).last<crypto::chacha20poly1305_tag_bytes>(),
                   aead_expected_tag)) {
        result = SelfTestResult::chachapoly_tag_mismatch;
    } else if (!crypto::chacha20poly1305_open(opened, key, aead_nonce, aead_aad, sealed).ok() ||
               !crypto::constant_time_equal(opened, plaintext)) {
        result = SelfTestResult::chachapoly_open_failed;
    }
    return result;
}

}  // namespace

SelfTestResult run_crypto_self_test() noexcept {
    const SelfTestResult x25519 = check_x25519();
    if (x25519 != SelfTestResult::ok) return x25519;
    const SelfTestResult blake2s = check_blake2s();
    if (blake2s != SelfTestResult::ok) return blake2s;
    return check_chachapoly();
}

const char* describe(SelfTestResult result) noexcept {
    switch (result) {
        case SelfTestResult::ok: return "ok";
        case SelfTestResult::x25519_mismatch: return "X25519 disagrees with RFC 7748";
        case SelfTestResult::chachapoly_setup_failed: return "ChaCha20-Poly1305 refused to seal";
        case SelfTestResult::chachapoly_tag_mismatch: return "ChaCha20-Poly1305 disagrees with RFC 8439";
        case SelfTestResult::chachapoly_open_failed: return "ChaCha20-Poly1305 cannot open its own seal";
        case SelfTestResult::blake2s_mismatch: return "BLAKE2s disagrees with RFC 7693";
    }
    return "unknown self-test result";
}

}  // namespace pinhole
