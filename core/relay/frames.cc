#include "core/relay/frames.h"

#include <algorithm>

#include "core/util/endian.h"

namespace pinhole::relay {
namespace {

constexpr std::size_t key_bytes = crypto::x25519_key_bytes;
constexpr std::size_t nonce_bytes = 8;
constexpr std::size_t presence_body_bytes = key_bytes + 1;
constexpr std::size_t error_code_bytes = 2;

bool is_printable_ascii(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool is_valid_datagram(std::span<const std::uint8_t> datagram) noexcept {
    return !datagram.empty() && datagram.size() <= max_relay_datagram_bytes;
}

bool is_valid_error_text(std::string_view text) noexcept {
    return text.size() <= max_error_text_bytes && is_printable_ascii(text);
}

bool is_known_type(std::uint8_t type) noexcept {
    return type >= static_cast<std::uint8_t>(FrameType::data_to) &&
           type <= static_cast<std::uint8_t>(FrameType::error);
}

crypto::X25519Key read_key(std::span<const std::uint8_t> body) noexcept {
    crypto::X25519Key key{};
    std::copy_n(body.begin(), key_bytes, key.begin());
    return key;
}

Result<Frame> parse_data(Frame frame, std::span<const std::uint8_t> body) noexcept {
    if (body.size() < key_bytes) return Errc::malformed;
    frame.peer_key = read_key(body);
    frame.datagram = body.subspan(key_bytes);
    if (!is_valid_datagram(frame.datagram)) return Errc::malformed;
    return frame;
}

Result<Frame> parse_ping(Frame frame, std::span<const std::uint8_t> body) noexcept {
    if (body.size() != nonce_bytes) return Errc::malformed;
    frame.nonce = load_be64(body);
    return frame;
}

Result<Frame> parse_presence(Frame frame, std::span<const std::uint8_t> body) noexcept {
    if (body.size() != presence_body_bytes) return Errc::malformed;
    const std::uint8_t state = body[key_bytes];
    if (state > 1) return Errc::malformed;
    frame.peer_key = read_key(body);
    frame.up = state == 1;
    return frame;
}

Result<Frame> parse_error(Frame frame, std::span<const std::uint8_t> body) noexcept {
    if (body.size() < error_code_bytes) return Errc::malformed;
    const std::uint16_t code = load_be16(body);
    if (code == 0) return Errc::malformed;
    const std::span<const std::uint8_t> text = body.subspan(error_code_bytes);
    frame.error = static_cast<ErrorCode>(code);
    frame.text = {reinterpret_cast<const char*>(text.data()), text.size()};
    if (!is_valid_error_text(frame.text)) return Errc::malformed;
    return frame;
}

// Writes the header and returns where the body goes; the caller checked `out` holds it all.
std::span<std::uint8_t> write_header(FrameType type, std::size_t body_bytes,
                                     std::span<std::uint8_t> out) noexcept {
    out[0] = frame_version;
    out[1] = static_cast<std::uint8_t>(type);
    store_be16(out.subspan(2), static_cast<std::uint16_t>(body_bytes));
    return out.subspan(frame_header_bytes, body_bytes);
}

}  // namespace

Result<Frame> parse_frame(std::span<const std::uint8_t> bytes) noexcept {
    if (bytes.size() < frame_header_bytes) return Errc::malformed;
    // Another version may lay its frames out differently: only the version byte is read.
    if (bytes[0] != frame_version) return Errc::unsupported;
    if (bytes.size() > max_frame_bytes) return Errc::malformed;
    const std::size_t body_bytes = load_be16(bytes.subspan(2));
    if (body_bytes != bytes.size() - frame_header_bytes) return Errc::malformed;
    const std::span<const std::uint8_t> body = bytes.subspan(frame_header_bytes);
    if (!is_known_type(bytes[1])) return Errc::unsupported;
    Frame frame;
    frame.type = static_cast<FrameType>(bytes[1]);
    switch (frame.type) {
        case FrameType::data_to:
        case FrameType::data_from:
            return parse_data(frame, body);
        case FrameType::ping:
        case FrameType::pong:
            return parse_ping(frame, body);
        case FrameType::presence:
            return parse_presence(frame, body);
        case FrameType::error:
            return parse_error(frame, body);
    }
    return Errc::unsupported;  // unreachable: is_known_type checked the type
}

ErrorCode unsupported_answer(std::span<const std::uint8_t> bytes) noexcept {
    if (!bytes.empty() && bytes[0] != frame_version) return ErrorCode::version;
    return ErrorCode::unknown_type;
}

Result<std::size_t> encode_data(FrameType type, const crypto::X25519Key& peer,
                                std::span<const std::uint8_t> datagram,
                                std::span<std::uint8_t> out) noexcept {
    if (type != FrameType::data_to && type != FrameType::data_from) return Errc::invalid_argument;
    if (!is_valid_datagram(datagram)) return Errc::invalid_argument;
    const std::size_t body_bytes = key_bytes + datagram.size();
    if (out.size() < frame_header_bytes + body_bytes) return Errc::no_space;
    const std::span<std::uint8_t> body = write_header(type, body_bytes, out);
    std::copy(peer.begin(), peer.end(), body.begin());
    std::copy(datagram.begin(), datagram.end(), body.begin() + key_bytes);
    return frame_header_bytes + body_bytes;
}

Result<std::size_t> encode_ping(FrameType type, std::uint64_t nonce,
                                std::span<std::uint8_t> out) noexcept {
    if (type != FrameType::ping && type != FrameType::pong) return Errc::invalid_argument;
    if (out.size() < frame_header_bytes + nonce_bytes) return Errc::no_space;
    store_be64(write_header(type, nonce_bytes, out), nonce);
    return frame_header_bytes + nonce_bytes;
}

Result<std::size_t> encode_presence(const crypto::X25519Key& peer, bool up,
                                    std::span<std::uint8_t> out) noexcept {
    if (out.size() < frame_header_bytes + presence_body_bytes) return Errc::no_space;
    const std::span<std::uint8_t> body = write_header(FrameType::presence, presence_body_bytes, out);
    std::copy(peer.begin(), peer.end(), body.begin());
    body[key_bytes] = up ? 1 : 0;
    return frame_header_bytes + presence_body_bytes;
}

Result<std::size_t> encode_error(ErrorCode code, std::string_view text,
                                 std::span<std::uint8_t> out) noexcept {
    if (static_cast<std::uint16_t>(code) == 0 || !is_valid_error_text(text)) {
        return Errc::invalid_argument;
    }
    const std::size_t body_bytes = error_code_bytes + text.size();
    if (out.size() < frame_header_bytes + body_bytes) return Errc::no_space;
    const std::span<std::uint8_t> body = write_header(FrameType::error, body_bytes, out);
    store_be16(body, static_cast<std::uint16_t>(code));
    std::copy(text.begin(), text.end(), body.begin() + error_code_bytes);
    return frame_header_bytes + body_bytes;
}

const char* describe(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::unknown_type: return "unknown frame type";
        case ErrorCode::malformed: return "malformed frame";
        case ErrorCode::not_authorized: return "peer not reachable";
        case ErrorCode::peer_offline: return "peer offline";
        case ErrorCode::too_large: return "frame too large";
        case ErrorCode::version: return "unsupported frame version";
    }
    return "unknown error";
}

}  // namespace pinhole::relay
