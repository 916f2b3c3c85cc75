// The Noise Protocol Framework's CipherState and SymmetricState (noise spec sections 5.1 and
// 5.2, revision 34) for the suite 25519_ChaChaPoly_BLAKE2s: HASH is BLAKE2s-256, HKDF is
// WireGuard's KDF (core/crypto/kdf.h, the same construction), the cipher ChaCha20-Poly1305
// with a 64-bit little-endian counter nonce. No heap; the destructors wipe every secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/crypto/blake2s.h"
#include "core/crypto/chacha20poly1305.h"
#include "core/util/result.h"

namespace pinhole::noise {

inline constexpr std::size_t hash_bytes = crypto::blake2s_256_bytes;
inline constexpr std::size_t tag_bytes = crypto::chacha20poly1305_tag_bytes;
using Hash = crypto::Blake2s256;

// A key and a nonce counter. Without a key, encryption and decryption copy the bytes through
// (the spec's behaviour before the first MixKey).
class CipherState {
public:
    CipherState() noexcept = default;
    CipherState(const CipherState& other) noexcept = default;
    CipherState& operator=(const CipherState& other) noexcept = default;
    ~CipherState() { clear(); }

    void initialize_key(const crypto::ChaCha20Poly1305Key& key) noexcept;
    [[nodiscard]] bool has_key() const noexcept { return has_key_; }
    [[nodiscard]] std::uint64_t nonce() const noexcept { return nonce_; }
    [[nodiscard]] const crypto::ChaCha20Poly1305Key& key() const noexcept { return key_; }

    // sealed.size() == plaintext.size() + 16 with a key, == plaintext.size() without.
    // Errc::no_space once the nonce reaches 2^64 - 1 (reserved by the spec).
    [[nodiscard]] Status encrypt_with_ad(std::span<std::uint8_t> sealed,
                                         std::span<const std::uint8_t> ad,
                                         std::span<const std::uint8_t> plaintext) noexcept;
    // plaintext.size() == sealed.size() - 16 with a key; Errc::authentication when the tag does
    // not verify (the nonce does not advance then).
    [[nodiscard]] Status decrypt_with_ad(std::span<std::uint8_t> plaintext,
                                         std::span<const std::uint8_t> ad,
                                         std::span<const std::uint8_t> sealed) noexcept;
    void clear() noexcept;

private:
    crypto::ChaCha20Poly1305Key key_{};
    std::uint64_t nonce_ = 0;
    bool has_key_ = false;
};

// ck, h and the CipherState of a handshake.
class SymmetricState {
public:
    SymmetricState() noexcept = default;
    SymmetricState(const SymmetricState& other) noexcept = default;
    SymmetricState& operator=(const SymmetricState& other) noexcept = default;
    ~SymmetricState() { clear(); }

    // h = the name padded with zeros if it fits in 32 bytes, else HASH(name); ck = h.
    void initialize(std::string_view protocol_name) noexcept;
    // ck, k = HKDF(ck, input_key_material, 2).
    void mix_key(std::span<const std::uint8_t> input_key_material) noexcept;
    // h = HASH(h ‖ data).
    void mix_hash(std::span<const std::uint8_t> data) noexcept;
    // ck, t, k = HKDF(ck, input_key_material, 3); MixHash(t): the psk token.
    void mix_key_and_hash(std::span<const std::uint8_t> input_key_material) noexcept;
    // sealed = Encrypt(k, n, h, plaintext); MixHash(sealed). Sizes as CipherState's.
    [[nodiscard]] Status encrypt_and_hash(std::span<std::uint8_t> sealed,
                                          std::span<const std::uint8_t> plaintext) noexcept;
    // plaintext = Decrypt(k, n, h, sealed); MixHash(sealed) only when it verifies.
    [[nodiscard]] Status decrypt_and_hash(std::span<std::uint8_t> plaintext,
                                          std::span<const std::uint8_t> sealed) noexcept;
    // (first, second) = HKDF(ck, empty, 2) as two CipherStates: first encrypts what the
    // initiator sends, second what the responder sends.
    void split(CipherState& first, CipherState& second) const noexcept;

    [[nodiscard]] const Hash& handshake_hash() const noexcept { return hash_; }
    [[nodiscard]] const Hash& chaining_key() const noexcept { return chaining_key_; }
    [[nodiscard]] bool has_key() const noexcept { return cipher_.has_key(); }
    // Bytes `encrypt_and_hash` adds: the tag once a key is mixed in, none before.
    [[nodiscard]] std::size_t overhead_bytes() const noexcept { return has_key() ? tag_bytes : 0; }
    void clear() noexcept;
    // Wipes ck and k but keeps h (the handshake hash outlives the handshake: channel binding).
    void clear_keys() noexcept;

private:
    Hash chaining_key_{};
    Hash hash_{};
    CipherState cipher_;
};

}  // namespace pinhole::noise
