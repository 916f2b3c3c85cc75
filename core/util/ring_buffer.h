// Bounded FIFO queues in fixed storage: RingBuffer<T, N> for objects, ByteRing<N> for byte
// streams (TCP and relay buffering). Any capacity N >= 1 works: indices wrap with a compare,
// not a mask, so N need not be a power of two and budgets can be sized exactly.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "core/util/assert.h"
#include "core/util/result.h"

namespace pinhole {
namespace ring_detail {

// (index + step) mod n for index < n and step <= n.
constexpr std::size_t advance(std::size_t index, std::size_t step, std::size_t n) noexcept {
    const std::size_t sum = index + step;
    return sum >= n ? sum - n : sum;
}

}  // namespace ring_detail

template <typename T, std::size_t N>
class RingBuffer {
    static_assert(N > 0, "a RingBuffer needs room for at least one element");
    static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>);

public:
    RingBuffer() noexcept {}
    RingBuffer(const RingBuffer&) = delete;
    RingBuffer& operator=(const RingBuffer&) = delete;
    ~RingBuffer() { clear(); }

    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] bool full() const noexcept { return size_ == N; }

    // Appends at the back; Errc::no_space when full (the value is dropped).
    [[nodiscard]] Status push(T value) noexcept {
        if (full()) return Errc::no_space;
        T* slot = &storage_.items[ring_detail::advance(head_, size_, N)];
        ::new (static_cast<void*>(slot)) T(std::move(value));
        ++size_;
        return {};
    }
    // Takes from the front; nothing when empty.
    [[nodiscard]] std::optional<T> pop() noexcept {
        if (empty()) return std::nullopt;
        std::optional<T> value(std::move(storage_.items[head_]));
        drop_front();
        return value;
    }
    [[nodiscard]] T& front() noexcept {
        PINHOLE_ASSERT(!empty());
        return storage_.items[head_];
    }
    [[nodiscard]] const T& front() const noexcept {
        PINHOLE_ASSERT(!empty());
        return storage_.items[head_];
    }
    void clear() noexcept {
        for (std::size_t i = size_; i > 0; --i) drop_front();
        head_ = 0;
    }

private:
    union Storage {
        Storage() noexcept {}
        ~Storage() {}
        T items[N];
    };

    void drop_front() noexcept {
        storage_.items[head_].~T();
        head_ = ring_detail::advance(head_, 1, N);
        --size_;
    }

    Storage storage_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

// A byte FIFO. write() takes what fits; read()/peek() copy out; for zero-copy, readable_span()
// and writable_span() expose the contiguous regions, with discard() and commit_write() to
// consume and produce in place. When it empties, it rewinds to the start so the next writes
// are contiguous (a whole packet can then be read in place).
template <std::size_t N>
class ByteRing {
    static_assert(N > 0, "a ByteRing needs room for at least one byte");

public:
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    [[nodiscard]] std::size_t readable_bytes() const noexcept { return size_; }
    [[nodiscard]] std::size_t writable_bytes() const noexcept { return N - size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] bool full() const noexcept { return size_ == N; }

    // Appends as many bytes as fit; returns how many were taken.
    std::size_t write(std::span<const std::uint8_t> bytes) noexcept {
        const std::size_t total = std::min(bytes.size(), writable_bytes());
        std::size_t taken = 0;
        for (int region = 0; region < 2 && taken < total; ++region) {  // before and after the wrap
            const std::span<std::uint8_t> free = writable_span();
            const std::size_t chunk = std::min(free.size(), total - taken);
            std::copy_n(bytes.data() + taken, chunk, free.data());
            size_ += chunk;
            taken += chunk;
        }
        return taken;
    }
    // Copies up to out.size() bytes from the front without consuming them; returns how many.
    [[nodiscard]] std::size_t peek(std::span<std::uint8_t> out) const noexcept {
        const std::size_t total = std::min(out.size(), size_);
        const std::size_t first = std::min(total, N - head_);
        std::copy_n(bytes_.data() + head_, first, out.data());
        std::copy_n(bytes_.data(), total - first, out.data() + first);
        return total;
    }
    // Copies out and consumes up to out.size() bytes; returns how many.
    std::size_t read(std::span<std::uint8_t> out) noexcept {
        const std::size_t count = peek(out);
        discard(count);
        return count;
    }
    // Consumes `count` readable bytes (no more than readable_bytes()).
    void discard(std::size_t count) noexcept {
        PINHOLE_ASSERT(count <= size_);
        head_ = ring_detail::advance(head_, count, N);
        size_ -= count;
        if (size_ == 0) head_ = 0;
    }
    void clear() noexcept {
        head_ = 0;
        size_ = 0;
    }

    // The readable bytes that sit in one piece from the front (all of them unless they wrap).
    [[nodiscard]] std::span<const std::uint8_t> readable_span() const noexcept {
        return {bytes_.data() + head_, std::min(size_, N - head_)};
    }
    // Free space in one piece after the last byte; fill it, then commit_write() what was used.
    [[nodiscard]] std::span<std::uint8_t> writable_span() noexcept {
        const std::size_t end = head_ + size_;
        if (end < N) return {bytes_.data() + end, N - end};
        return {bytes_.data() + (end - N), head_ - (end - N)};
    }
    // Makes `count` bytes just written into writable_span() readable.
    void commit_write(std::size_t count) noexcept {
        PINHOLE_ASSERT(count <= writable_span().size());
        size_ += count;
    }

private:
    std::array<std::uint8_t, N> bytes_{};
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace pinhole
