#include "core/noise/symmetric_state.h"

#include <algorithm>
#include <cstring>

#include "core/crypto/ct.h"
#include "core/crypto/kdf.h"

namespace pinhole::noise {
namespace {

// The spec reserves the nonce 2^64 - 1.
constexpr std::uint64_t max_nonce = ~std::uint64_t{0};

void hash_two(Hash& out, std::span<const std::uint8_t> first,
              std::span<const std::uint8_t> second) noexcept {
    crypto::Blake2s hasher;
    const Status started = hasher.init(hash_bytes);
    PINHOLE_ASSERT(started.ok());
    hasher.update(first);
    hasher.update(second);
    const Status finished = hasher.final(out);
    PINHOLE_ASSERT(finished.ok());
}

}  // namespace

void CipherState::initialize_key(const crypto::ChaCha20Poly1305Key& key) noexcept {
    key_ = key;
    nonce_ = 0;
    has_key_ = true;
}

Status CipherState::encrypt_with_ad(std::span<std::uint8_t> sealed,
                                    std::span<const std::uint8_t> ad,
                                    std::span<const std::uint8_t> plaintext) noexcept {
    if (!has_key_) {
        if (sealed.size() != plaintext.size()) return Errc::invalid_argument;
        if (!plaintext.empty() && sealed.data() != plaintext.data()) {
            std::memmove(sealed.data(), plaintext.data(), plaintext.size());
        }
        return {};
    }
    if (nonce_ == max_nonce) return Errc::no_space;
    const Status sealed_status = crypto::chacha20poly1305_seal(
        sealed, key_, crypto::chacha20poly1305_counter_nonce(nonce_), ad, plaintext);
    if (sealed_status.ok()) ++nonce_;
    return sealed_status;
}

Status CipherState::decrypt_with_ad(std::span<std::uint8_t> plaintext,
                                    std::span<const std::uint8_t> ad,
                                    std::span<const std::uint8_t> sealed) noexcept {
    if (!has_key_) {
        if (sealed.size() != plaintext.size()) return Errc::invalid_argument;
        if (!sealed.empty() && sealed.data() != plaintext.data()) {
            std::memmove(plaintext.data(), sealed.data(), sealed.size());
        }
        return {};
    }
    if (nonce_ == max_nonce) return Errc::no_space;
    const Status opened = crypto::chacha20poly1305_open(
        plaintext, key_, crypto::chacha20poly1305_counter_nonce(nonce_), ad, sealed);
    if (opened.ok()) ++nonce_;
    return opened;
}

void CipherState::clear() noexcept {
    crypto::zeroize(key_);
    nonce_ = 0;
    has_key_ = false;
}

void SymmetricState::initialize(std::string_view protocol_name) noexcept {
    clear();
    const auto name = std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(protocol_name.data()), protocol_name.size());
    if (name.size() <= hash_bytes) {
        std::copy(name.begin(), name.end(), hash_.begin());  // the rest stays zero
    } else {
        const Status hashed = crypto::blake2s(hash_, name);
        PINHOLE_ASSERT(hashed.ok());
    }
    chaining_key_ = hash_;
}

void SymmetricState::mix_key(std::span<const std::uint8_t> input_key_material) noexcept {
    crypto::Blake2s256 key{};
    crypto::kdf2(chaining_key_, key, chaining_key_, input_key_material);
    cipher_.initialize_key(key);
    crypto::zeroize(key);
}

void SymmetricState::mix_hash(std::span<const std::uint8_t> data) noexcept {
    hash_two(hash_, hash_, data);
}

void SymmetricState::mix_key_and_hash(std::span<const std::uint8_t> input_key_material) noexcept {
    crypto::Blake2s256 hash_input{};
    crypto::Blake2s256 key{};
    crypto::kdf3(chaining_key_, hash_input, key, chaining_key_, input_key_material);
    mix_hash(hash_input);
    cipher_.initialize_key(key);
    crypto::zeroize(hash_input);
    crypto::zeroize(key);
}

Status SymmetricState::encrypt_and_hash(std::span<std::uint8_t> sealed,
                                        std::span<const std::uint8_t> plaintext) noexcept {
    const Status encrypted = cipher_.encrypt_with_ad(sealed, hash_, plaintext);
    if (encrypted.ok()) mix_hash(sealed);
    return encrypted;
}

Status SymmetricState::decrypt_and_hash(std::span<std::uint8_t> plaintext,
                                        std::span<const std::uint8_t> sealed) noexcept {
    // The hash covers the ciphertext, which an in-place decryption overwrites: hash first.
    Hash next_hash{};
    hash_two(next_hash, hash_, sealed);
    const Status decrypted = cipher_.decrypt_with_ad(plaintext, hash_, sealed);
    if (decrypted.ok()) hash_ = next_hash;
    return decrypted;
}

void SymmetricState::split(CipherState& first, CipherState& second) const noexcept {
    crypto::Blake2s256 first_key{};
    crypto::Blake2s256 second_key{};
    crypto::kdf2(first_key, second_key, chaining_key_, {});
    first.initialize_key(first_key);
    second.initialize_key(second_key);
    crypto::zeroize(first_key);
    crypto::zeroize(second_key);
}

void SymmetricState::clear() noexcept {
    crypto::zeroize(chaining_key_);
    crypto::zeroize(hash_);
    cipher_.clear();
}

void SymmetricState::clear_keys() noexcept {
    crypto::zeroize(chaining_key_);
    cipher_.clear();
}

}  // namespace pinhole::noise
