#include "core/overlay/refusal.h"

#include <array>

namespace pinhole::overlay {
namespace {

constexpr std::array<std::string_view, 5> payloads = {
    "pinhole/1 not_allowed", "pinhole/1 connection_refused", "pinhole/1 unreachable",
    "pinhole/1 timed_out",   "pinhole/1 busy",
};

}  // namespace

std::string_view refusal_payload(Refusal refusal) noexcept {
    const auto index = static_cast<std::size_t>(refusal);
    return index < payloads.size() ? payloads[index] : payloads[0];
}

std::optional<Refusal> parse_refusal_payload(std::span<const std::uint8_t> payload) noexcept {
    const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        if (text == payloads[i]) return static_cast<Refusal>(i);
    }
    return std::nullopt;
}

Refusal refusal_for_connect_error(Errc error) noexcept {
    switch (error) {
        case Errc::refused: return Refusal::connection_refused;
        case Errc::timed_out: return Refusal::timed_out;
        case Errc::no_space: return Refusal::busy;
        default: return Refusal::unreachable;
    }
}

Errc dial_error_for(Refusal refusal) noexcept {
    switch (refusal) {
        case Refusal::not_allowed: return Errc::permission;
        case Refusal::connection_refused: return Errc::refused;
        case Refusal::unreachable: return Errc::unreachable;
        case Refusal::timed_out: return Errc::timed_out;
        case Refusal::busy: return Errc::no_space;
    }
    return Errc::refused;
}

}  // namespace pinhole::overlay
