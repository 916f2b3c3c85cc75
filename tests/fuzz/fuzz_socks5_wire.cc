// Any bytes given to every SOCKS5 parser: nothing crashes, every refusal is one of the
// documented errors, every proper prefix of a parsed message asks for more bytes, and a parsed
// message encodes back to exactly the bytes it took (one spelling per message), which parse
// to the same value.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/proxy/socks5_wire.h"

namespace {

using namespace pinhole::proxy;
using pinhole::Errc;
using Bytes = std::span<const std::uint8_t>;

bool same(const SocksAddress& a, const SocksAddress& b) {
    return a.host_name == b.host_name && a.endpoint == b.endpoint;
}

void check_stream_refusal(Errc error) {
    if (error != Errc::would_block && error != Errc::unsupported && error != Errc::malformed) {
        __builtin_trap();
    }
}

// What a stream parser took: the same message never parses from fewer bytes.
template <typename Parse>
void check_prefixes(Bytes bytes, std::size_t consumed, Parse parse) {
    if (consumed == 0 || consumed > bytes.size()) __builtin_trap();
    for (std::size_t length = 0; length < consumed; ++length) {
        const auto shorter = parse(bytes.first(length));
        if (shorter.ok() || shorter.error() != Errc::would_block) __builtin_trap();
    }
}

void check_encoded(pinhole::Result<std::size_t> length, std::span<const std::uint8_t> out,
                   Bytes original) {
    if (!length.ok() || length.value() != original.size()) __builtin_trap();
    if (!std::equal(original.begin(), original.end(), out.begin())) __builtin_trap();
}

void check_greeting(Bytes bytes) {
    const auto parsed = parse_greeting(bytes);
    if (!parsed.ok()) return check_stream_refusal(parsed.error());
    const std::size_t consumed = parsed.value().consumed;
    check_prefixes(bytes, consumed, parse_greeting);
    std::array<std::uint8_t, max_greeting_bytes> out{};
    check_encoded(encode_greeting(parsed.value().message.offered(), out), out, bytes.first(consumed));
    const AuthMethod picked = pick_method(parsed.value().message, {true, true});
    if (picked != AuthMethod::user_password && picked != AuthMethod::no_auth &&
        picked != AuthMethod::no_acceptable) {
        __builtin_trap();
    }
}

void check_user_password(Bytes bytes) {
    const auto parsed = parse_user_password(bytes);
    if (!parsed.ok()) return check_stream_refusal(parsed.error());
    const std::size_t consumed = parsed.value().consumed;
    check_prefixes(bytes, consumed, parse_user_password);
    std::array<std::uint8_t, max_user_password_bytes> out{};
    check_encoded(encode_user_password(parsed.value().message, out), out, bytes.first(consumed));
}

void check_request(Bytes bytes) {
    const auto parsed = parse_request(bytes);
    if (!parsed.ok()) {
        check_stream_refusal(parsed.error());
        const ReplyCode reply = reply_for_refused_request(bytes);
        if (static_cast<std::uint8_t>(reply) > 8 || reply == ReplyCode::succeeded) __builtin_trap();
        return;
    }
    const std::size_t consumed = parsed.value().consumed;
    check_prefixes(bytes, consumed, parse_request);
    const Request& request = parsed.value().message;
    if (!request.destination.host_name.empty() &&
        !is_valid_host_name(request.destination.host_name.view())) {
        __builtin_trap();
    }
    std::array<std::uint8_t, max_request_bytes> out{};
    const auto length = encode_request(request.command, request.destination, out);
    check_encoded(length, out, bytes.first(consumed));
    const auto again = parse_request(std::span(out).first(length.value()));
    if (!again.ok() || again.value().message.command != request.command ||
        !same(again.value().message.destination, request.destination)) {
        __builtin_trap();
    }
}

void check_reply(Bytes bytes) {
    const auto parsed = parse_reply(bytes);
    if (!parsed.ok()) return check_stream_refusal(parsed.error());
    const std::size_t consumed = parsed.value().consumed;
    check_prefixes(bytes, consumed, parse_reply);
    std::array<std::uint8_t, max_reply_bytes> out{};
    check_encoded(encode_reply(parsed.value().message.code, parsed.value().message.bound, out), out,
                  bytes.first(consumed));
    (void)describe(parsed.value().message.code);
}

void check_udp(Bytes bytes) {
    const auto parsed = parse_udp_datagram(bytes);
    if (!parsed.ok()) {
        if (parsed.error() != Errc::malformed && parsed.error() != Errc::unsupported) __builtin_trap();
        return;
    }
    const UdpDatagram& datagram = parsed.value();
    if (datagram.header_bytes + datagram.payload.size() != bytes.size()) __builtin_trap();
    if (datagram.payload.data() != bytes.data() + datagram.header_bytes) __builtin_trap();
    std::array<std::uint8_t, 4096 + max_udp_header_bytes> out{};
    if (bytes.size() > out.size()) return;
    check_encoded(encode_udp_datagram(datagram.address, datagram.payload, out), out, bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes bytes(data, size);
    check_greeting(bytes);
    check_user_password(bytes);
    check_request(bytes);
    check_reply(bytes);
    check_udp(bytes);
    return 0;
}
