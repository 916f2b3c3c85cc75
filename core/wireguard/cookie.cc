#include "core/wireguard/cookie.h"

#include <algorithm>

#include "core/crypto/ct.h"
#include "core/crypto/xchacha20poly1305.h"
#include "core/util/endian.h"
#include "core/util/time.h"

namespace pinhole::wireguard {
namespace {

constexpr std::size_t macs_bytes = 2 * mac_bytes;  // mac1 ‖ mac2 end every handshake message

bool is_handshake_size(std::size_t size) noexcept {
    return size == initiation_bytes || size == response_bytes;
}

// HASH(label ‖ public key): the mac1 key and the cookie key.
void hash_label(crypto::Blake2s256& out, std::string_view label,
                const crypto::X25519Key& public_key) noexcept {
    crypto::Blake2s hasher;
    const Status started = hasher.init(crypto::blake2s_256_bytes);
    PINHOLE_ASSERT(started.ok());
    hasher.update({reinterpret_cast<const std::uint8_t*>(label.data()), label.size()});
    hasher.update(public_key);
    const Status finished = hasher.final(out);
    PINHOLE_ASSERT(finished.ok());
}

// MAC(key, data): keyed BLAKE2s with a 16-byte digest.
void mac(crypto::Blake2s128& out, std::span<const std::uint8_t> key,
         std::span<const std::uint8_t> data) noexcept {
    const Status computed = crypto::blake2s(out, data, key);
    PINHOLE_ASSERT(computed.ok());  // keys here are 16 or 32 bytes
}

std::span<const std::uint8_t> before_mac1(std::span<const std::uint8_t> message) noexcept {
    return message.first(message.size() - macs_bytes);
}
std::span<const std::uint8_t> before_mac2(std::span<const std::uint8_t> message) noexcept {
    return message.first(message.size() - mac_bytes);
}
std::span<const std::uint8_t> mac1_of(std::span<const std::uint8_t> message) noexcept {
    return message.subspan(message.size() - macs_bytes, mac_bytes);
}
std::span<const std::uint8_t> mac2_of(std::span<const std::uint8_t> message) noexcept {
    return message.subspan(message.size() - mac_bytes, mac_bytes);
}

}  // namespace

CookieSource cookie_source_udp(const net::Endpoint& sender) noexcept {
    CookieSource source;
    const std::size_t address_bytes = sender.address.is_v4() ? 4 : sender.address.is_v6() ? 16 : 0;
    std::copy_n(sender.address.bytes.begin(), address_bytes, source.bytes.begin());
    store_be16(source.bytes.data() + address_bytes, sender.port);
    source.size = static_cast<std::uint8_t>(address_bytes + 2);
    return source;
}

CookieSource cookie_source_relay(const crypto::X25519Key& sender_public) noexcept {
    CookieSource source;
    std::copy(sender_public.begin(), sender_public.end(), source.bytes.begin());
    source.size = static_cast<std::uint8_t>(sender_public.size());
    return source;
}

void CookieChecker::initialize(const crypto::X25519Key& local_static_public) noexcept {
    clear();
    hash_label(mac1_key_, label_mac1, local_static_public);
    hash_label(cookie_encryption_key_, label_cookie, local_static_public);
}

Status CookieChecker::make_cookie(crypto::Blake2s128& cookie, const CookieSource& source,
                                  std::uint32_t now_ms, port::Random& random) noexcept {
    if (!has_secret_ || elapsed_ms(now_ms, secret_birth_ms_) >= cookie_secret_max_age_ms) {
        has_secret_ = false;
        const Status drawn = random.fill(secret_);
        if (!drawn.ok()) {
            crypto::zeroize(secret_);
            return drawn;
        }
        secret_birth_ms_ = now_ms;
        has_secret_ = true;
    }
    mac(cookie, secret_, source.view());
    return {};
}

MacCheck CookieChecker::validate_macs(std::span<const std::uint8_t> message,
                                      const CookieSource& source, bool under_load,
                                      std::uint32_t now_ms, port::Random& random,
                                      MessageCounters& counters) noexcept {
    if (!is_handshake_size(message.size())) {
        count_rejection(counters, Rejection::wrong_length);
        return MacCheck::invalid;
    }
    crypto::Blake2s128 expected{};
    mac(expected, mac1_key_, before_mac1(message));
    if (!crypto::constant_time_equal(expected, mac1_of(message))) {
        count_rejection(counters, Rejection::bad_mac1);
        return MacCheck::invalid;
    }
    if (!under_load) return MacCheck::valid_mac1;
    crypto::Blake2s128 cookie{};
    bool mac2_valid = false;
    if (make_cookie(cookie, source, now_ms, random).ok()) {
        mac(expected, cookie, before_mac2(message));
        mac2_valid = crypto::constant_time_equal(expected, mac2_of(message));
    }
    crypto::zeroize(cookie);
    if (!mac2_valid) {
        count_rejection(counters, Rejection::bad_mac2);
        return MacCheck::valid_mac1;
    }
    return MacCheck::valid_mac1_and_mac2;
}

Status CookieChecker::create_reply(CookieReplyMessage& out, std::span<const std::uint8_t> message,
                                   const CookieSource& source, std::uint32_t now_ms,
                                   port::Random& random) noexcept {
    if (!is_handshake_size(message.size())) return Errc::invalid_argument;
    out = CookieReplyMessage{};
    out.receiver_index = load_le32(message.subspan(4));  // the sender index of both types
    Status status = random.fill(out.nonce);
    crypto::Blake2s128 cookie{};
    if (status.ok()) status = make_cookie(cookie, source, now_ms, random);
    if (status.ok()) {
        status = crypto::xchacha20poly1305_seal(out.encrypted_cookie, cookie_encryption_key_,
                                                out.nonce, mac1_of(message), cookie);
    }
    crypto::zeroize(cookie);
    return status;
}

void CookieChecker::clear() noexcept {
    crypto::zeroize(mac1_key_);
    crypto::zeroize(cookie_encryption_key_);
    crypto::zeroize(secret_);
    secret_birth_ms_ = 0;
    has_secret_ = false;
}

void CookieMaker::initialize(const crypto::X25519Key& remote_static_public) noexcept {
    clear();
    hash_label(mac1_key_, label_mac1, remote_static_public);
    hash_label(cookie_decryption_key_, label_cookie, remote_static_public);
}

bool CookieMaker::has_fresh_cookie(std::uint32_t now_ms) const noexcept {
    return has_cookie_ &&
           elapsed_ms(now_ms, cookie_birth_ms_) < cookie_secret_max_age_ms - cookie_secret_latency_ms;
}

Status CookieMaker::add_macs(std::span<std::uint8_t> message, std::uint32_t now_ms) noexcept {
    if (!is_handshake_size(message.size())) return Errc::invalid_argument;
    const auto mac1_out = message.subspan(message.size() - macs_bytes, mac_bytes);
    const auto mac2_out = message.subspan(message.size() - mac_bytes, mac_bytes);
    mac(last_mac1_sent_, mac1_key_, before_mac1(message));
    has_sent_mac1_ = true;
    std::copy(last_mac1_sent_.begin(), last_mac1_sent_.end(), mac1_out.begin());
    Mac mac2{};
    if (has_fresh_cookie(now_ms)) mac(mac2, cookie_, before_mac2(message));
    std::copy(mac2.begin(), mac2.end(), mac2_out.begin());
    return {};
}

Status CookieMaker::consume_reply(const CookieReplyMessage& reply, std::uint32_t now_ms,
                                  MessageCounters& counters) noexcept {
    crypto::Blake2s128 cookie{};
    Status status = Errc::authentication;
    if (has_sent_mac1_) {
        status = crypto::xchacha20poly1305_open(cookie, cookie_decryption_key_, reply.nonce,
                                                last_mac1_sent_, reply.encrypted_cookie);
    }
    if (status.ok()) {
        cookie_ = cookie;
        cookie_birth_ms_ = now_ms;
        has_cookie_ = true;
        has_sent_mac1_ = false;  // one reply per message sent
    } else {
        count_rejection(counters, Rejection::decrypt_cookie);
    }
    crypto::zeroize(cookie);
    return status;
}

void CookieMaker::clear() noexcept {
    crypto::zeroize(mac1_key_);
    crypto::zeroize(cookie_decryption_key_);
    crypto::zeroize(cookie_);
    cookie_birth_ms_ = 0;
    has_cookie_ = false;
    crypto::zeroize(last_mac1_sent_);
    has_sent_mac1_ = false;
}

}  // namespace pinhole::wireguard
