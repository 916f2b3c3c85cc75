// Pure TCP ACKs merged within a loop turn. A batch of received segments (a GRO run of 40 or
// more) makes lwIP send an ACK for every second one; each would be sealed, sent, opened and
// processed at the other end. Held until the turn ends, a later cumulative ACK of the same
// flow replaces an earlier one, as the kernel's GRO gets one ACK per aggregated run.
// Duplicate ACKs (the same number: fast retransmit counts them) are never merged, an ACK that
// has advanced max_merged_advance_bytes leaves at once (the sender's ACK clock keeps ticking),
// and any other packet of the flow sends the held ACK before it, so order is kept.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "core/wireguard/peer.h"

namespace pinhole::overlay {

class OverlayOutput;

struct AckCoalescerCounters {
    std::uint64_t held = 0;    // pure ACKs taken in
    std::uint64_t merged = 0;  // replaced by a later one before leaving
};

class AckCoalescer {
public:
    static constexpr std::size_t max_held_acks = 8;
    static constexpr std::size_t max_ack_packet_bytes = 128;  // IPv6 (40) + TCP with options (60)
    static constexpr std::uint32_t max_merged_advance_bytes = 64 * 1024;

    // True when `ip_packet` was held (a pure ACK); false: the caller sends it now. Held ACKs
    // that must precede it leave through `output` first.
    [[nodiscard]] bool offer(wireguard::PeerId peer, std::span<const std::uint8_t> ip_packet,
                             OverlayOutput& output) noexcept;
    // Sends every held ACK (at the end of a loop turn).
    void flush(OverlayOutput& output) noexcept;
    [[nodiscard]] const AckCoalescerCounters& counters() const noexcept { return counters_; }

private:
    static constexpr std::size_t flow_key_bytes = 36;  // IPv6 source, destination, both ports
    struct Held {
        bool used = false;
        wireguard::PeerId peer = 0;
        std::array<std::uint8_t, flow_key_bytes> flow{};
        std::uint32_t first_ack = 0;  // the number the first merged ACK carried
        std::uint32_t ack = 0;
        std::uint16_t length = 0;
        std::array<std::uint8_t, max_ack_packet_bytes> packet{};
    };
    void send(Held& held, OverlayOutput& output) noexcept;
    void hold(Held& slot, wireguard::PeerId peer, std::span<const std::uint8_t> flow,
              std::uint32_t ack, std::span<const std::uint8_t> ip_packet) noexcept;

    std::array<Held, max_held_acks> held_{};
    std::size_t next_victim_ = 0;  // when all slots are taken, round robin
    AckCoalescerCounters counters_{};
};

}  // namespace pinhole::overlay
