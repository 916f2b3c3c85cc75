#include "port/posix/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {
namespace {

constexpr std::uint32_t watched_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

PosixTcp::~PosixTcp() {
    for (std::size_t i = 0; i < connections_.size(); i++) {
        if (connections_[i].fd >= 0) close(static_cast<port::TcpConnectionId>(i), false);
    }
}

PosixTcp::Connection* PosixTcp::lookup(port::TcpConnectionId id) noexcept {
    if (id >= connections_.size() || connections_[id].fd < 0) return nullptr;
    return &connections_[id];
}

Result<port::TcpConnectionId> PosixTcp::connect(const net::Endpoint& to,
                                                port::TcpEvents& events) noexcept {
    std::size_t index = 0;
    while (index < connections_.size() && connections_[index].fd >= 0) index++;
    if (index == connections_.size()) return Errc::no_space;

    const int family = to.address.is_v4() ? AF_INET : AF_INET6;
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errc_from_errno(errno);
    const int no_delay = 1;  // the core sends whole records; Nagle only adds latency
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
    sockaddr_storage address;
    const Result<socklen_t> length = to_sockaddr(to, family, address);
    int result = -1;
    if (length.ok()) {
        result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), length.value());
    }
    if (!length.ok() || (result != 0 && errno != EINPROGRESS)) {
        const Errc error = length.ok() ? errc_from_errno(errno) : length.error();
        ::close(fd);
        return error;
    }
    connections_[index] = Connection{fd, false, &events};
    const Status watched = loop_.watch(fd, watched_events, *this);
    if (!watched.ok()) {
        connections_[index] = Connection{};
        ::close(fd);
        return watched.error();
    }
    // Even an immediate success (loopback) is reported from the loop, like every other outcome,
    // so the caller never sees a callback before connect() has returned.
    return static_cast<port::TcpConnectionId>(index);
}

Result<std::size_t> PosixTcp::read(port::TcpConnectionId id, std::span<std::uint8_t> out) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || !connection->connected) return Errc::invalid_argument;
    const ssize_t received = ::recv(connection->fd, out.data(), out.size(), 0);
    if (received < 0) return errc_from_errno(errno);
    return static_cast<std::size_t>(received);
}

Result<std::size_t> PosixTcp::write(port::TcpConnectionId id,
                                    std::span<const std::uint8_t> bytes) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || !connection->connected) return Errc::invalid_argument;
    const ssize_t sent = ::send(connection->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) return errc_from_errno(errno);
    return static_cast<std::size_t>(sent);
}

Status PosixTcp::shutdown_write(port::TcpConnectionId id) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || !connection->connected) return Errc::invalid_argument;
    return ::shutdown(connection->fd, SHUT_WR) == 0 ? Status{} : Status{errc_from_errno(errno)};
}

void PosixTcp::close(port::TcpConnectionId id, bool reset) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr) return;
    if (reset) {  // a zero linger time makes close() send RST and drop unsent bytes
        const linger abort_on_close{1, 0};
        (void)setsockopt(connection->fd, SOL_SOCKET, SO_LINGER, &abort_on_close,
                         sizeof abort_on_close);
    }
    loop_.unwatch(connection->fd);
    ::close(connection->fd);
    *connection = Connection{};
}

void PosixTcp::fail(port::TcpConnectionId id, Errc reason) noexcept {
    port::TcpEvents* events = connections_[id].events;
    const bool was_connected = connections_[id].connected;
    close(id, false);
    if (was_connected) {
        events->on_closed(id, reason);
    } else {
        events->on_connected(id, reason);
    }
}

void PosixTcp::finish_connect(port::TcpConnectionId id) noexcept {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(connections_[id].fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
        fail(id, errc_from_errno(error));
        return;
    }
    connections_[id].connected = true;
    connections_[id].events->on_connected(id, Errc::ok);
}

void PosixTcp::on_fd_events(int fd, std::uint32_t events) noexcept {
    std::size_t index = 0;
    while (index < connections_.size() && connections_[index].fd != fd) index++;
    if (index == connections_.size()) return;
    const auto id = static_cast<port::TcpConnectionId>(index);
    if (!connections_[index].connected) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        finish_connect(id);
        // Edge-triggered: bytes that arrived with the connect are reported now or never.
        if (connections_[index].fd != fd || !connections_[index].connected) return;
        events &= ~static_cast<std::uint32_t>(EPOLLOUT);  // on_connected implies writable
    }
    port::TcpEvents* handler = connections_[index].events;
    if ((events & EPOLLERR) != 0) {
        int error = 0;
        socklen_t length = sizeof error;
        (void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        fail(id, error != 0 ? errc_from_errno(error) : Errc::closed);
        return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0) handler->on_readable(id);
    if (connections_[index].fd == fd && (events & EPOLLOUT) != 0) handler->on_writable(id);
}

}  // namespace pinhole::posix
