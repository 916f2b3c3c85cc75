// Arbitrary bytes against the relay channel's session (core/relay/channel_session.h): as
// message 1 to a gateway, as message 2 to a node awaiting it, as a transport message to an
// established session, and as a buffered stream prefix. Nothing crashes, and only the genuine
// bytes ever complete a handshake or open. The first byte picks the target and whether the rest
// is XORed into a genuine message (near-valid inputs) or taken raw.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/keys/keys.h"
#include "core/relay/channel_session.h"
#include "port/random.h"

namespace {

using namespace pinhole;
using namespace pinhole::relay;

struct CountingRandom final : port::Random {
    Status fill(std::span<std::uint8_t> out) noexcept override {
        for (auto& byte : out) byte = next++;
        return {};
    }
    std::uint8_t next = 1;
};

keys::KeyPair key_pair(std::uint8_t seed) {
    crypto::X25519Key private_key{};
    private_key.fill(seed);
    const auto pair = keys::key_pair_from_private(private_key);
    if (!pair.ok()) __builtin_trap();
    return pair.value();
}

using Message1 = std::array<std::uint8_t, message1_bytes>;
using Message2 = std::array<std::uint8_t, message2_bytes>;
using Transport = std::array<std::uint8_t, max_transport_message_bytes>;

// A node awaiting message 2, its genuine message 1 and 2, and both sides established with one
// genuine transport message in flight to the node. Built once: X25519 is slow under ASan.
struct World {
    keys::KeyPair node = key_pair(0x11);
    keys::KeyPair gateway = key_pair(0x22);
    ChannelSession awaiting;
    ChannelSession established;
    Message1 message1{};
    Message2 message2{};
    Transport transport{};
    std::size_t transport_bytes = 0;

    World() {
        CountingRandom random;
        std::array<std::uint8_t, length_prefix_bytes + max_transport_message_bytes> out{};
        const crypto::Tai64n now = crypto::tai64n_encode({1'700'000'000, 0});
        if (!awaiting.start_initiator(node, gateway.public_key, random, now, out).ok()) __builtin_trap();
        std::copy_n(out.begin() + length_prefix_bytes, message1.size(), message1.begin());
        ChannelSession gateway_side;
        if (!gateway_side.read_initiation(gateway, message1).ok()) __builtin_trap();
        if (!gateway_side.accept(random, out).ok()) __builtin_trap();
        std::copy_n(out.begin() + length_prefix_bytes, message2.size(), message2.begin());
        established = awaiting;
        if (!established.finish_initiator(message2).ok()) __builtin_trap();
        const std::array<std::uint8_t, 40> frame{1, 2, 3, 4};
        const auto sealed = gateway_side.seal(frame, out);
        if (!sealed.ok()) __builtin_trap();
        transport_bytes = sealed.value() - length_prefix_bytes;
        std::copy_n(out.begin() + length_prefix_bytes, transport_bytes, transport.begin());
    }
};

// The genuine message with the input XORed in (near_valid), or the input alone; sized as the
// input (capped at N) for raw inputs, as the genuine message otherwise.
template <std::size_t N>
std::span<std::uint8_t> mixed(std::array<std::uint8_t, N>& out, std::span<const std::uint8_t> genuine,
                              std::span<const std::uint8_t> input, bool near_valid) {
    out.fill(0);
    if (!near_valid) {
        const std::size_t size = std::min(N, input.size());
        std::copy_n(input.begin(), size, out.begin());
        return std::span(out).first(size);
    }
    std::copy(genuine.begin(), genuine.end(), out.begin());
    for (std::size_t i = 0; i < genuine.size() && i < input.size(); ++i) out[i] ^= input[i];
    return std::span(out).first(genuine.size());
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

void fuzz_message1(const World& world, std::span<const std::uint8_t> input, bool near_valid) {
    std::array<std::uint8_t, max_message_bytes> bytes{};
    const auto message = mixed(bytes, world.message1, input, near_valid);
    ChannelSession gateway;
    const auto read = gateway.read_initiation(world.gateway, message);
    if (!read.ok()) return;
    if (!same(message, world.message1) || read.value().node_key != world.node.public_key) {
        __builtin_trap();
    }
    CountingRandom random;
    std::array<std::uint8_t, length_prefix_bytes + message2_bytes> out{};
    if (!gateway.accept(random, out).ok() || !gateway.established()) __builtin_trap();
}

void fuzz_message2(const World& world, std::span<const std::uint8_t> input, bool near_valid) {
    std::array<std::uint8_t, max_message_bytes> bytes{};
    const auto message = mixed(bytes, world.message2, input, near_valid);
    ChannelSession node = world.awaiting;
    const bool finished = node.finish_initiator(message).ok();
    if (finished != node.established()) __builtin_trap();
    if (finished && !same(message, world.message2)) __builtin_trap();
}

void fuzz_transport(const World& world, std::span<const std::uint8_t> input, bool near_valid) {
    std::array<std::uint8_t, max_message_bytes + 1> bytes{};
    const auto genuine = std::span(world.transport).first(world.transport_bytes);
    const auto message = mixed(bytes, genuine, input, near_valid);
    const bool is_genuine = same(message, genuine);
    ChannelSession node = world.established;
    const auto frame = node.open(message);
    if (frame.ok() != node.established()) __builtin_trap();
    if (frame.ok() && (!is_genuine || frame.value().size() != message.size() - 16)) __builtin_trap();
}

void fuzz_stream(std::span<const std::uint8_t> input) {
    const auto length = next_message_bytes(input);
    if (!length.ok()) return;
    if (length.value() < min_message_bytes || length.value() > max_message_bytes) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    if (size == 0) return 0;
    const std::span<const std::uint8_t> input(data + 1, size - 1);
    const bool near_valid = (data[0] & 0x80) != 0;
    switch (data[0] & 0x03) {
        case 0: fuzz_message1(world, input, near_valid); break;
        case 1: fuzz_message2(world, input, near_valid); break;
        case 2: fuzz_transport(world, input, near_valid); break;
        default: fuzz_stream(input); break;
    }
    return 0;
}
