#include "core/crypto/chacha20poly1305.h"

#include <functional>

#include "core/crypto/backend/chacha20poly1305.h"
#include "core/crypto/ct.h"
#include "core/util/endian.h"

namespace pinhole::crypto {
namespace {

// In place (same start) or disjoint: what stream ciphers handle; a shifted overlap is not.
bool overlaps_partially(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    if (a.empty() || b.empty() || a.data() == b.data()) return false;
    const std::less<const std::uint8_t*> before;
    return before(a.data(), b.data() + b.size()) && before(b.data(), a.data() + a.size());
}

}  // namespace

Status chacha20poly1305_seal(std::span<std::uint8_t> sealed, const ChaCha20Poly1305Key& key,
                             const ChaCha20Poly1305Nonce& nonce, std::span<const std::uint8_t> aad,
                             std::span<const std::uint8_t> plaintext) noexcept {
    if (sealed.size() != plaintext.size() + chacha20poly1305_tag_bytes ||
        overlaps_partially(sealed, plaintext)) {
        return Errc::invalid_argument;
    }
    return backend::chacha20poly1305_seal(sealed.first(plaintext.size()),
                                          sealed.last<chacha20poly1305_tag_bytes>(), key, nonce,
                                          aad, plaintext);
}

Status chacha20poly1305_open(std::span<std::uint8_t> plaintext, const ChaCha20Poly1305Key& key,
                             const ChaCha20Poly1305Nonce& nonce, std::span<const std::uint8_t> aad,
                             std::span<const std::uint8_t> sealed) noexcept {
    if (sealed.size() < chacha20poly1305_tag_bytes) {
        zeroize(plaintext);
        return Errc::authentication;  // too short to carry a tag: cannot be authentic
    }
    const std::size_t ciphertext_bytes = sealed.size() - chacha20poly1305_tag_bytes;
    if (plaintext.size() != ciphertext_bytes || overlaps_partially(plaintext, sealed)) {
        return Errc::invalid_argument;
    }
    const Status opened =
        backend::chacha20poly1305_open(plaintext, key, nonce, aad, sealed.first(ciphertext_bytes),
                                       sealed.last<chacha20poly1305_tag_bytes>());
    if (!opened.ok()) zeroize(plaintext);  // nothing unauthenticated is released
    return opened;
}

ChaCha20Poly1305Nonce chacha20poly1305_counter_nonce(std::uint64_t counter) noexcept {
    ChaCha20Poly1305Nonce nonce{};
    store_le64(&nonce[4], counter);
    return nonce;
}

}  // namespace pinhole::crypto
