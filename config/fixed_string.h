// Text with its capacity fixed at compile time and its storage inline: no heap, so a config can
// live in a firmware image as a constant. Always NUL-terminated for C interfaces (paths).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "core/util/result.h"

namespace pinhole::config {

template <std::size_t N>
class FixedString {
public:
    // Errc::no_space when `text` is longer than N; the string is then left unchanged. The
    // caller keeps NUL out of `text` (the loader refuses control characters).
    [[nodiscard]] constexpr Status assign(std::string_view text) noexcept {
        if (text.size() > N) return Errc::no_space;
        for (std::size_t i = 0; i <= N; ++i) chars_[i] = i < text.size() ? text[i] : '\0';
        length_ = text.size();
        return {};
    }

    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars_.data(), length_};
    }
    [[nodiscard]] constexpr const char* c_str() const noexcept { return chars_.data(); }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return length_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return length_ == 0; }

    friend constexpr bool operator==(const FixedString& a, const FixedString& b) noexcept {
        return a.view() == b.view();
    }

private:
    std::array<char, N + 1> chars_{};
    std::size_t length_ = 0;
};

}  // namespace pinhole::config
