#include "core/wireguard/replay.h"

#include <algorithm>

#include "core/wireguard/constants.h"

namespace pinhole::wireguard {

bool ReplayWindow::check_and_update(std::uint64_t counter) noexcept {
    if (counter >= reject_after_messages) return false;
    // Work with counter + 1 so that "nothing accepted yet" (0) is below every counter.
    const std::uint64_t position = counter + 1;
    if (position + window_size < greatest_plus_one_) return false;  // too old

    const std::uint64_t word = position / word_bits;
    if (position > greatest_plus_one_) {
        // Clear the words the window slides over; a jump past the whole ring clears it all.
        const std::uint64_t current_word = greatest_plus_one_ / word_bits;
        const std::uint64_t words_to_clear = std::min<std::uint64_t>(word - current_word, word_count);
        for (std::uint64_t i = 1; i <= words_to_clear; ++i) {
            seen_[(current_word + i) % word_count] = 0;
        }
        greatest_plus_one_ = position;
    }
    std::uint64_t& bits = seen_[word % word_count];
    const std::uint64_t mask = std::uint64_t{1} << (position % word_bits);
    if ((bits & mask) != 0) return false;
    bits |= mask;
    return true;
}

void ReplayWindow::reset() noexcept {
    greatest_plus_one_ = 0;
    seen_.fill(0);
}

}  // namespace pinhole::wireguard
