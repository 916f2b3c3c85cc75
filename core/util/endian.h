// Little- and big-endian loads and stores of 16/32/64-bit integers, byte by byte: no alignment
// needed, no type punning, the same result on every host; compilers fold them into single
// loads where the target allows. The pointer forms read or write exactly 2, 4 or 8 bytes; the
// span forms assert the span is long enough (a short span is the caller's bug: lengths of
// input are checked before fields are read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/util/assert.h"

namespace pinhole {
namespace endian_detail {

template <typename T>
constexpr T load_le(const std::uint8_t* bytes) noexcept {
    T value = 0;
    for (std::size_t i = sizeof(T); i > 0; --i) value = static_cast<T>(value << 8 | bytes[i - 1]);
    return value;
}

template <typename T>
constexpr T load_be(const std::uint8_t* bytes) noexcept {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) value = static_cast<T>(value << 8 | bytes[i]);
    return value;
}

template <typename T>
constexpr void store_le(std::uint8_t* out, T value) noexcept {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out[i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

template <typename T>
constexpr void store_be(std::uint8_t* out, T value) noexcept {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out[i] = static_cast<std::uint8_t>(value >> (8 * (sizeof(T) - 1 - i)));
    }
}

template <typename T>
constexpr const std::uint8_t* checked(std::span<const std::uint8_t> bytes) noexcept {
    PINHOLE_ASSERT(bytes.size() >= sizeof(T));
    return bytes.data();
}

template <typename T>
constexpr std::uint8_t* checked(std::span<std::uint8_t> out) noexcept {
    PINHOLE_ASSERT(out.size() >= sizeof(T));
    return out.data();
}

}  // namespace endian_detail

// Loads and stores through pointers to at least 2, 4 or 8 bytes.
constexpr std::uint16_t load_le16(const std::uint8_t* bytes) noexcept {
    return endian_detail::load_le<std::uint16_t>(bytes);
}
constexpr std::uint32_t load_le32(const std::uint8_t* bytes) noexcept {
    return endian_detail::load_le<std::uint32_t>(bytes);
}
constexpr std::uint64_t load_le64(const std::uint8_t* bytes) noexcept {
    return endian_detail::load_le<std::uint64_t>(bytes);
}
constexpr std::uint16_t load_be16(const std::uint8_t* bytes) noexcept {
    return endian_detail::load_be<std::uint16_t>(bytes);
}
constexpr std::uint32_t load_be32(const std::uint8_t* bytes) noexcept {
    return endian_detail::load_be<std::uint32_t>(bytes);
}
constexpr std::uint64_t load_be64(const std::uint8_t* bytes) noexcept {
    return endian_detail::load_be<std::uint64_t>(bytes);
}
constexpr void store_le16(std::uint8_t* out, std::uint16_t value) noexcept {
    endian_detail::store_le(out, value);
}
constexpr void store_le32(std::uint8_t* out, std::uint32_t value) noexcept {
    endian_detail::store_le(out, value);
}
constexpr void store_le64(std::uint8_t* out, std::uint64_t value) noexcept {
    endian_detail::store_le(out, value);
}
constexpr void store_be16(std::uint8_t* out, std::uint16_t value) noexcept {
    endian_detail::store_be(out, value);
}
constexpr void store_be32(std::uint8_t* out, std::uint32_t value) noexcept {
    endian_detail::store_be(out, value);
}
constexpr void store_be64(std::uint8_t* out, std::uint64_t value) noexcept {
    endian_detail::store_be(out, value);
}

// The same on spans, from their first bytes, with the length asserted.
constexpr std::uint16_t load_le16(std::span<const std::uint8_t> bytes) noexcept {
    return load_le16(endian_detail::checked<std::uint16_t>(bytes));
}
constexpr std::uint32_t load_le32(std::span<const std::uint8_t> bytes) noexcept {
    return load_le32(endian_detail::checked<std::uint32_t>(bytes));
}
constexpr std::uint64_t load_le64(std::span<const std::uint8_t> bytes) noexcept {
    return load_le64(endian_detail::checked<std::uint64_t>(bytes));
}
constexpr std::uint16_t load_be16(std::span<const std::uint8_t> bytes) noexcept {
    return load_be16(endian_detail::checked<std::uint16_t>(bytes));
}
constexpr std::uint32_t load_be32(std::span<const std::uint8_t> bytes) noexcept {
    return load_be32(endian_detail::checked<std::uint32_t>(bytes));
}
constexpr std::uint64_t load_be64(std::span<const std::uint8_t> bytes) noexcept {
    return load_be64(endian_detail::checked<std::uint64_t>(bytes));
}
constexpr void store_le16(std::span<std::uint8_t> out, std::uint16_t value) noexcept {
    store_le16(endian_detail::checked<std::uint16_t>(out), value);
}
constexpr void store_le32(std::span<std::uint8_t> out, std::uint32_t value) noexcept {
    store_le32(endian_detail::checked<std::uint32_t>(out), value);
}
constexpr void store_le64(std::span<std::uint8_t> out, std::uint64_t value) noexcept {
    store_le64(endian_detail::checked<std::uint64_t>(out), value);
}
constexpr void store_be16(std::span<std::uint8_t> out, std::uint16_t value) noexcept {
    store_be16(endian_detail::checked<std::uint16_t>(out), value);
}
constexpr void store_be32(std::span<std::uint8_t> out, std::uint32_t value) noexcept {
    store_be32(endian_detail::checked<std::uint32_t>(out), value);
}
constexpr void store_be64(std::span<std::uint8_t> out, std::uint64_t value) noexcept {
    store_be64(endian_detail::checked<std::uint64_t>(out), value);
}

}  // namespace pinhole
