// WireGuard v1's protocol constants (whitepaper sections 5.4 and 6): the construction,
// identifier and labels of the handshake, the message types and sizes, and the timer and
// counter limits. Written in our style; each comment names the whitepaper's constant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pinhole::wireguard {

// CONSTRUCTION, IDENTIFIER, LABEL_MAC1, LABEL_COOKIE (section 5.4).
inline constexpr std::string_view construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
inline constexpr std::string_view label_mac1 = "mac1----";
inline constexpr std::string_view label_cookie = "cookie--";

// Counter limits (section 6.1).
inline constexpr std::uint64_t rekey_after_messages = std::uint64_t{1} << 60;      // REKEY_AFTER_MESSAGES
inline constexpr std::uint64_t reject_after_messages =                              // REJECT_AFTER_MESSAGES
    ~std::uint64_t{0} - (std::uint64_t{1} << 13);                                   // 2^64 - 2^13 - 1

// Timers (section 6.1), in milliseconds.
inline constexpr std::uint32_t rekey_after_time_ms = 120'000;       // REKEY_AFTER_TIME
inline constexpr std::uint32_t reject_after_time_ms = 180'000;      // REJECT_AFTER_TIME
inline constexpr std::uint32_t rekey_attempt_time_ms = 90'000;      // REKEY_ATTEMPT_TIME
inline constexpr std::uint32_t rekey_timeout_ms = 5'000;            // REKEY_TIMEOUT
inline constexpr std::uint32_t rekey_timeout_jitter_max_ms = 333;   // jitter added to REKEY_TIMEOUT
inline constexpr std::uint32_t keepalive_timeout_ms = 10'000;       // KEEPALIVE_TIMEOUT
inline constexpr std::uint32_t cookie_secret_max_age_ms = 120'000;  // COOKIE_SECRET_MAX_AGE
inline constexpr std::uint32_t cookie_refresh_time_ms = 120'000;    // COOKIE_REFRESH_TIME
// A received cookie is used for its lifetime minus this margin, so it is never sent just as
// the responder rotates its secret (the kernel's COOKIE_SECRET_LATENCY).
inline constexpr std::uint32_t cookie_secret_latency_ms = 5'000;
// At most this many initiations per peer per second are consumed (the kernel's
// INITIATIONS_PER_SECOND): one per `initiation_min_interval_ms`.
inline constexpr std::uint32_t initiations_per_second = 50;
inline constexpr std::uint32_t initiation_min_interval_ms = 1'000 / initiations_per_second;

// Message types (section 5.4): the first byte, then three reserved zero bytes.
enum class MessageType : std::uint8_t {
    initiation = 1,
    response = 2,
    cookie_reply = 3,
    data = 4,
};

// Message sizes in bytes.
inline constexpr std::size_t initiation_bytes = 148;
inline constexpr std::size_t response_bytes = 92;
inline constexpr std::size_t cookie_reply_bytes = 64;
inline constexpr std::size_t data_header_bytes = 16;  // type, receiver index, counter
inline constexpr std::size_t data_tag_bytes = 16;
inline constexpr std::size_t data_min_bytes = data_header_bytes + data_tag_bytes;  // a keepalive
inline constexpr std::size_t mac_bytes = 16;
inline constexpr std::size_t cookie_bytes = 16;
inline constexpr std::size_t cookie_nonce_bytes = 24;

}  // namespace pinhole::wireguard
