// Why an agent's exit refused a peer's connection, told to the peer in the RST|ACK itself:
// RFC 9293 §3.5.3 lets a reset carry diagnostic data, which every TCP ignores, so a stock
// WireGuard peer is unaffected while a pinhole node reads the agent's true outcome and tells a
// SOCKS5 client "not allowed" from "connection refused" (issue 7). The payload is ASCII:
//
//   pinhole/1 <reason>          reason: not_allowed | connection_refused | unreachable |
//                                        timed_out | busy
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/util/result.h"

namespace pinhole::overlay {

enum class Refusal : std::uint8_t {
    not_allowed,         // the agent's access list
    connection_refused,  // the destination answered RST
    unreachable,         // no route, or a name that did not resolve
    timed_out,           // the destination did not answer
    busy,                // every stream slot (or lwIP memory) in use
};

// The reset's payload for `refusal`.
[[nodiscard]] std::string_view refusal_payload(Refusal refusal) noexcept;
// The reason a reset's payload names; nullopt for any other payload (ordinary resets carry none).
[[nodiscard]] std::optional<Refusal> parse_refusal_payload(std::span<const std::uint8_t> payload) noexcept;
// How a failed real connect (port::Tcp's result) is told to the peer.
[[nodiscard]] Refusal refusal_for_connect_error(Errc error) noexcept;
// How the dialling side reports it: permission, refused, unreachable, timed_out, no_space.
[[nodiscard]] Errc dial_error_for(Refusal refusal) noexcept;

}  // namespace pinhole::overlay
