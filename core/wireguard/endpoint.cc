#include "core/wireguard/endpoint.h"

#include "core/util/time.h"

namespace pinhole::wireguard {

Endpoint Endpoint::direct(const net::Endpoint& address) noexcept {
    Endpoint endpoint;
    endpoint.kind = Kind::udp;
    endpoint.udp = address;
    return endpoint;
}

Endpoint Endpoint::relay(const crypto::X25519Key& gateway, const crypto::X25519Key& peer) noexcept {
    Endpoint endpoint;
    endpoint.kind = Kind::relay;
    endpoint.relay_gateway = gateway;
    endpoint.relay_peer = peer;
    return endpoint;
}

bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case Endpoint::Kind::none: return true;
        case Endpoint::Kind::udp: return a.udp == b.udp;
        case Endpoint::Kind::relay:
            return a.relay_gateway == b.relay_gateway && a.relay_peer == b.relay_peer;
    }
    return false;
}

void EndpointTracker::set_configured(const Endpoint& endpoint) noexcept {
    current_ = endpoint;
    direct_heard_ = false;
}

bool EndpointTracker::direct_validated(std::uint32_t now_ms) const noexcept {
    return current_.kind == Endpoint::Kind::udp && direct_heard_ &&
           elapsed_ms(now_ms, last_direct_ms_) < direct_validity_ms_;
}

bool EndpointTracker::on_authenticated_packet(const Endpoint& source, std::uint32_t now_ms) noexcept {
    switch (source.kind) {
        case Endpoint::Kind::none: return false;
        case Endpoint::Kind::relay:
            // The refinement: a relay packet never demotes a direct path that is alive.
            if (direct_validated(now_ms)) return false;
            break;
        case Endpoint::Kind::udp:
            last_direct_ms_ = now_ms;
            direct_heard_ = true;
            break;
    }
    if (source == current_) return false;
    current_ = source;
    return true;
}

}  // namespace pinhole::wireguard
