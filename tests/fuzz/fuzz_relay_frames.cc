// Any bytes given to the relay frame parser: nothing crashes, every refusal is malformed or
// unsupported, and a parsed frame encodes back to exactly the bytes it was parsed from (one
// spelling per frame).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/relay/frames.h"

namespace {

using namespace pinhole::relay;

pinhole::Result<std::size_t> encode(const Frame& frame, std::span<std::uint8_t> out) {
    switch (frame.type) {
        case FrameType::data_to:
        case FrameType::data_from:
            return encode_data(frame.type, frame.peer_key, frame.datagram, out);
        case FrameType::ping:
        case FrameType::pong:
            return encode_ping(frame.type, frame.nonce, out);
        case FrameType::presence:
            return encode_presence(frame.peer_key, frame.up, out);
        case FrameType::error:
            return encode_error(frame.error, frame.text, out);
    }
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const auto frame = parse_frame(bytes);
    if (!frame.ok()) {
        const pinhole::Errc error = frame.error();
        if (error != pinhole::Errc::malformed && error != pinhole::Errc::unsupported) {
            __builtin_trap();
        }
        if (error == pinhole::Errc::unsupported) {
            const bool version = unsupported_answer(bytes) == ErrorCode::version;
            if (version != (bytes[0] != frame_version)) __builtin_trap();
        }
        return 0;
    }
    if (size > max_frame_bytes) __builtin_trap();
    std::array<std::uint8_t, max_frame_bytes> out{};
    const auto length = encode(frame.value(), out);
    if (!length.ok() || length.value() != size) __builtin_trap();
    if (!std::equal(bytes.begin(), bytes.end(), out.begin())) __builtin_trap();
    return 0;
}
