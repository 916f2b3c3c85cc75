// Any bytes given to the relay channel's WebSocket parsers (core/relay/websocket), both sides:
// the upgrade request (gateway) and response (node) heads, and the frame decoder in either role.
// Nothing crashes or reads past its input; refusals are documented errors with a reason; a head
// that parses was parsed from exactly its bytes (every shorter prefix waits); the decoder gives
// no more payload than it was given, and the same payload and verdict however the stream is cut.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/relay/websocket.h"

namespace {

using namespace pinhole::relay::ws;
using pinhole::Errc;
using pinhole::Result;
using Bytes = std::span<const std::uint8_t>;

constexpr std::string_view accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // RFC 6455's example

void check(bool condition) {
    if (!condition) __builtin_trap();
}

void check_head_refusal(Errc error, Failure failure) {
    check(error == Errc::would_block || error == Errc::malformed);
    check((error == Errc::malformed) == (failure != Failure::none));
}

void fuzz_response(Bytes bytes) {
    ResponseInfo info;
    const Result<std::size_t> head = parse_upgrade_response(bytes, accept, info);
    if (!head.ok()) return check_head_refusal(head.error(), info.failure);
    check(head.value() <= bytes.size() && head.value() <= max_head_bytes && info.status == 101);
    for (std::size_t length = 0; length < head.value(); length += 1 + length / 8) {
        ResponseInfo shorter;
        check(parse_upgrade_response(bytes.first(length), accept, shorter).error() == Errc::would_block);
    }
}

void fuzz_request(Bytes bytes) {
    RequestInfo info;
    const Result<std::size_t> head = parse_upgrade_request(bytes, default_path, info);
    if (!head.ok()) {
        check_head_refusal(head.error(), info.failure);
        if (head.error() == Errc::malformed) check(info.status == 400 || info.status == 404 || info.status == 426);
        return;
    }
    check(head.value() <= bytes.size() && head.value() <= max_head_bytes);
    // What the gateway answers, the node accepts.
    std::array<std::uint8_t, 256> answer{};
    const Result<std::size_t> encoded = encode_upgrade_response(info.key_text(), answer);
    check(encoded.ok());
    std::array<char, accept_chars + 1> expected{};
    check(accept_for_key(info.key_text(), expected).ok());
    ResponseInfo response;
    const Result<std::size_t> parsed = parse_upgrade_response(std::span(answer.data(), encoded.value()),
                                                              std::string_view(expected.data(), accept_chars), response);
    check(parsed.ok() && parsed.value() == encoded.value());
}

struct Decoded {
    std::vector<std::uint8_t> payload;
    bool failed = false;
    Failure failure = Failure::none;
    bool closed = false;
};

// Decodes `bytes` in pieces ending at the given cut points (the whole at once without any).
Decoded decode_in_pieces(Role role, Bytes bytes, std::span<const std::size_t> cuts) {
    Decoder decoder(role);
    Decoded out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= cuts.size() && !out.failed && !out.closed; i++) {
        const std::size_t end = i < cuts.size() ? std::max(start, std::min(cuts[i], bytes.size())) : bytes.size();
        std::vector<std::uint8_t> piece(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                                        bytes.begin() + static_cast<std::ptrdiff_t>(end));
        const Result<std::size_t> got = decoder.decode(piece);
        if (!got.ok()) {
            check(got.error() == Errc::malformed && decoder.failure() != Failure::none);
            out.failed = true;
            out.failure = decoder.failure();
            break;
        }
        check(got.value() <= piece.size());
        check(decoder.ping_payload().size() <= max_control_payload_bytes);
        out.payload.insert(out.payload.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(got.value()));
        out.closed = decoder.closed();
        start = end;
    }
    return out;
}

void fuzz_frames(Role role, Bytes bytes) {
    if (bytes.size() < 2) return;
    // The first two bytes pick where the stream is cut.
    const std::array<std::size_t, 3> cuts{bytes[0] % 7u, bytes[0] + 7u * bytes[1], 300u + bytes[1] * 13u};
    const Bytes stream = bytes.subspan(2);
    const Decoded whole = decode_in_pieces(role, stream, {});
    const Decoded cut = decode_in_pieces(role, stream, cuts);
    check(whole.failed == cut.failed && whole.failure == cut.failure && whole.closed == cut.closed);
    // A refused stream may have yielded less before the refusal, never anything else.
    if (whole.failed) return;
    check(whole.payload == cut.payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Bytes bytes(data + 1, size - 1);
    switch (data[0] % 4) {
        case 0: fuzz_response(bytes); break;
        case 1: fuzz_request(bytes); break;
        case 2: fuzz_frames(Role::client, bytes); break;
        default: fuzz_frames(Role::server, bytes); break;
    }
    return 0;
}
