// An invite: what a client pastes to trust an agent. One line of text,
//   pinhole-invite/1 key=<agent public key> address=<overlay IPv6>
//                    [gateway=<url> gateway_key=<gateway public key> [cert_sha256=<hex>]]
// The client pins the agent's key from it; the gateway can never substitute one. The address
// is redundant (it derives from the key) and is checked on reading, which catches a mangled
// paste.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "core/keys/keys.h"
#include "core/util/result.h"

namespace pinhole::keys {

inline constexpr char invite_tag[] = "pinhole-invite/1";
inline constexpr std::size_t max_gateway_url_bytes = 255;
inline constexpr std::size_t cert_sha256_bytes = 32;
// The longest invite line, with its NUL.
inline constexpr std::size_t invite_text_bytes = 512;

struct Invite {
    X25519Key public_key{};
    bool has_gateway = false;
    std::array<char, max_gateway_url_bytes + 1> gateway_url{};  // NUL-terminated
    X25519Key gateway_public_key{};
    bool has_cert_sha256 = false;
    std::array<std::uint8_t, cert_sha256_bytes> cert_sha256{};

    [[nodiscard]] std::string_view gateway_url_text() const noexcept {
        return std::string_view(gateway_url.data());
    }
};

// The gateway part is optional; a URL longer than max_gateway_url_bytes is invalid_argument.
[[nodiscard]] Status set_gateway(Invite& invite, std::string_view url,
                                 const X25519Key& gateway_public_key) noexcept;

// The transport certificate's pin: 64 hex digits; needs a gateway. Errc::malformed otherwise.
[[nodiscard]] Status set_cert_sha256(Invite& invite, std::string_view hex) noexcept;

// Writes the invite line and a NUL; returns its length.
[[nodiscard]] Result<std::size_t> format_invite(const Invite& invite, std::span<char> out) noexcept;
// Reads an invite line (surrounding whitespace ignored). Errc::malformed for a wrong tag, an
// unknown or repeated field, a bad key, an address that does not match the key, a gateway
// without its key (or the reverse), or a certificate pin without a gateway.
[[nodiscard]] Result<Invite> parse_invite(std::string_view text) noexcept;

}  // namespace pinhole::keys
