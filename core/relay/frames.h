// The relay channel's frames (DESIGN §2): what a node and the gateway say to each other inside
// the channel's Noise_IK session, one frame per Noise transport message. Every frame is
//
//   version:u8 (= frame_version) | type:u8 | length:u16 BE | body[length]
//
// and nothing after the body. Bodies by type:
//
//   data_to   (1)  peer_key[32] | datagram    node -> gateway: deliver to that key's channel
//   data_from (2)  peer_key[32] | datagram    gateway -> node: sent by that key
//   ping (3), pong (4)   nonce:u64 BE         keepalive; the gateway echoes a ping as a pong
//   presence  (5)  peer_key[32] | state:u8    0 down, 1 up; only for keys the node may reach
//   error     (6)  code:u16 BE | text         printable ASCII, at most max_error_text_bytes
//
// A datagram (a whole WireGuard message) is 1..max_relay_datagram_bytes. Parsing is strict:
// anything else is Errc::malformed, except a well-formed frame of another version or of an
// unknown type, which is Errc::unsupported: the receiver answers an error frame
// (unsupported_answer says which) and keeps the channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/crypto/x25519.h"
#include "core/util/result.h"

namespace pinhole::relay {

inline constexpr std::uint8_t frame_version = 1;
inline constexpr std::size_t frame_header_bytes = 4;
// Above WireGuard's largest message at the usual MTUs (1420 + 32 bytes of WireGuard framing).
inline constexpr std::size_t max_relay_datagram_bytes = 1600;
inline constexpr std::size_t max_frame_bytes =
    frame_header_bytes + crypto::x25519_key_bytes + max_relay_datagram_bytes;
inline constexpr std::size_t max_error_text_bytes = 200;

enum class FrameType : std::uint8_t {
    data_to = 1,
    data_from = 2,
    ping = 3,
    pong = 4,
    presence = 5,
    error = 6,
};

// Codes of error frames. Parsing accepts any code but 0, so a newer peer's codes get through
// (describe() calls them unknown).
enum class ErrorCode : std::uint16_t {
    unknown_type = 1,
    malformed = 2,
    not_authorized = 3,  // the peer key is not one this node may reach
    peer_offline = 4,
    too_large = 5,
    version = 6,
};

// A parsed frame; only the fields of its type are set. The views point into the parsed
// buffer, which must outlive them.
struct Frame {
    FrameType type = FrameType::ping;
    crypto::X25519Key peer_key{};               // data_to, data_from, presence
    std::span<const std::uint8_t> datagram;     // data_to, data_from
    std::uint64_t nonce = 0;                    // ping, pong
    bool up = false;                            // presence
    ErrorCode error = ErrorCode::malformed;     // error
    std::string_view text;                      // error
};

// One whole frame, or Errc::malformed / Errc::unsupported as above.
[[nodiscard]] Result<Frame> parse_frame(std::span<const std::uint8_t> bytes) noexcept;

// For bytes parse_frame called unsupported: ErrorCode::version when the version byte is not
// frame_version, else ErrorCode::unknown_type.
[[nodiscard]] ErrorCode unsupported_answer(std::span<const std::uint8_t> bytes) noexcept;

// Each encoder writes one frame at the start of `out` and returns its length. Errc::no_space
// when `out` is too small; Errc::invalid_argument for what parse_frame would refuse (a type
// of another kind, an empty or oversized datagram, error code 0, text that is too long or not
// printable ASCII).
[[nodiscard]] Result<std::size_t> encode_data(FrameType type, const crypto::X25519Key& peer,
                                              std::span<const std::uint8_t> datagram,
                                              std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_ping(FrameType type, std::uint64_t nonce,
                                              std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_presence(const crypto::X25519Key& peer, bool up,
                                                  std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_error(ErrorCode code, std::string_view text,
                                               std::span<std::uint8_t> out) noexcept;

// A short English phrase for logs ("peer offline"); "unknown error" for codes not listed.
[[nodiscard]] const char* describe(ErrorCode code) noexcept;

}  // namespace pinhole::relay
