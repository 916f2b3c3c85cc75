// Converting between the core's endpoints and the kernel's socket addresses. IPv4 endpoints on
// a dual-stack IPv6 socket travel as v4-mapped addresses (::ffff:a.b.c.d) and come back as IPv4.
#pragma once

#include <sys/socket.h>

#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::posix {

// For a socket of `socket_family` (AF_INET or AF_INET6). Errc::unsupported for an IPv6
// endpoint on an IPv4 socket.
[[nodiscard]] Result<socklen_t> to_sockaddr(const net::Endpoint& endpoint, int socket_family,
                                            sockaddr_storage& out) noexcept;
[[nodiscard]] net::Endpoint from_sockaddr(const sockaddr_storage& address) noexcept;
// errno of a failed socket call, as the core's error vocabulary.
[[nodiscard]] Errc errc_from_errno(int error) noexcept;

}  // namespace pinhole::posix
