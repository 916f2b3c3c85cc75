// Fuzzes the data-message receive path: arbitrary datagrams against a keypair whose replay
// window the input has already moved (valid messages sealed from the input's own counters come
// first), so parsing, the tag check and the window all see hostile input. Every outcome must be
// a counted rejection or an authenticated, never-before-seen counter.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/wireguard/transport.h"

namespace {

using namespace pinhole;
using namespace pinhole::wireguard;

struct Lookup final : KeypairLookup {
    Keypair* find_keypair(std::uint32_t local_index) noexcept override {
        return keypair->local_index == local_index ? keypair : nullptr;
    }
    Keypair* keypair = nullptr;
};

constexpr std::size_t mtu = 1420;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Keypair sender, receiver;
    sender.sending_key.fill(7);
    receiver.receiving_key.fill(7);
    sender.remote_index = receiver.local_index = 0x11223344;
    sender.valid = receiver.valid = true;
    Lookup lookup;
    lookup.keypair = &receiver;
    const TimerSettings settings;
    MessageCounters counters;
    std::array<std::uint8_t, 4096 + 64> buffer{};
    std::array<std::uint8_t, 4096 + 64> plaintext{};

    // The first bytes pick a few counters to seal and deliver (moving the window), then the
    // rest is one raw datagram.
    const std::size_t sealed_count = size > 0 ? data[0] % 8 : 0;
    std::size_t offset = size > 0 ? 1 : 0;
    for (std::size_t i = 0; i < sealed_count && offset + 2 <= size; ++i, offset += 2) {
        sender.sending_counter = static_cast<std::uint64_t>(data[offset]) << (data[offset + 1] % 64);
        const std::span<const std::uint8_t> packet(data, std::min<std::size_t>(size, 64));
        const Result<SealedData> sealed = seal_data(sender, packet, mtu, buffer, 0, settings);
        if (!sealed.ok()) continue;  // a counter at the reject limit
        const std::span<const std::uint8_t> message(buffer.data(), sealed.value().message_bytes);
        const std::uint64_t before = counters.replayed_counter;
        const Result<OpenedData> opened = open_data(message, plaintext, lookup, 0, settings, counters);
        // A genuine message either opens or is counted as a replay: nothing else.
        if (!opened.ok() && counters.replayed_counter != before + 1) std::abort();
    }
    const std::span<const std::uint8_t> datagram(data + offset, size - offset);
    const std::uint64_t rejections_before = total_rejections(counters);
    const Result<OpenedData> opened = open_data(datagram, plaintext, lookup, 0, settings, counters);
    const bool counted = total_rejections(counters) == rejections_before + 1;
    if (opened.ok() == counted) std::abort();  // exactly the failures are counted
    return 0;
}
