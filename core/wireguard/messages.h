// WireGuard's four messages (whitepaper section 5.4) as fixed structs, with parsers that check
// the length, the type and the reserved bytes and count the reason of every rejection, and
// writers that lay them out byte for byte. Integers on the wire are little-endian.
//
//   initiation   (148 B): type 1 | 3 reserved | sender | ephemeral 32 | static 32+16 |
//                         timestamp 12+16 | mac1 16 | mac2 16
//   response      (92 B): type 2 | 3 reserved | sender | receiver | ephemeral 32 | empty 0+16 |
//                         mac1 16 | mac2 16
//   cookie reply  (64 B): type 3 | 3 reserved | receiver | nonce 24 | cookie 16+16
//   data        (>=32 B): type 4 | 3 reserved | receiver | counter 8 | packet ‖ tag 16
//
// The MACs of handshake messages cover the wire bytes before them (core/wireguard/cookie.h):
// mac1 the bytes before mac1, mac2 the bytes before mac2.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"
#include "core/crypto/x25519.h"
#include "core/util/result.h"
#include "core/wireguard/constants.h"

namespace pinhole::wireguard {

// Why a message (handshake or data) was dropped. Every rejection anywhere in the WireGuard
// code is counted under one of these, in `MessageCounters`.
enum class Rejection : std::uint8_t {
    wrong_length,        // not the exact size of its type (data: shorter than 32 bytes)
    unknown_type,        // first byte not 1..4
    nonzero_reserved,    // bytes 1..3 not zero
    bad_mac1,            // mac1 does not verify under our public key
    bad_mac2,            // under load, mac2 missing or not made with our current cookie
    decrypt_static,      // initiation: the initiator's static key does not decrypt
    decrypt_timestamp,   // initiation: the timestamp does not decrypt
    decrypt_empty,       // response: the empty payload's tag does not verify
    decrypt_cookie,      // cookie reply: does not decrypt (wrong key, or not for our last mac1)
    stale_timestamp,     // initiation: timestamp not later than the greatest seen (a replay)
    flood,               // initiation: less than initiation_min_interval_ms after the last one
    unknown_peer,        // initiation from a static key we do not know
    unknown_index,       // response, cookie reply or data for a receiver index we do not have
    unexpected_state,    // e.g. a response when we have no initiation outstanding
    weak_key,            // a Diffie-Hellman result was all zeros (low-order point)
    decrypt_data,        // data: the tag does not verify
    replayed_counter,    // data: the counter is outside or already in the replay window
    expired_keypair,     // data: for a keypair past REJECT_AFTER_TIME or REJECT_AFTER_MESSAGES
};

// One counter per reason, so operators and tests can see why packets were dropped.
struct MessageCounters {
    std::uint64_t wrong_length = 0;
    std::uint64_t unknown_type = 0;
    std::uint64_t nonzero_reserved = 0;
    std::uint64_t bad_mac1 = 0;
    std::uint64_t bad_mac2 = 0;
    std::uint64_t decrypt_static = 0;
    std::uint64_t decrypt_timestamp = 0;
    std::uint64_t decrypt_empty = 0;
    std::uint64_t decrypt_cookie = 0;
    std::uint64_t stale_timestamp = 0;
    std::uint64_t flood = 0;
    std::uint64_t unknown_peer = 0;
    std::uint64_t unknown_index = 0;
    std::uint64_t unexpected_state = 0;
    std::uint64_t weak_key = 0;
    std::uint64_t decrypt_data = 0;
    std::uint64_t replayed_counter = 0;
    std::uint64_t expired_keypair = 0;
};

// Adds one to the counter of `reason`.
void count_rejection(MessageCounters& counters, Rejection reason) noexcept;
// The sum of all counters (tests and status output).
[[nodiscard]] std::uint64_t total_rejections(const MessageCounters& counters) noexcept;

using Mac = std::array<std::uint8_t, mac_bytes>;
using EncryptedStatic = std::array<std::uint8_t, crypto::x25519_key_bytes + 16>;
using EncryptedTimestamp = std::array<std::uint8_t, 12 + 16>;
using EncryptedEmpty = std::array<std::uint8_t, 16>;
using EncryptedCookie = std::array<std::uint8_t, cookie_bytes + 16>;
using CookieNonce = std::array<std::uint8_t, cookie_nonce_bytes>;

using InitiationBytes = std::array<std::uint8_t, initiation_bytes>;
using ResponseBytes = std::array<std::uint8_t, response_bytes>;
using CookieReplyBytes = std::array<std::uint8_t, cookie_reply_bytes>;

struct InitiationMessage {
    std::uint32_t sender_index = 0;
    crypto::X25519Key ephemeral{};
    EncryptedStatic encrypted_static{};
    EncryptedTimestamp encrypted_timestamp{};
    Mac mac1{};
    Mac mac2{};
};

struct ResponseMessage {
    std::uint32_t sender_index = 0;
    std::uint32_t receiver_index = 0;
    crypto::X25519Key ephemeral{};
    EncryptedEmpty encrypted_empty{};
    Mac mac1{};
    Mac mac2{};
};

struct CookieReplyMessage {
    std::uint32_t receiver_index = 0;
    CookieNonce nonce{};
    EncryptedCookie encrypted_cookie{};
};

// A data message's header; `sealed` (the encrypted packet ‖ tag, >= 16 bytes) points into the
// parsed datagram.
struct DataHeader {
    std::uint32_t receiver_index = 0;
    std::uint64_t counter = 0;
    std::span<const std::uint8_t> sealed;
};

// The type of a datagram from its first four bytes (type, then three zero bytes). Counts
// wrong_length (< 4 bytes), unknown_type or nonzero_reserved.
[[nodiscard]] Result<MessageType> parse_message_type(std::span<const std::uint8_t> datagram,
                                                     MessageCounters& counters) noexcept;

// Each parser checks the exact length (data: at least 32 bytes), the type and the reserved
// bytes, counts the reason of a rejection, and returns Errc::malformed for it.
[[nodiscard]] Result<InitiationMessage> parse_initiation(std::span<const std::uint8_t> datagram,
                                                         MessageCounters& counters) noexcept;
[[nodiscard]] Result<ResponseMessage> parse_response(std::span<const std::uint8_t> datagram,
                                                     MessageCounters& counters) noexcept;
[[nodiscard]] Result<CookieReplyMessage> parse_cookie_reply(
    std::span<const std::uint8_t> datagram, MessageCounters& counters) noexcept;
[[nodiscard]] Result<DataHeader> parse_data(std::span<const std::uint8_t> datagram,
                                            MessageCounters& counters) noexcept;

// Writers fill every byte of `out` (reserved bytes zero).
void write_initiation(std::span<std::uint8_t, initiation_bytes> out,
                      const InitiationMessage& message) noexcept;
void write_response(std::span<std::uint8_t, response_bytes> out,
                    const ResponseMessage& message) noexcept;
void write_cookie_reply(std::span<std::uint8_t, cookie_reply_bytes> out,
                        const CookieReplyMessage& message) noexcept;
// Writes the 16-byte header of a data message; the caller writes the sealed packet after it.
void write_data_header(std::span<std::uint8_t, data_header_bytes> out, std::uint32_t receiver_index,
                       std::uint64_t counter) noexcept;

}  // namespace pinhole::wireguard
