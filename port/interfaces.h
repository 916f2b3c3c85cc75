// The machine's own addresses: LAN candidates for hole punching.
#pragma once

#include <cstddef>
#include <span>

#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::port {

class Interfaces {
public:
    // Up, non-loopback unicast addresses, at most out.size() of them; returns how many.
    [[nodiscard]] virtual Result<std::size_t> local_addresses(
        std::span<net::IpAddress> out) noexcept = 0;

protected:
    ~Interfaces() = default;
};

}  // namespace pinhole::port
