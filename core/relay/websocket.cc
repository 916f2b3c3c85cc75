#include "core/relay/websocket.h"

#include <algorithm>
#include <cstring>

#include "core/util/base64.h"
#include "core/util/endian.h"
#include "core/util/text.h"

#include "mbedtls/sha1.h"

namespace pinhole::relay::ws {
namespace {

constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t key_random_bytes = 16;

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); i++) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) noexcept {
    std::size_t first = 0;
    std::size_t last = text.size();
    while (first < last && is_space(text[first])) first++;
    while (last > first && is_space(text[last - 1])) last--;
    return substring(text, first, last - first);
}

// Whether a comma-separated header value lists `token` (case-insensitive), as Connection and
// Upgrade do ("keep-alive, Upgrade").
bool has_token(std::string_view value, std::string_view token) noexcept {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= value.size(); i++) {  // bounded by the value's length
        if (i < value.size() && value[i] != ',') continue;
        if (equals_ignoring_case(trim(substring(value, start, i - start)), token)) return true;
        start = i + 1;
    }
    return false;
}

constexpr bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Where the head ends (just past its empty line): would_block while it may still come,
// malformed when max_head_bytes hold none.
Result<std::size_t> find_head_end(std::span<const std::uint8_t> bytes, Failure& failure) noexcept {
    const std::string_view text = as_text(bytes.first(std::min(bytes.size(), max_head_bytes)));
    const std::size_t found = text.find("\r\n\r\n");
    if (found != std::string_view::npos) return found + 4;
    if (bytes.size() < max_head_bytes) return Errc::would_block;
    failure = Failure::head_too_large;
    return Errc::malformed;
}

// The head's lines, each without its CRLF; `rest` must end with CRLF.
struct Lines {
    std::string_view rest;
    bool next(std::string_view& line) noexcept {
        const std::size_t end = rest.find("\r\n");
        if (end == std::string_view::npos) return false;
        line = substring(rest, 0, end);
        rest = substring(rest, end + 2);
        return true;
    }
};

struct Header {
    std::string_view name;
    std::string_view value;
};

// "name: value" with a token for name, no control characters but tab, no folded lines.
bool parse_header(std::string_view line, Header& header) noexcept {
    for (const char c : line) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    header.name = substring(line, 0, colon);
    if (!std::all_of(header.name.begin(), header.name.end(), is_token_char)) return false;
    header.value = trim(substring(line, colon + 1));
    return true;
}

bool all_digits(std::string_view text) noexcept {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "HTTP/1.x NNN[ reason]".
bool parse_status_line(std::string_view line, std::uint16_t& status) noexcept {
    if (line.size() < 12 || !starts_with(line, "HTTP/1.") || !all_digits(substring(line, 7, 1)) || line[8] != ' ') {
        return false;
    }
    const std::string_view code = substring(line, 9, 3);
    if (!all_digits(code) || (line.size() > 12 && line[12] != ' ')) return false;
    status = static_cast<std::uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
    return true;
}

// Appends text to a byte span; remembers running out of room.
struct Writer {
    std::span<std::uint8_t> out;
    std::size_t used = 0;
    bool overflow = false;
    void put(std::string_view text) noexcept {
        if (overflow || out.size() - used < text.size()) {
            overflow = true;
            return;
        }
        std::memcpy(out.data() + used, text.data(), text.size());
        used += text.size();
    }
    void put_number(std::size_t value) noexcept {
        std::array<char, 20> digits{};
        std::size_t count = 0;
        do {
            digits[digits.size() - 1 - count++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0 && count < digits.size());
        put(std::string_view(digits.data() + digits.size() - count, count));
    }
    [[nodiscard]] Result<std::size_t> result() const noexcept {
        if (overflow) return Errc::no_space;
        return used;
    }
};

const char* reason_phrase(std::uint16_t status) noexcept {
    switch (status) {
        case 101: return "Switching Protocols";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 426: return "Upgrade Required";
        default: return "Error";
    }
}

}  // namespace

const char* describe(Failure failure) noexcept {
    switch (failure) {
        case Failure::none: return "no failure";
        case Failure::head_too_large: return "an HTTP head longer than 4 KiB";
        case Failure::malformed_head: return "a malformed HTTP header line";
        case Failure::bad_status_line: return "not an HTTP/1.1 status line";
        case Failure::not_switching_protocols: return "the upgrade was answered with another status than 101";
        case Failure::no_upgrade_websocket: return "no 'Upgrade: websocket' header";
        case Failure::no_connection_upgrade: return "no 'Connection: upgrade' header";
        case Failure::no_accept: return "no single Sec-WebSocket-Accept header";
        case Failure::wrong_accept: return "a Sec-WebSocket-Accept that does not answer our key";
        case Failure::unasked_extension: return "a WebSocket extension or subprotocol we did not offer";
        case Failure::bad_request_line: return "not a 'GET /path HTTP/1.1' request";
        case Failure::wrong_path: return "an upgrade for another path";
        case Failure::no_host: return "no single Host header";
        case Failure::bad_websocket_version: return "a Sec-WebSocket-Version other than 13";
        case Failure::bad_key: return "no valid Sec-WebSocket-Key (16 bytes in base64)";
        case Failure::reserved_bits: return "a WebSocket frame with reserved bits set";
        case Failure::unknown_opcode: return "a WebSocket frame of an unknown type";
        case Failure::text_frame: return "a WebSocket text frame (the relay channel is binary)";
        case Failure::masked_server_frame: return "a masked WebSocket frame from the server";
        case Failure::unmasked_client_frame: return "an unmasked WebSocket frame from a client";
        case Failure::control_too_long: return "a WebSocket control frame longer than 125 bytes";
        case Failure::fragmented_control: return "a fragmented WebSocket control frame";
        case Failure::length_too_large: return "a WebSocket frame longer than 1 MiB";
        case Failure::unexpected_continuation: return "a WebSocket continuation frame with no message open";
        case Failure::unfinished_message: return "a new WebSocket message inside a fragmented one";
        case Failure::bad_close_payload: return "a WebSocket close frame with a 1-byte body";
    }
    return "?";
}

// ---- Handshake, client side ------------------------------------------------------------------

Status accept_for_key(std::string_view key, std::span<char> out) noexcept {
    std::array<std::uint8_t, 64 + guid.size()> input{};
    if (key.size() > 64 || out.size() < accept_chars + 1) return Errc::invalid_argument;
    std::memcpy(input.data(), key.data(), key.size());
    std::memcpy(input.data() + key.size(), guid.data(), guid.size());
    std::array<std::uint8_t, 20> digest{};
    if (mbedtls_sha1_ret(input.data(), key.size() + guid.size(), digest.data()) != 0) return Errc::io;
    const Result<std::size_t> written = base64_encode(digest, out);
    if (!written.ok()) return written.error();
    return Status();
}

Status make_client_key(port::Random& random, ClientKey& out) noexcept {
    std::array<std::uint8_t, key_random_bytes> nonce{};
    if (const Status filled = random.fill(nonce); !filled.ok()) return filled;
    const Result<std::size_t> written = base64_encode(nonce, out.key);
    if (!written.ok()) return written.error();
    return accept_for_key(out.key_text(), out.accept);
}

Result<std::size_t> encode_upgrade_request(std::string_view host, std::string_view path, std::string_view key,
                                           std::span<std::uint8_t> out) noexcept {
    Writer writer{out};
    writer.put("GET ");
    writer.put(path);
    writer.put(" HTTP/1.1\r\nHost: ");
    writer.put(host);
    writer.put("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    writer.put(key);
    writer.put("\r\nSec-WebSocket-Version: 13\r\n\r\n");
    return writer.result();
}

Result<std::size_t> parse_upgrade_response(std::span<const std::uint8_t> bytes, std::string_view expected_accept,
                                           ResponseInfo& info) noexcept {
    info = ResponseInfo{};
    const Result<std::size_t> end = find_head_end(bytes, info.failure);
    if (!end.ok()) return end;
    Lines lines{as_text(bytes.first(end.value() - 2))};  // each line, the last header's too, ends with CRLF
    std::string_view line;
    if (!lines.next(line) || !parse_status_line(line, info.status)) {
        info.failure = Failure::bad_status_line;
        return Errc::malformed;
    }
    if (info.status != 101) {
        info.failure = Failure::not_switching_protocols;
        return Errc::malformed;
    }
    bool upgrade = false;
    bool connection = false;
    bool extension = false;
    int accepts = 0;
    bool accept_matches = false;
    for (std::size_t count = 0; count < max_head_bytes && lines.next(line); count++) {
        Header header;
        if (!parse_header(line, header)) {
            info.failure = Failure::malformed_head;
            return Errc::malformed;
        }
        if (equals_ignoring_case(header.name, "upgrade")) upgrade = upgrade || has_token(header.value, "websocket");
        if (equals_ignoring_case(header.name, "connection")) connection = connection || has_token(header.value, "upgrade");
        if (equals_ignoring_case(header.name, "sec-websocket-extensions") ||
            equals_ignoring_case(header.name, "sec-websocket-protocol")) {
            extension = true;
        }
        if (equals_ignoring_case(header.name, "sec-websocket-accept")) {
            accepts++;
            accept_matches = header.value == expected_accept;
        }
    }
    info.failure = !upgrade ? Failure::no_upgrade_websocket
                   : !connection ? Failure::no_connection_upgrade
                   : accepts != 1 ? Failure::no_accept
                   : !accept_matches ? Failure::wrong_accept
                   : extension ? Failure::unasked_extension
                               : Failure::none;
    if (info.failure != Failure::none) return Errc::malformed;
    return end.value();
}

// ---- Handshake, server side ------------------------------------------------------------------

namespace {

struct RequestHeaders {
    int hosts = 0;
    bool upgrade = false;
    bool connection = false;
    int versions = 0;
    bool version_13 = false;
    int keys = 0;
    std::string_view key;
};

void note_request_header(const Header& header, RequestHeaders& seen) noexcept {
    if (equals_ignoring_case(header.name, "host")) seen.hosts++;
    if (equals_ignoring_case(header.name, "upgrade")) seen.upgrade = seen.upgrade || has_token(header.value, "websocket");
    if (equals_ignoring_case(header.name, "connection")) {
        seen.connection = seen.connection || has_token(header.value, "upgrade");
    }
    if (equals_ignoring_case(header.name, "sec-websocket-version")) {
        seen.versions++;
        seen.version_13 = header.value == "13";
    }
    if (equals_ignoring_case(header.name, "sec-websocket-key")) {
        seen.keys++;
        seen.key = header.value;
    }
}

bool valid_key(std::string_view key) noexcept {
    std::array<std::uint8_t, key_random_bytes + 2> decoded{};
    if (key.size() != key_chars) return false;
    const Result<std::size_t> length = base64_decode(key, decoded);
    return length.ok() && length.value() == key_random_bytes;
}

// "GET target HTTP/1.1"; `path` is the target without its query.
bool parse_request_line(std::string_view line, std::string_view& path) noexcept {
    if (!starts_with(line, "GET ") || line.size() < 4 + 1 + 9) return false;
    const std::string_view version = substring(line, line.size() - 9);
    if (version != " HTTP/1.1") return false;
    const std::string_view target = substring(line, 4, line.size() - 4 - 9);
    if (target.empty() || target[0] != '/' || target.find(' ') != std::string_view::npos) return false;
    path = substring(target, 0, target.find('?'));
    return true;
}

Result<std::size_t> refuse_request(RequestInfo& info, Failure failure, std::uint16_t status) noexcept {
    info.failure = failure;
    info.status = status;
    return Errc::malformed;
}

}  // namespace

Result<std::size_t> parse_upgrade_request(std::span<const std::uint8_t> bytes, std::string_view path,
                                          RequestInfo& info) noexcept {
    info = RequestInfo{};
    const Result<std::size_t> end = find_head_end(bytes, info.failure);
    if (!end.ok()) {
        if (end.error() == Errc::malformed) info.status = 400;
        return end;
    }
    Lines lines{as_text(bytes.first(end.value() - 2))};
    std::string_view line;
    std::string_view asked;
    if (!lines.next(line) || !parse_request_line(line, asked)) return refuse_request(info, Failure::bad_request_line, 400);
    RequestHeaders seen;
    for (std::size_t count = 0; count < max_head_bytes && lines.next(line); count++) {
        Header header;
        if (!parse_header(line, header)) return refuse_request(info, Failure::malformed_head, 400);
        note_request_header(header, seen);
    }
    if (asked != path) return refuse_request(info, Failure::wrong_path, 404);
    if (seen.hosts != 1) return refuse_request(info, Failure::no_host, 400);
    if (!seen.upgrade) return refuse_request(info, Failure::no_upgrade_websocket, 426);
    if (!seen.connection) return refuse_request(info, Failure::no_connection_upgrade, 426);
    if (seen.versions != 1 || !seen.version_13) return refuse_request(info, Failure::bad_websocket_version, 426);
    if (seen.keys != 1 || !valid_key(seen.key)) return refuse_request(info, Failure::bad_key, 400);
    std::memcpy(info.key.data(), seen.key.data(), key_chars);
    info.key[key_chars] = '\0';
    return end.value();
}

Result<std::size_t> encode_upgrade_response(std::string_view key, std::span<std::uint8_t> out) noexcept {
    std::array<char, accept_chars + 1> accept{};
    if (const Status computed = accept_for_key(key, accept); !computed.ok()) return computed.error();
    Writer writer{out};
    writer.put("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    writer.put(std::string_view(accept.data(), accept_chars));
    writer.put("\r\n\r\n");
    return writer.result();
}

Result<std::size_t> encode_refusal(std::uint16_t status, std::string_view reason, std::span<std::uint8_t> out) noexcept {
    Writer writer{out};
    writer.put("HTTP/1.1 ");
    writer.put_number(status);
    writer.put(" ");
    writer.put(reason_phrase(status));
    writer.put("\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ");
    writer.put_number(reason.size() + 1);
    if (status == 426) writer.put("\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13");
    writer.put("\r\n\r\n");
    writer.put(reason);
    writer.put("\n");
    return writer.result();
}

// ---- Frames ----------------------------------------------------------------------------------

Result<std::size_t> encode_frame_header(Opcode opcode, std::uint64_t payload_bytes, const Mask* mask,
                                        std::span<std::uint8_t> out) noexcept {
    const std::size_t length = frame_header_bytes(payload_bytes, mask != nullptr);
    if (out.size() < length) return Errc::no_space;
    out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));
    const std::uint8_t mask_bit = mask != nullptr ? 0x80 : 0x00;
    std::size_t at = 2;
    if (payload_bytes < 126) {
        out[1] = static_cast<std::uint8_t>(mask_bit | payload_bytes);
    } else if (payload_bytes <= 0xffff) {
        out[1] = mask_bit | 126;
        store_be16(out.data() + 2, static_cast<std::uint16_t>(payload_bytes));
        at = 4;
    } else {
        out[1] = mask_bit | 127;
        store_be64(out.data() + 2, payload_bytes);
        at = 10;
    }
    if (mask != nullptr) std::memcpy(out.data() + at, mask->data(), mask_bytes);
    return length;
}

void apply_mask(std::span<std::uint8_t> bytes, const Mask& mask, std::size_t offset) noexcept {
    Mask rotated{};
    for (std::size_t i = 0; i < mask_bytes; i++) rotated[i] = mask[(offset + i) % mask_bytes];
    for (std::size_t i = 0; i < bytes.size(); i++) bytes[i] ^= rotated[i % mask_bytes];
}

void Decoder::reset() noexcept { *this = Decoder(role_); }

bool Decoder::refuse(Failure failure) noexcept {
    failure_ = failure;
    return false;
}

Result<std::size_t> Decoder::decode(std::span<std::uint8_t> bytes) noexcept {
    if (failure_ != Failure::none) return Errc::malformed;
    if (closed_) return Errc::closed;
    std::size_t in = 0;
    std::size_t out = 0;
    // Bounded: every step consumes at least one byte.
    for (std::size_t step = 0; step < bytes.size() && in < bytes.size() && !closed_; step++) {
        switch (state_) {
            case State::header:
                in += take_header(bytes.subspan(in));
                break;
            case State::data: {
                const std::size_t taken = take_data(bytes, in, out);
                in += taken;
                out += taken;
                break;
            }
            case State::control:
                in += take_control(bytes.subspan(in));
                break;
        }
        if (failure_ != Failure::none) return Errc::malformed;
    }
    return out;
}

std::size_t Decoder::take_header(std::span<const std::uint8_t> bytes) noexcept {
    const std::size_t take = std::min<std::size_t>(header_need_ - header_have_, bytes.size());
    std::memcpy(header_.data() + header_have_, bytes.data(), take);
    header_have_ = static_cast<std::uint8_t>(header_have_ + take);
    if (header_have_ < header_need_) return take;
    if (header_have_ == 2 && header_need_ == 2) {  // the first two bytes say how many follow
        if (!check_first_bytes() || header_have_ < header_need_) return take;
    }
    (void)start_frame();
    return take;
}

bool Decoder::check_first_bytes() noexcept {
    const std::uint8_t first = header_[0];
    const std::uint8_t second = header_[1];
    const bool fin = (first & 0x80) != 0;
    const bool masked = (second & 0x80) != 0;
    const std::uint8_t length = second & 0x7f;
    if ((first & 0x70) != 0) return refuse(Failure::reserved_bits);
    if (role_ == Role::client && masked) return refuse(Failure::masked_server_frame);
    if (role_ == Role::server && !masked) return refuse(Failure::unmasked_client_frame);
    switch (first & 0x0f) {
        case static_cast<std::uint8_t>(Opcode::continuation):
            if (!in_message_) return refuse(Failure::unexpected_continuation);
            break;
        case static_cast<std::uint8_t>(Opcode::text): return refuse(Failure::text_frame);
        case static_cast<std::uint8_t>(Opcode::binary):
            if (in_message_) return refuse(Failure::unfinished_message);
            break;
        case static_cast<std::uint8_t>(Opcode::close):
        case static_cast<std::uint8_t>(Opcode::ping):
        case static_cast<std::uint8_t>(Opcode::pong):
            if (!fin) return refuse(Failure::fragmented_control);
            if (length > max_control_payload_bytes) return refuse(Failure::control_too_long);
            break;
        default: return refuse(Failure::unknown_opcode);
    }
    opcode_ = static_cast<Opcode>(first & 0x0f);
    masked_ = masked;
    header_need_ = static_cast<std::uint8_t>(2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + (masked ? mask_bytes : 0));
    return true;
}

bool Decoder::start_frame() noexcept {
    const std::uint8_t length_code = header_[1] & 0x7f;
    std::uint64_t length = length_code;
    std::size_t at = 2;
    if (length_code == 126) {
        length = load_be16(header_.data() + 2);
        at = 4;
    } else if (length_code == 127) {
        length = load_be64(header_.data() + 2);
        at = 10;
    }
    if (length > max_frame_payload_bytes) return refuse(Failure::length_too_large);
    if (masked_) std::memcpy(mask_.data(), header_.data() + at, mask_bytes);
    const bool fin = (header_[0] & 0x80) != 0;
    header_have_ = 0;
    header_need_ = 2;
    remaining_ = length;
    offset_ = 0;
    if (opcode_ == Opcode::binary || opcode_ == Opcode::continuation) {
        in_message_ = !fin;
        state_ = remaining_ != 0 ? State::data : State::header;
        return true;
    }
    control_bytes_ = 0;
    state_ = State::control;
    return remaining_ != 0 || finish_control();
}

std::size_t Decoder::take_data(std::span<std::uint8_t> bytes, std::size_t in, std::size_t out) noexcept {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size() - in));
    if (masked_) apply_mask(bytes.subspan(in, take), mask_, static_cast<std::size_t>(offset_ % mask_bytes));
    if (out != in) std::memmove(bytes.data() + out, bytes.data() + in, take);
    remaining_ -= take;
    offset_ += take;
    if (remaining_ == 0) state_ = State::header;
    return take;
}

std::size_t Decoder::take_control(std::span<const std::uint8_t> bytes) noexcept {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
    std::memcpy(control_.data() + control_bytes_, bytes.data(), take);
    if (masked_) apply_mask(std::span(control_.data() + control_bytes_, take), mask_, control_bytes_ % mask_bytes);
    control_bytes_ = static_cast<std::uint8_t>(control_bytes_ + take);
    remaining_ -= take;
    if (remaining_ == 0) (void)finish_control();
    return take;
}

bool Decoder::finish_control() noexcept {
    state_ = State::header;
    switch (opcode_) {
        case Opcode::ping:
            std::memcpy(ping_.data(), control_.data(), control_bytes_);
            ping_bytes_ = control_bytes_;
            ping_pending_ = true;  // only the latest ping needs its pong (RFC 6455 §5.5.3)
            return true;
        case Opcode::close:
            if (control_bytes_ == 1) return refuse(Failure::bad_close_payload);
            close_code_ = control_bytes_ >= 2 ? load_be16(control_.data()) : 0;
            closed_ = true;
            return true;
        default:
            return true;  // a pong: nothing to do
    }
}

}  // namespace pinhole::relay::ws
