// Helpers for std::string_view that cannot throw. std::string_view::substr throws
// std::out_of_range, and on bare metal that one reference links libstdc++'s exception
// machinery into the firmware (the no-heap check rejects it): core code slices with these.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "core/util/assert.h"

namespace pinhole {

// Up to `length` characters of `text` from `start` (which must be <= text.size(): asserted).
[[nodiscard]] constexpr std::string_view substring(
    std::string_view text, std::size_t start,
    std::size_t length = std::string_view::npos) noexcept {
    PINHOLE_ASSERT(start <= text.size());
    return {text.data() + start, std::min(length, text.size() - start)};
}

// Whether `text` begins with `prefix` (std::string_view::starts_with slices with substr).
[[nodiscard]] constexpr bool starts_with(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && std::string_view(text.data(), prefix.size()) == prefix;
}

}  // namespace pinhole
