// WebSocket (RFC 6455) for the relay channel's ws:// and wss:// transports (DESIGN §2): the
// HTTP/1.1 Upgrade on both sides and the framing, so the channel passes nginx or a CDN on 443.
// The length-prefixed Noise stream rides binary frames as a byte stream: frame boundaries mean
// nothing, fragmented messages and continuation frames are accepted. Refused with a reason:
// text frames, unknown opcodes, reserved bits, lengths above max_frame_payload_bytes, a masked
// frame from the server or an unmasked one from a client, control frames above 125 bytes or
// fragmented, a continuation with no message open or a new message inside one.
//
// Portable (core): no heap, fixed buffers, bounded loops; the node uses it with port::Random for
// keys and masks, the gateway (apps/gateway) with its own sockets. Parsers never read past the
// span they are given and are fuzzed (tests/fuzz/fuzz_websocket.cc).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/util/result.h"
#include "port/random.h"

namespace pinhole::relay::ws {

// Where the gateway answers the upgrade (and a ws:// URL's path when it names none).
inline constexpr std::string_view default_path = "/pinhole";
inline constexpr std::size_t key_chars = 24;     // base64 of 16 random bytes
inline constexpr std::size_t accept_chars = 28;  // base64 of a SHA-1
// A request's or a response's head (start line, headers, the empty line) must fit in this.
inline constexpr std::size_t max_head_bytes = 4096;
inline constexpr std::size_t max_control_payload_bytes = 125;
inline constexpr std::size_t max_frame_header_bytes = 14;  // 2 + 8 (64-bit length) + 4 (mask)
// Our peers send one frame per Noise message (< 2 KiB); anything far larger is not one of them.
inline constexpr std::uint64_t max_frame_payload_bytes = 1024 * 1024;
inline constexpr std::size_t mask_bytes = 4;
using Mask = std::array<std::uint8_t, mask_bytes>;

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Close codes we send (RFC 6455 §7.4.1).
inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_protocol_error = 1002;

// Why a head or a frame was refused, for the log line a person reads.
enum class Failure : std::uint8_t {
    none,
    head_too_large,           // no empty line within max_head_bytes
    malformed_head,           // a line that is not "name: value", control characters, folding
    bad_status_line,          // not "HTTP/1.x NNN reason"
    not_switching_protocols,  // a status other than 101 (status says which)
    no_upgrade_websocket,     // no "Upgrade: websocket"
    no_connection_upgrade,    // no "Connection: upgrade"
    no_accept,                // no Sec-WebSocket-Accept (or two)
    wrong_accept,             // not base64(SHA-1(key + GUID)) of our key
    unasked_extension,        // an extension or subprotocol we did not offer
    bad_request_line,         // not "GET /path HTTP/1.1"
    wrong_path,
    no_host,
    bad_websocket_version,    // Sec-WebSocket-Version is not 13
    bad_key,                  // Sec-WebSocket-Key missing, doubled or not 16 bytes of base64
    reserved_bits,
    unknown_opcode,
    text_frame,
    masked_server_frame,
    unmasked_client_frame,
    control_too_long,
    fragmented_control,
    length_too_large,
    unexpected_continuation,  // a continuation frame with no fragmented message open
    unfinished_message,       // a new data frame while a fragmented message is open
    bad_close_payload,        // a close frame with a 1-byte body
};

[[nodiscard]] const char* describe(Failure failure) noexcept;

// ---- The handshake, client side (the node) --------------------------------------------------

struct ClientKey {
    std::array<char, key_chars + 1> key{};        // Sec-WebSocket-Key, NUL-terminated
    std::array<char, accept_chars + 1> accept{};  // the Sec-WebSocket-Accept that must come back
    [[nodiscard]] std::string_view key_text() const noexcept { return {key.data(), key_chars}; }
    [[nodiscard]] std::string_view accept_text() const noexcept { return {accept.data(), accept_chars}; }
};

// A fresh key (16 bytes from `random`) and the answer it expects.
[[nodiscard]] Status make_client_key(port::Random& random, ClientKey& out) noexcept;
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): accept_chars and a NUL.
[[nodiscard]] Status accept_for_key(std::string_view key, std::span<char> out) noexcept;

// "GET path HTTP/1.1" with Host (host as it goes in the header: "name", "name:port",
// "[v6]:port"), Upgrade, Connection, Sec-WebSocket-Key and Sec-WebSocket-Version: 13.
[[nodiscard]] Result<std::size_t> encode_upgrade_request(std::string_view host, std::string_view path,
                                                         std::string_view key, std::span<std::uint8_t> out) noexcept;

struct ResponseInfo {
    Failure failure = Failure::none;
    std::uint16_t status = 0;  // the status code, once the status line parsed
};

// The server's answer: the head's length (the bytes after it are frames) when it is a 101 with
// Upgrade, Connection and the expected accept; Errc::would_block while the head is incomplete
// (and shorter than max_head_bytes); Errc::malformed with info.failure otherwise.
[[nodiscard]] Result<std::size_t> parse_upgrade_response(std::span<const std::uint8_t> bytes,
                                                         std::string_view expected_accept,
                                                         ResponseInfo& info) noexcept;

// ---- The handshake, server side (the gateway) -----------------------------------------------

struct RequestInfo {
    Failure failure = Failure::none;
    std::uint16_t status = 0;  // what to answer a refused request: 400, 404 or 426
    std::array<char, key_chars + 1> key{};  // Sec-WebSocket-Key of an accepted request
    [[nodiscard]] std::string_view key_text() const noexcept { return {key.data(), key_chars}; }
};

// A client's upgrade to `path`: the head's length when it is acceptable; Errc::would_block while
// incomplete; Errc::malformed with info.failure and info.status (the answer to send) otherwise.
[[nodiscard]] Result<std::size_t> parse_upgrade_request(std::span<const std::uint8_t> bytes, std::string_view path,
                                                        RequestInfo& info) noexcept;
// "HTTP/1.1 101 Switching Protocols" with the accept for `key`.
[[nodiscard]] Result<std::size_t> encode_upgrade_response(std::string_view key, std::span<std::uint8_t> out) noexcept;
// A refusal with `reason` as its plain-text body (426 also names the version we speak).
[[nodiscard]] Result<std::size_t> encode_refusal(std::uint16_t status, std::string_view reason,
                                                 std::span<std::uint8_t> out) noexcept;

// ---- Frames -----------------------------------------------------------------------------------

// Who receives the frames a Decoder reads: a client gets unmasked frames from the server, a
// server masked ones from its clients.
enum class Role : std::uint8_t { client, server };

// Header bytes of a final frame of `payload_bytes` (2, 4 or 10, plus 4 with a mask).
[[nodiscard]] constexpr std::size_t frame_header_bytes(std::uint64_t payload_bytes, bool masked) noexcept {
    const std::size_t length_bytes = payload_bytes < 126 ? 0 : payload_bytes <= 0xffff ? 2 : 8;
    return 2 + length_bytes + (masked ? mask_bytes : 0);
}
// Writes the header of a final frame (FIN set); with `mask`, the mask bit and key (the caller
// masks the payload with apply_mask). Errc::no_space if out is too small.
[[nodiscard]] Result<std::size_t> encode_frame_header(Opcode opcode, std::uint64_t payload_bytes, const Mask* mask,
                                                      std::span<std::uint8_t> out) noexcept;
// XORs `bytes` with the mask, starting `offset` bytes into the frame's payload.
void apply_mask(std::span<std::uint8_t> bytes, const Mask& mask, std::size_t offset) noexcept;

class Decoder {
public:
    explicit Decoder(Role role) noexcept : role_(role) {}
    void reset() noexcept;

    // Takes the next bytes of the stream and leaves the payload of its data frames (unmasked)
    // at the front of `bytes`, returning how many; headers and control frames are consumed.
    // A ping's payload waits in ping_payload() for the caller's pong; a close frame ends
    // decoding (closed()). Errc::malformed with failure() for a refused frame: the stream is
    // then over, and so it is after a close.
    [[nodiscard]] Result<std::size_t> decode(std::span<std::uint8_t> bytes) noexcept;

    [[nodiscard]] Failure failure() const noexcept { return failure_; }
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    [[nodiscard]] std::uint16_t close_code() const noexcept { return close_code_; }  // 0: none given
    [[nodiscard]] bool ping_pending() const noexcept { return ping_pending_; }
    [[nodiscard]] std::span<const std::uint8_t> ping_payload() const noexcept {
        return std::span(ping_.data(), ping_bytes_);
    }
    void clear_ping() noexcept { ping_pending_ = false; }

private:
    enum class State : std::uint8_t { header, data, control };
    [[nodiscard]] std::size_t take_header(std::span<const std::uint8_t> bytes) noexcept;
    [[nodiscard]] bool check_first_bytes() noexcept;
    [[nodiscard]] bool start_frame() noexcept;
    [[nodiscard]] std::size_t take_data(std::span<std::uint8_t> bytes, std::size_t in, std::size_t out) noexcept;
    [[nodiscard]] std::size_t take_control(std::span<const std::uint8_t> bytes) noexcept;
    [[nodiscard]] bool finish_control() noexcept;
    [[nodiscard]] bool refuse(Failure failure) noexcept;

    Role role_;
    State state_ = State::header;
    Failure failure_ = Failure::none;
    bool closed_ = false;
    bool in_message_ = false;  // a fragmented data message is open
    bool masked_ = false;
    Opcode opcode_ = Opcode::binary;
    std::uint8_t header_have_ = 0;
    std::uint8_t header_need_ = 2;
    std::array<std::uint8_t, max_frame_header_bytes> header_{};
    Mask mask_{};
    std::uint64_t remaining_ = 0;  // payload bytes of the current frame still to come
    std::uint64_t offset_ = 0;     // payload bytes of the current frame seen (for the mask)
    std::uint16_t close_code_ = 0;
    bool ping_pending_ = false;
    std::uint8_t control_bytes_ = 0;
    std::uint8_t ping_bytes_ = 0;
    std::array<std::uint8_t, max_control_payload_bytes> control_{};
    std::array<std::uint8_t, max_control_payload_bytes> ping_{};
};

}  // namespace pinhole::relay::ws
