#include "port/posix/udp.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {
namespace {

constexpr int socket_buffer_bytes = 4 * 1024 * 1024;

}  // namespace

PosixUdp::~PosixUdp() {
    for (std::size_t i = 0; i < sockets_.size(); i++) {
        if (sockets_[i].fd >= 0) close(static_cast<port::UdpSocketId>(i));
    }
}

PosixUdp::Socket* PosixUdp::lookup(port::UdpSocketId socket) noexcept {
    if (socket >= sockets_.size() || sockets_[socket].fd < 0) return nullptr;
    return &sockets_[socket];
}

Result<port::UdpSocketId> PosixUdp::open(const net::Endpoint& local,
                                         port::UdpReceiver& receiver) noexcept {
    std::size_t index = 0;
    while (index < sockets_.size() && sockets_[index].fd >= 0) index++;
    if (index == sockets_.size()) return Errc::no_space;

    const int family = local.address.is_v4() ? AF_INET : AF_INET6;
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errc_from_errno(errno);
    if (family == AF_INET6) {
        const int v6_only = local.address.is_v6() ? 1 : 0;  // "any" serves IPv4 too
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only);
    }
    // A tunnel's bursts (a whole TCP window of datagrams) overflow the default ~208 KiB
    // buffers; the kernel caps these at net.core.[rw]mem_max unless we are privileged.
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
    sockaddr_storage address;
    const Result<socklen_t> length = to_sockaddr(local, family, address);
    if (!length.ok() || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length.value()) != 0) {
        const Errc error = length.ok() ? errc_from_errno(errno) : length.error();
        ::close(fd);
        return error;
    }
    sockets_[index] = Socket{fd, family, &receiver};
    const Status watched = loop_.watch(fd, EPOLLIN, *this);
    if (!watched.ok()) {
        sockets_[index] = Socket{};
        ::close(fd);
        return watched.error();
    }
    return static_cast<port::UdpSocketId>(index);
}

Result<net::Endpoint> PosixUdp::local_endpoint(port::UdpSocketId socket) noexcept {
    Socket* entry = lookup(socket);
    if (entry == nullptr) return Errc::invalid_argument;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(entry->fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return errc_from_errno(errno);
    }
    return from_sockaddr(address);
}

Status PosixUdp::send(port::UdpSocketId socket, const net::Endpoint& to,
                      std::span<const std::uint8_t> payload) noexcept {
    Socket* entry = lookup(socket);
    if (entry == nullptr) return Errc::invalid_argument;
    sockaddr_storage address;
    const Result<socklen_t> length = to_sockaddr(to, entry->family, address);
    if (!length.ok()) return length.error();
    const ssize_t sent = ::sendto(entry->fd, payload.data(), payload.size(), 0,
                                  reinterpret_cast<const sockaddr*>(&address), length.value());
    if (sent < 0) return errc_from_errno(errno);
    return {};
}

void PosixUdp::close(port::UdpSocketId socket) noexcept {
    Socket* entry = lookup(socket);
    if (entry == nullptr) return;
    loop_.unwatch(entry->fd);
    ::close(entry->fd);
    *entry = Socket{};
}

void PosixUdp::on_fd_events(int fd, std::uint32_t) noexcept {
    std::size_t index = 0;
    while (index < sockets_.size() && sockets_[index].fd != fd) index++;
    if (index == sockets_.size()) return;
    // Level-triggered: what is left after this budget is reported again on the next wait.
    for (int taken = 0; taken < max_datagrams_per_wake; taken++) {
        sockaddr_storage from{};
        socklen_t from_length = sizeof from;
        const ssize_t received =
            ::recvfrom(fd, receive_buffer_.data(), receive_buffer_.size(), 0,
                       reinterpret_cast<sockaddr*>(&from), &from_length);
        if (received < 0) return;  // EAGAIN, or an ICMP error surfaced on this socket
        sockets_[index].receiver->on_datagram(
            static_cast<port::UdpSocketId>(index), from_sockaddr(from),
            std::span<const std::uint8_t>(receive_buffer_.data(), static_cast<std::size_t>(received)));
        if (sockets_[index].fd != fd) return;  // the receiver closed the socket
    }
}

}  // namespace pinhole::posix
