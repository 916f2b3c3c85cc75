// Any bytes given to WireGuard's message parsers and the mac1/mac2 check: nothing crashes, a
// rejection is always counted, and what parses writes back to the same bytes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/wireguard/cookie.h"
#include "core/wireguard/messages.h"
#include "port/random.h"

namespace {

using namespace pinhole::wireguard;

struct ZeroRandom final : pinhole::port::Random {
    pinhole::Status fill(std::span<std::uint8_t> out) noexcept override {
        std::fill(out.begin(), out.end(), std::uint8_t{0});
        return {};
    }
};

// `parsed` succeeded without a count, or failed with exactly one more counted rejection.
void check_counted(bool parsed, MessageCounters& counters, std::uint64_t& seen) {
    const std::uint64_t now = total_rejections(counters);
    if (parsed ? now != seen : now != seen + 1) __builtin_trap();
    seen = now;
}

template <typename Message, std::size_t N, typename Write>
void check_round_trip(const Message& message, std::span<const std::uint8_t> datagram, Write write) {
    std::array<std::uint8_t, N> written{};
    write(std::span<std::uint8_t, N>(written), message);
    if (!std::equal(written.begin(), written.end(), datagram.begin(), datagram.end())) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> datagram(data, size);
    MessageCounters counters;
    std::uint64_t seen = 0;

    check_counted(parse_message_type(datagram, counters).ok(), counters, seen);
    const auto initiation = parse_initiation(datagram, counters);
    check_counted(initiation.ok(), counters, seen);
    if (initiation.ok()) {
        check_round_trip<InitiationMessage, initiation_bytes>(initiation.value(), datagram,
                                                              write_initiation);
    }
    const auto response = parse_response(datagram, counters);
    check_counted(response.ok(), counters, seen);
    if (response.ok()) {
        check_round_trip<ResponseMessage, response_bytes>(response.value(), datagram,
                                                          write_response);
    }
    const auto reply = parse_cookie_reply(datagram, counters);
    check_counted(reply.ok(), counters, seen);
    if (reply.ok()) {
        check_round_trip<CookieReplyMessage, cookie_reply_bytes>(reply.value(), datagram,
                                                                 write_cookie_reply);
    }
    const auto header = parse_data(datagram, counters);
    check_counted(header.ok(), counters, seen);
    if (header.ok() && header.value().sealed.size() + data_header_bytes != size) __builtin_trap();

    // mac1 on random bytes never verifies (2^-128), so every call counts a rejection.
    pinhole::crypto::X25519Key responder{};
    responder.fill(0x42);
    CookieChecker checker;
    checker.initialize(responder);
    ZeroRandom random;
    const auto check = checker.validate_macs(datagram, cookie_source_relay(responder), size % 2 == 0,
                                             0, random, counters);
    if (check != MacCheck::invalid) __builtin_trap();
    check_counted(false, counters, seen);
    return 0;
}
