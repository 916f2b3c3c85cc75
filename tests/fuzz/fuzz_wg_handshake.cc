// Arbitrary bytes against the handshake of a fixed responder and initiator: consume_initiation,
// consume_response (with an initiation outstanding) and cookie-reply consumption. Nothing
// crashes, and garbage never completes a handshake. The first byte picks what the rest is
// XORed into: a genuine message (so the fuzzer explores near-valid inputs) or nothing (raw).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/x25519.h"
#include "core/wireguard/cookie.h"
#include "core/wireguard/handshake.h"
#include "port/random.h"

namespace {

using namespace pinhole;
using namespace pinhole::wireguard;

struct CountingRandom final : port::Random {
    Status fill(std::span<std::uint8_t> out) noexcept override {
        for (auto& byte : out) byte = next++;
        return {};
    }
    std::uint8_t next = 1;
};

StaticIdentity identity_from(std::uint8_t seed) {
    StaticIdentity identity;
    identity.private_key.fill(seed);
    crypto::x25519_clamp(identity.private_key);
    if (!crypto::x25519_public_key(identity.public_key, identity.private_key).ok()) __builtin_trap();
    return identity;
}

// Both parties, their peer keys, and one genuine initiation (outstanding at `initiator`),
// response and cookie reply. Built once: X25519 is slow under the sanitizers.
struct World {
    StaticIdentity initiator_identity = identity_from(0x11);
    StaticIdentity responder_identity = identity_from(0x22);
    HandshakePeerKeys initiator_knows{};
    HandshakePeerKeys responder_knows{};
    crypto::X25519Key initiator_ephemeral{};
    Handshake initiator;
    InitiationBytes initiation{};
    ResponseBytes response{};
    CookieReplyBytes cookie_reply{};

    World() {
        initiator_ephemeral.fill(0x33);
        CountingRandom random;
        MessageCounters counters;
        if (!make_peer_keys(initiator_knows, initiator_identity, responder_identity.public_key, {}).ok() ||
            !make_peer_keys(responder_knows, responder_identity, initiator_identity.public_key, {}).ok()) {
            __builtin_trap();
        }
        const InitiationMessage message = start_initiation();
        write_initiation(initiation, message);
        CookieMaker maker;
        maker.initialize(responder_identity.public_key);
        if (!maker.add_macs(initiation, 0).ok()) __builtin_trap();

        auto seen = consume_initiation(message, responder_identity, counters);
        if (!seen.ok()) __builtin_trap();
        Handshake responder;
        ResponseMessage answer;
        if (!responder.create_response(answer, seen.value(), responder_knows, 0, random, 9, counters).ok()) {
            __builtin_trap();
        }
        write_response(response, answer);

        CookieChecker checker;
        checker.initialize(responder_identity.public_key);
        CookieReplyMessage reply;
        const CookieSource source = cookie_source_relay(initiator_identity.public_key);
        if (!checker.create_reply(reply, initiation, source, 0, random).ok()) __builtin_trap();
        write_cookie_reply(cookie_reply, reply);
    }

    // The same initiation every time (same ephemeral, same timestamp), outstanding at `initiator`.
    InitiationMessage start_initiation() {
        InitiationMessage message;
        if (!initiator.create_initiation_with_ephemeral(message, initiator_identity, initiator_knows,
                                                        {1'700'000'000, 0}, initiator_ephemeral, 7).ok()) {
            __builtin_trap();
        }
        return message;
    }
};

// Mixes the fuzz bytes into a genuine message of the same size (or takes them raw).
template <std::size_t N>
std::array<std::uint8_t, N> mixed(const std::array<std::uint8_t, N>& genuine,
                                  std::span<const std::uint8_t> input) {
    std::array<std::uint8_t, N> out = genuine;
    for (std::size_t i = 0; i < N && i < input.size(); ++i) out[i] ^= input[i];
    return out;
}

// True when the bytes the handshake authenticates (from `first` to the MACs) are untouched.
template <std::size_t N>
bool untouched(const std::array<std::uint8_t, N>& genuine, const std::array<std::uint8_t, N>& sent,
               std::size_t first) {
    return std::equal(genuine.begin() + static_cast<std::ptrdiff_t>(first), genuine.end() - 32,
                      sent.begin() + static_cast<std::ptrdiff_t>(first));
}

void fuzz_initiation(World& world, std::span<const std::uint8_t> input, bool near_valid) {
    const InitiationBytes bytes = mixed(near_valid ? world.initiation : InitiationBytes{}, input);
    MessageCounters counters;
    const auto message = parse_initiation(bytes, counters);
    if (!message.ok()) return;
    auto seen = consume_initiation(message.value(), world.responder_identity, counters);
    if (!seen.ok()) return;
    if (!near_valid || !untouched(world.initiation, bytes, 8)) __builtin_trap();
    seen.value().forget();
}

void fuzz_response(World& world, std::span<const std::uint8_t> input, bool near_valid) {
    if (world.initiator.stage() != HandshakeStage::created_initiation) world.start_initiation();
    const ResponseBytes bytes = mixed(near_valid ? world.response : ResponseBytes{}, input);
    MessageCounters counters;
    const auto message = parse_response(bytes, counters);
    if (!message.ok()) return;
    const auto keys = world.initiator.consume_response(message.value(), counters);
    if (keys.ok() && (!near_valid || !untouched(world.response, bytes, 8))) __builtin_trap();
}

void fuzz_cookie_reply(const World& world, std::span<const std::uint8_t> input, bool near_valid) {
    CookieMaker maker;
    maker.initialize(world.responder_identity.public_key);
    InitiationBytes sent = world.initiation;
    if (!maker.add_macs(sent, 0).ok()) __builtin_trap();
    const CookieReplyBytes bytes = mixed(near_valid ? world.cookie_reply : CookieReplyBytes{}, input);
    MessageCounters counters;
    const auto reply = parse_cookie_reply(bytes, counters);
    if (!reply.ok()) return;
    const bool taken = maker.consume_reply(reply.value(), 0, counters).ok();
    const bool genuine = std::equal(bytes.begin() + 8, bytes.end(), world.cookie_reply.begin() + 8);
    // Only the genuine reply (receiver index aside) is taken, and it always is.
    if (taken != genuine) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static World world;  // test code: built once per process
    const std::uint8_t mode = data[0];
    const std::span<const std::uint8_t> input(data + 1, size - 1);
    const bool near_valid = (mode & 4) != 0;
    switch (mode % 3) {
        case 0: fuzz_initiation(world, input, near_valid); break;
        case 1: fuzz_response(world, input, near_valid); break;
        default: fuzz_cookie_reply(world, input, near_valid); break;
    }
    return 0;
}
