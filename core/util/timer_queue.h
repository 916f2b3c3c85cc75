// Up to N armed timers, each named by a small caller-chosen id (an enum or an integer), driven
// by the time the caller passes in: the core never reads a clock. Deadlines are 32-bit
// wrapping milliseconds (core/util/time.h), so every armed deadline must lie within 2^31 ms of
// every other and of the `now` given to expire(). Timers are kept sorted by deadline in a
// small array: arm/disarm are O(N), next_deadline() O(1), which suits the tens of timers a node
// holds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "core/util/assert.h"
#include "core/util/result.h"
#include "core/util/time.h"

namespace pinhole {

template <std::size_t N, typename Id = std::uint16_t>
class TimerQueue {
    static_assert(N > 0, "a TimerQueue needs room for at least one timer");
    static_assert(std::is_trivially_copyable_v<Id>);

public:
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }

    // Arms `id` to fire at `deadline_ms`; an armed id is re-armed (its old deadline is
    // forgotten). Errc::no_space if N other timers are armed. Timers with equal deadlines fire
    // in the order they were armed.
    [[nodiscard]] Status arm(Id id, std::uint32_t deadline_ms) noexcept {
        remove(id);
        if (count_ == N) return Errc::no_space;
        std::size_t position = count_;
        for (; position > 0 && time_before(deadline_ms, entries_[position - 1].deadline_ms);
             --position) {
            entries_[position] = entries_[position - 1];
        }
        entries_[position] = Entry{id, deadline_ms, expiring_};
        ++count_;
        return {};
    }
    // Forgets `id` if it is armed.
    void disarm(Id id) noexcept { remove(id); }
    [[nodiscard]] bool is_armed(Id id) const noexcept { return find(id) != count_; }

    // The earliest deadline, if any timer is armed: when to call expire() next.
    [[nodiscard]] std::optional<std::uint32_t> next_deadline() const noexcept {
        if (count_ == 0) return std::nullopt;
        return entries_[0].deadline_ms;
    }

    // Calls on_expired(id) for every timer due at `now_ms` (deadline <= now), earliest first,
    // each disarmed before its call. The callback may arm and disarm timers: one disarmed
    // before its turn does not fire, and one armed during this call fires on a later call even
    // if already due, so the work per call is at most N callbacks. Not reentrant.
    template <typename OnExpired>
    void expire(std::uint32_t now_ms, OnExpired&& on_expired) noexcept {
        PINHOLE_ASSERT(!expiring_);
        expiring_ = true;
        for (std::size_t fired = 0; fired < N; ++fired) {
            const std::size_t due = first_due(now_ms);
            if (due == count_) break;
            const Id id = entries_[due].id;
            remove_at(due);
            on_expired(id);
        }
        for (std::size_t i = 0; i < count_; ++i) entries_[i].armed_while_expiring = false;
        expiring_ = false;
    }

private:
    struct Entry {
        Id id{};
        std::uint32_t deadline_ms = 0;
        bool armed_while_expiring = false;
    };

    [[nodiscard]] std::size_t find(Id id) const noexcept {
        for (std::size_t i = 0; i < count_; ++i) {
            if (entries_[i].id == id) return i;
        }
        return count_;
    }
    // The earliest due timer armed before the current expire(), or count_ if none. Entries are
    // sorted, so the first one not yet due ends the search.
    [[nodiscard]] std::size_t first_due(std::uint32_t now_ms) const noexcept {
        for (std::size_t i = 0; i < count_; ++i) {
            if (time_before(now_ms, entries_[i].deadline_ms)) return count_;
            if (!entries_[i].armed_while_expiring) return i;
        }
        return count_;
    }
    void remove(Id id) noexcept {
        const std::size_t index = find(id);
        if (index != count_) remove_at(index);
    }
    void remove_at(std::size_t index) noexcept {
        for (std::size_t i = index; i + 1 < count_; ++i) entries_[i] = entries_[i + 1];
        --count_;
    }

    std::array<Entry, N> entries_{};
    std::size_t count_ = 0;
    bool expiring_ = false;
};

}  // namespace pinhole
