// A fixed pool of N objects of type T: acquire() constructs one in a free slot, release()
// destroys it and frees the slot. Objects never move, so pointers to them stay valid while they
// are live, and a slot's index is a small, stable handle (index_of / at). Both acquire and
// release are O(1) (a stack of free indices); the most recently released slot is reused first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include "core/util/assert.h"

namespace pinhole {

template <typename T, std::size_t N>
class Pool {
    static_assert(N > 0, "a Pool needs room for at least one object");
    static_assert(N <= 0xFFFF'FFFFu);
    static_assert(std::is_nothrow_destructible_v<T>);
    using Index = std::conditional_t<(N <= 0xFFFFu), std::uint16_t, std::uint32_t>;

public:
    Pool() noexcept {
        // Slot 0 on top of the free stack: the first acquire takes it.
        for (std::size_t i = 0; i < N; ++i) free_indices_[i] = static_cast<Index>(N - 1 - i);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool() {
        for (std::size_t i = 0; i < N; ++i) {
            if (live_[i]) storage_.items[i].~T();
        }
    }

    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    [[nodiscard]] std::size_t size() const noexcept { return N - free_count_; }
    [[nodiscard]] bool empty() const noexcept { return free_count_ == N; }
    [[nodiscard]] bool full() const noexcept { return free_count_ == 0; }

    // A new object built from `args`, or nullptr when every slot is taken.
    template <typename... Args>
    [[nodiscard]] T* acquire(Args&&... args) noexcept {
        if (full()) return nullptr;
        const std::size_t index = free_indices_[--free_count_];
        T* object = &storage_.items[index];
        ::new (static_cast<void*>(object)) T(std::forward<Args>(args)...);
        live_[index] = true;
        return object;
    }
    // Destroys a live object of this pool (anything else is a bug: asserted).
    void release(T* object) noexcept {
        const std::size_t index = index_of(object);
        storage_.items[index].~T();
        live_[index] = false;
        free_indices_[free_count_++] = static_cast<Index>(index);
    }

    // The slot of a live object of this pool (asserted).
    [[nodiscard]] std::size_t index_of(const T* object) const noexcept {
        const T* first = storage_.items;
        // std::less orders pointers into different objects too, so a stray pointer is caught.
        PINHOLE_ASSERT(!std::less<const T*>{}(object, first) &&
                       std::less<const T*>{}(object, first + N));
        const auto index = static_cast<std::size_t>(object - first);
        PINHOLE_ASSERT(live_[index]);
        return index;
    }
    // The live object in slot `index` (< capacity), or nullptr if the slot is free.
    [[nodiscard]] T* at(std::size_t index) noexcept {
        PINHOLE_ASSERT(index < N);
        return live_[index] ? &storage_.items[index] : nullptr;
    }
    [[nodiscard]] const T* at(std::size_t index) const noexcept {
        PINHOLE_ASSERT(index < N);
        return live_[index] ? &storage_.items[index] : nullptr;
    }

    // Calls visit(T&) for each live object in slot order; exactly N steps. `visit` may release
    // the object it is given; an object acquired during the walk may or may not be visited.
    template <typename Visit>
    void for_each(Visit&& visit) noexcept {
        for (std::size_t i = 0; i < N; ++i) {
            if (live_[i]) visit(storage_.items[i]);
        }
    }
    template <typename Visit>
    void for_each(Visit&& visit) const noexcept {
        for (std::size_t i = 0; i < N; ++i) {
            if (live_[i]) visit(static_cast<const T&>(storage_.items[i]));
        }
    }

private:
    union Storage {
        Storage() noexcept {}
        ~Storage() {}
        T items[N];
    };

    Storage storage_;
    std::array<Index, N> free_indices_{};
    std::size_t free_count_ = N;
    std::array<bool, N> live_{};
};

}  // namespace pinhole
