// mac1, mac2 and cookie replies (whitepaper section 5.4.4 and 5.4.7, the kernel's cookie.c):
// a responder under load answers a handshake message whose mac2 is missing or stale with a
// cookie reply instead of doing Diffie-Hellman; the initiator then retries with
// mac2 = MAC(cookie, message up to mac2).
//
//   mac1 = MAC(HASH(LABEL_MAC1 ‖ receiver's static public), message before mac1)  (always)
//   mac2 = MAC(cookie, message before mac2)                                       (or zeros)
//   cookie = MAC(secret, source), secret random, replaced every COOKIE_SECRET_MAX_AGE
//   reply = XChaCha20-Poly1305(HASH(LABEL_COOKIE ‖ responder's static public),
//                              random 24-byte nonce, cookie, AAD = mac1 being answered)
//
// MAC is keyed BLAKE2s with a 16-byte digest. The cookie binds to the sender's `CookieSource`:
// for UDP its address and port (as the kernel: address bytes then the port, big-endian); for a
// packet that came through the relay, the sender's public key as the relay names it (the relay
// hides addresses, DESIGN §1). All MAC comparisons are constant-time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"
#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/x25519.h"
#include "core/net/address.h"
#include "core/util/result.h"
#include "core/wireguard/messages.h"
#include "port/random.h"

namespace pinhole::wireguard {

// The bytes a cookie is bound to: 6 (IPv4 + port), 18 (IPv6 + port) or 32 (a relayed
// sender's public key). Different lengths keep the three kinds apart.
struct CookieSource {
    std::array<std::uint8_t, 32> bytes{};
    std::uint8_t size = 0;

    [[nodiscard]] std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
};

[[nodiscard]] CookieSource cookie_source_udp(const net::Endpoint& sender) noexcept;
[[nodiscard]] CookieSource cookie_source_relay(const crypto::X25519Key& sender_public) noexcept;

// What validate_macs found.
enum class MacCheck : std::uint8_t {
    invalid,            // mac1 wrong (or not a handshake message size): drop, counted bad_mac1
    valid_mac1,         // mac1 right; mac2 not checked (not under load) or wrong (counted
                        // bad_mac2): under load, answer with a cookie reply and go no further
    valid_mac1_and_mac2 // both right: process even under load (and rate-limit by source)
};

// The responder's side, one per device (keyed to the device's own public key).
class CookieChecker {
public:
    CookieChecker() noexcept = default;
    CookieChecker(const CookieChecker&) = delete;
    CookieChecker& operator=(const CookieChecker&) = delete;
    ~CookieChecker() { clear(); }

    // Derives the mac1 and cookie-encryption keys from the device's public key. The secret is
    // drawn on first use.
    void initialize(const crypto::X25519Key& local_static_public) noexcept;

    // Checks mac1 of an initiation or response (the wire bytes, 148 or 92 long) and, when
    // `under_load`, mac2 against the cookie for `source`. `random` renews the secret when it is
    // older than cookie_secret_max_age_ms (a failure to draw counts as a wrong mac2).
    [[nodiscard]] MacCheck validate_macs(std::span<const std::uint8_t> message,
                                         const CookieSource& source, bool under_load,
                                         std::uint32_t now_ms, port::Random& random,
                                         MessageCounters& counters) noexcept;

    // A cookie reply to `message` (the wire bytes of the handshake message answered, whose
    // sender index becomes the reply's receiver index). Errc::io from `random`;
    // Errc::invalid_argument for a message that is not a handshake message.
    [[nodiscard]] Status create_reply(CookieReplyMessage& out,
                                      std::span<const std::uint8_t> message,
                                      const CookieSource& source, std::uint32_t now_ms,
                                      port::Random& random) noexcept;

    void clear() noexcept;

private:
    // The cookie for `source` under the current secret, renewing an expired secret.
    [[nodiscard]] Status make_cookie(crypto::Blake2s128& cookie, const CookieSource& source,
                                     std::uint32_t now_ms, port::Random& random) noexcept;

    crypto::Blake2s256 mac1_key_{};
    crypto::ChaCha20Poly1305Key cookie_encryption_key_{};
    crypto::Blake2s256 secret_{};
    std::uint32_t secret_birth_ms_ = 0;
    bool has_secret_ = false;
};

// The sender's side, one per peer (keyed to the peer's public key).
class CookieMaker {
public:
    CookieMaker() noexcept = default;
    CookieMaker(const CookieMaker&) = delete;
    CookieMaker& operator=(const CookieMaker&) = delete;
    ~CookieMaker() { clear(); }

    void initialize(const crypto::X25519Key& remote_static_public) noexcept;

    // Writes mac1 and mac2 into the last 32 bytes of a written initiation or response (148 or
    // 92 bytes; else Errc::invalid_argument). mac2 is the cookie's MAC while a cookie younger
    // than cookie_secret_max_age_ms - cookie_secret_latency_ms is held, zeros otherwise.
    [[nodiscard]] Status add_macs(std::span<std::uint8_t> message, std::uint32_t now_ms) noexcept;

    // Takes the cookie from a reply to the last message we sent a mac1 on. Errc::authentication
    // (counted decrypt_cookie) when it does not decrypt (another mac1, another key), or when we
    // have sent nothing it could answer.
    [[nodiscard]] Status consume_reply(const CookieReplyMessage& reply, std::uint32_t now_ms,
                                       MessageCounters& counters) noexcept;

    // Whether a cookie is held that add_macs would use at `now_ms`.
    [[nodiscard]] bool has_fresh_cookie(std::uint32_t now_ms) const noexcept;

    void clear() noexcept;

private:
    crypto::Blake2s256 mac1_key_{};
    crypto::ChaCha20Poly1305Key cookie_decryption_key_{};
    crypto::Blake2s128 cookie_{};
    std::uint32_t cookie_birth_ms_ = 0;
    bool has_cookie_ = false;
    Mac last_mac1_sent_{};
    bool has_sent_mac1_ = false;
};

}  // namespace pinhole::wireguard
