// A vector with its capacity fixed at compile time and its storage inline: no heap. Elements
// live in uninitialised storage and are constructed and destroyed one by one, so T need not be
// default-constructible. Indexing is bounds-checked in every build (PINHOLE_ASSERT).
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "core/util/assert.h"
#include "core/util/result.h"

namespace pinhole {

template <typename T, std::size_t N>
class FixedVector {
    static_assert(N > 0, "a FixedVector needs room for at least one element");
    static_assert(std::is_nothrow_destructible_v<T>);

public:
    using value_type = T;
    using iterator = T*;
    using const_iterator = const T*;

    FixedVector() noexcept {}
    FixedVector(const FixedVector& other) noexcept : FixedVector() { append_all(other); }
    // A moved-from vector is left empty.
    FixedVector(FixedVector&& other) noexcept : FixedVector() {
        append_all(std::move(other));
        other.clear();
    }
    FixedVector& operator=(const FixedVector& other) noexcept {
        if (this != &other) {
            clear();
            append_all(other);
        }
        return *this;
    }
    FixedVector& operator=(FixedVector&& other) noexcept {
        if (this != &other) {
            clear();
            append_all(std::move(other));
            other.clear();
        }
        return *this;
    }
    ~FixedVector() { clear(); }

    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] bool full() const noexcept { return size_ == N; }

    [[nodiscard]] Status push_back(const T& value) noexcept { return emplace_back(value); }
    [[nodiscard]] Status push_back(T&& value) noexcept { return emplace_back(std::move(value)); }
    template <typename... Args>
    [[nodiscard]] Status emplace_back(Args&&... args) noexcept {
        if (full()) return Errc::no_space;
        ::new (static_cast<void*>(&storage_.items[size_])) T(std::forward<Args>(args)...);
        ++size_;
        return {};
    }

    void pop_back() noexcept {
        PINHOLE_ASSERT(!empty());
        --size_;
        storage_.items[size_].~T();
    }
    // O(1): the last element takes the erased one's place.
    void erase_unordered(std::size_t index) noexcept {
        PINHOLE_ASSERT(index < size_);
        if (index != size_ - 1) storage_.items[index] = std::move(storage_.items[size_ - 1]);
        pop_back();
    }
    // O(size): the elements after `index` move down one place, keeping their order.
    void erase(std::size_t index) noexcept {
        PINHOLE_ASSERT(index < size_);
        for (std::size_t i = index; i + 1 < size_; ++i) {
            storage_.items[i] = std::move(storage_.items[i + 1]);
        }
        pop_back();
    }
    void clear() noexcept {
        for (std::size_t i = size_; i > 0; --i) storage_.items[i - 1].~T();
        size_ = 0;
    }

    [[nodiscard]] T& operator[](std::size_t index) noexcept {
        PINHOLE_ASSERT(index < size_);
        return storage_.items[index];
    }
    [[nodiscard]] const T& operator[](std::size_t index) const noexcept {
        PINHOLE_ASSERT(index < size_);
        return storage_.items[index];
    }
    [[nodiscard]] T& front() noexcept { return (*this)[0]; }
    [[nodiscard]] const T& front() const noexcept { return (*this)[0]; }
    [[nodiscard]] T& back() noexcept {
        PINHOLE_ASSERT(!empty());
        return storage_.items[size_ - 1];
    }
    [[nodiscard]] const T& back() const noexcept {
        PINHOLE_ASSERT(!empty());
        return storage_.items[size_ - 1];
    }

    [[nodiscard]] T* data() noexcept { return storage_.items; }
    [[nodiscard]] const T* data() const noexcept { return storage_.items; }
    [[nodiscard]] iterator begin() noexcept { return storage_.items; }
    [[nodiscard]] iterator end() noexcept { return storage_.items + size_; }
    [[nodiscard]] const_iterator begin() const noexcept { return storage_.items; }
    [[nodiscard]] const_iterator end() const noexcept { return storage_.items + size_; }
    [[nodiscard]] std::span<T> span() noexcept { return {storage_.items, size_}; }
    [[nodiscard]] std::span<const T> span() const noexcept { return {storage_.items, size_}; }

private:
    // A union member is not constructed or destroyed implicitly: the vector does it per element.
    union Storage {
        Storage() noexcept {}
        ~Storage() {}
        T items[N];
    };

    template <typename Source>
    void append_all(Source&& other) noexcept {
        for (std::size_t i = 0; i < other.size_; ++i) {
            void* slot = &storage_.items[i];
            if constexpr (std::is_rvalue_reference_v<Source&&>) {
                ::new (slot) T(std::move(other.storage_.items[i]));
            } else {
                ::new (slot) T(other.storage_.items[i]);
            }
        }
        size_ = other.size_;
    }

    Storage storage_;
    std::size_t size_ = 0;
};

}  // namespace pinhole
