// Errors are values: every fallible call returns a Result<T> (or Status) that must be used.
// One error vocabulary for the whole core keeps callers' switch statements short; a module
// that needs finer reasons counts them itself (see the counters of each parser).
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "core/util/assert.h"

namespace pinhole {

enum class Errc : std::uint8_t {
    ok = 0,
    invalid_argument,   // a caller passed something out of contract (length, range, format)
    malformed,          // input from outside (network, file) failed to parse
    no_space,           // a fixed-capacity table, pool or buffer is full
    would_block,        // try again when the port signals readiness
    not_found,
    already_exists,
    timed_out,
    refused,            // connection refused, or denied by policy
    unreachable,        // no route / host unreachable
    closed,             // the peer or the port closed the resource
    io,                 // the platform reported an I/O failure
    permission,         // e.g. a key file others can read
    authentication,     // a MAC or AEAD tag did not verify
    weak_key,           // an all-zero X25519 result and its kin
    unsupported,        // this port or board does not offer the operation
};

[[nodiscard]] const char* describe(Errc error) noexcept;

template <typename T>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit by design
        : value_(std::move(value)), error_(Errc::ok) {}
    constexpr Result(Errc error) noexcept : empty_{}, error_(error) {  // NOLINT: implicit by design
        PINHOLE_ASSERT(error != Errc::ok);
    }
    constexpr Result(const Result& other) noexcept(std::is_nothrow_copy_constructible_v<T>)
        : empty_{}, error_(other.error_) {
        if (other.ok()) new (&value_) T(other.value_);
    }
    constexpr ~Result() {
        if (ok()) value_.~T();
    }
    constexpr Result& operator=(const Result& other) noexcept(std::is_nothrow_copy_constructible_v<T>) {
        if (this == &other) return *this;
        if (ok()) value_.~T();
        error_ = other.error_;
        if (other.ok()) new (&value_) T(other.value_);
        return *this;
    }

    [[nodiscard]] constexpr bool ok() const noexcept { return error_ == Errc::ok; }
    [[nodiscard]] constexpr Errc error() const noexcept { return error_; }
    [[nodiscard]] constexpr T& value() noexcept {
        PINHOLE_ASSERT(ok());
        return value_;
    }
    [[nodiscard]] constexpr const T& value() const noexcept {
        PINHOLE_ASSERT(ok());
        return value_;
    }

private:
    struct Empty {};
    union {
        T value_;
        Empty empty_;
    };
    Errc error_;
};

// The result of an operation that yields nothing but success or an error.
class [[nodiscard]] Status {
public:
    constexpr Status() noexcept : error_(Errc::ok) {}
    constexpr Status(Errc error) noexcept : error_(error) {}  // NOLINT: implicit by design
    [[nodiscard]] constexpr bool ok() const noexcept { return error_ == Errc::ok; }
    [[nodiscard]] constexpr Errc error() const noexcept { return error_; }

private:
    Errc error_;
};

}  // namespace pinhole
