// A peer's endpoint (DESIGN §1 Paths): a UDP address (IPv4 or IPv6) or relay(gateway, key),
// the peer reached through the gateway's relay channel. `EndpointTracker` applies WireGuard's
// roaming rule (the endpoint follows the source of every authenticated packet) with one
// refinement: a packet that came through the relay never replaces a *validated* direct
// endpoint. A direct endpoint is validated while an authenticated packet arrived from it
// within `direct_validity_ms` (default KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = 15 s: the silence
// after which WireGuard itself concludes a session stopped answering and starts a new
// handshake). A relay packet that arrives late (queued in the gateway while the direct path
// took over) thus cannot pull traffic back to the slower path; once the direct path has been
// quiet that long, the relay wins again.
#pragma once

#include <cstdint>

#include "core/crypto/x25519.h"
#include "core/net/address.h"
#include "core/wireguard/constants.h"

namespace pinhole::wireguard {

struct Endpoint {
    enum class Kind : std::uint8_t { none, udp, relay };
    Kind kind = Kind::none;
    net::Endpoint udp{};                // Kind::udp
    crypto::X25519Key relay_gateway{};  // Kind::relay: the gateway's key
    crypto::X25519Key relay_peer{};     // Kind::relay: the peer's key at that gateway

    [[nodiscard]] static Endpoint direct(const net::Endpoint& address) noexcept;
    [[nodiscard]] static Endpoint relay(const crypto::X25519Key& gateway,
                                        const crypto::X25519Key& peer) noexcept;
    // Only the fields of the kind are compared (keys are public: no constant time needed).
    friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept;
};

class EndpointTracker {
public:
    static constexpr std::uint32_t default_direct_validity_ms =
        keepalive_timeout_ms + rekey_timeout_ms;

    explicit EndpointTracker(std::uint32_t direct_validity_ms = default_direct_validity_ms) noexcept
        : direct_validity_ms_(direct_validity_ms) {}

    // The configured endpoint (from config or an invite), the starting point; it is not
    // validated until an authenticated packet arrives from it.
    void set_configured(const Endpoint& endpoint) noexcept;
    // Call for every authenticated packet (handshake or data) with the source it came from.
    // Returns true when the current endpoint changed.
    bool on_authenticated_packet(const Endpoint& source, std::uint32_t now_ms) noexcept;
    [[nodiscard]] const Endpoint& current() const noexcept { return current_; }
    // The current endpoint is direct and heard from within direct_validity_ms.
    [[nodiscard]] bool direct_validated(std::uint32_t now_ms) const noexcept;

private:
    Endpoint current_{};
    std::uint32_t direct_validity_ms_;
    std::uint32_t last_direct_ms_ = 0;  // the last authenticated packet from current_ (udp)
    bool direct_heard_ = false;         // last_direct_ms_ is meaningful
};

}  // namespace pinhole::wireguard
