// WireGuard's receive-counter validation (whitepaper section 5.4.6, the kernel's
// counter_validate): each counter is accepted at most once, counters far behind the greatest
// one seen are refused, and so is any counter at or past REJECT_AFTER_MESSAGES. A bitmap of
// 8192 bits holds the window of 8192 - 64 counters below the greatest (one word of the ring is
// always being recycled): constant memory, O(1) amortised per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pinhole::wireguard {

class ReplayWindow {
public:
    static constexpr std::size_t bitmap_bits = 8192;
    static constexpr std::size_t word_bits = 64;
    // Counters this far below the greatest accepted one are still judged individually.
    static constexpr std::uint64_t window_size = bitmap_bits - word_bits;

    // True, and the counter is marked seen, when `counter` was never accepted before, is not
    // older than the window and is below REJECT_AFTER_MESSAGES. Call it only AFTER the
    // packet's tag verified: a forged packet must never move the window (an attacker could
    // otherwise push it forward and make genuine packets look replayed).
    [[nodiscard]] bool check_and_update(std::uint64_t counter) noexcept;

    // Forgets every counter (a fresh keypair).
    void reset() noexcept;

    // One more than the greatest accepted counter (0 before the first).
    [[nodiscard]] std::uint64_t next_expected() const noexcept { return greatest_plus_one_; }

private:
    static constexpr std::size_t word_count = bitmap_bits / word_bits;

    std::uint64_t greatest_plus_one_ = 0;
    std::array<std::uint64_t, word_count> seen_{};
};

}  // namespace pinhole::wireguard
