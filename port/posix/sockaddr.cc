#include "port/posix/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

namespace pinhole::posix {
namespace {

constexpr std::uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

Result<socklen_t> to_sockaddr(const net::Endpoint& endpoint, int socket_family,
                              sockaddr_storage& out) noexcept {
    std::memset(&out, 0, sizeof out);
    if (socket_family == AF_INET) {
        if (endpoint.address.is_v6()) return Errc::unsupported;
        auto& in4 = reinterpret_cast<sockaddr_in&>(out);
        in4.sin_family = AF_INET;
        in4.sin_port = htons(endpoint.port);
        std::memcpy(&in4.sin_addr, endpoint.address.bytes.data(), 4);  // none: INADDR_ANY
        return static_cast<socklen_t>(sizeof in4);
    }
    auto& in6 = reinterpret_cast<sockaddr_in6&>(out);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(endpoint.port);
    if (endpoint.address.is_v4()) {
        std::memcpy(in6.sin6_addr.s6_addr, v4_mapped_prefix, sizeof v4_mapped_prefix);
        std::memcpy(in6.sin6_addr.s6_addr + 12, endpoint.address.bytes.data(), 4);
    } else {
        std::memcpy(in6.sin6_addr.s6_addr, endpoint.address.bytes.data(), 16);  // none: ::
    }
    return static_cast<socklen_t>(sizeof in6);
}

net::Endpoint from_sockaddr(const sockaddr_storage& address) noexcept {
    net::Endpoint endpoint;
    if (address.ss_family == AF_INET) {
        const auto& in4 = reinterpret_cast<const sockaddr_in&>(address);
        endpoint.address.family = net::Family::v4;
        std::memcpy(endpoint.address.bytes.data(), &in4.sin_addr, 4);
        endpoint.port = ntohs(in4.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
        const std::uint8_t* bytes = in6.sin6_addr.s6_addr;
        if (std::memcmp(bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
            endpoint.address.family = net::Family::v4;
            std::memcpy(endpoint.address.bytes.data(), bytes + 12, 4);
        } else {
            endpoint.address.family = net::Family::v6;
            std::memcpy(endpoint.address.bytes.data(), bytes, 16);
        }
        endpoint.port = ntohs(in6.sin6_port);
    }
    return endpoint;
}

Errc errc_from_errno(int error) noexcept {
    switch (error) {
        case EAGAIN: return Errc::would_block;
        case ECONNREFUSED: return Errc::refused;
        case ENETUNREACH:
        case EHOSTUNREACH:
        case EADDRNOTAVAIL: return Errc::unreachable;
        case ETIMEDOUT: return Errc::timed_out;
        case ECONNRESET:
        case EPIPE:
        case ENOTCONN: return Errc::closed;
        case EACCES:
        case EPERM: return Errc::permission;
        case EADDRINUSE: return Errc::already_exists;
        case ENOBUFS:
        case ENOMEM:
        case EMFILE:
        case ENFILE: return Errc::no_space;
        case EAFNOSUPPORT: return Errc::unsupported;
        default: return Errc::io;
    }
}

}  // namespace pinhole::posix
