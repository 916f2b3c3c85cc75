#include "port/posix/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {
namespace {

constexpr std::uint32_t watched_events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

PosixTcp::~PosixTcp() {
    for (std::size_t i = 0; i < listeners_.size(); i++) close_listener(static_cast<port::TcpListenerId>(i));
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
    const Result<port::TcpConnectionId> added = add_connection(fd, false, &events);
    if (!added.ok()) return added.error();
    // Even an immediate success (loopback) is reported from the loop, like every other outcome,
    // so the caller never sees a callback before connect() has returned.
    return added.value();
}

// Registers an open fd; closes it on failure.
Result<port::TcpConnectionId> PosixTcp::add_connection(int fd, bool connected,
                                                       port::TcpEvents* events) noexcept {
    std::size_t index = 0;
    while (index < connections_.size() && connections_[index].fd >= 0) index++;
    if (index == connections_.size()) {
        ::close(fd);
        return Errc::no_space;
    }
    connections_[index] = Connection{fd, connected, events};
    const Status watched = loop_.watch(fd, watched_events, *this);
    if (!watched.ok()) {
        connections_[index] = Connection{};
        ::close(fd);
        return watched.error();
    }
    return static_cast<port::TcpConnectionId>(index);
}

Result<port::TcpConnectionId> PosixTcp::adopt(int fd, port::TcpEvents& events) noexcept {
    return add_connection(fd, true, &events);
}

void PosixTcp::set_events(port::TcpConnectionId id, port::TcpEvents& events) noexcept {
    Connection* connection = lookup(id);
    if (connection != nullptr) connection->events = &events;
}

Result<port::TcpListenerId> PosixTcp::listen(const net::Endpoint& at,
                                             port::TcpListenEvents& events) noexcept {
    std::size_t index = 0;
    while (index < listeners_.size() && listeners_[index].fd >= 0) index++;
    if (index == listeners_.size()) return Errc::no_space;
    const int family = at.address.is_v4() ? AF_INET : AF_INET6;
    const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errc_from_errno(errno);
    const int reuse = 1;  // a restarted node gets its port back while old connections linger
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    sockaddr_storage address;
    const Result<socklen_t> length = to_sockaddr(at, family, address);
    Errc error = length.ok() ? Errc::ok : length.error();
    if (error == Errc::ok && (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length.value()) != 0 ||
                              ::listen(fd, SOMAXCONN) != 0)) {
        error = errno == EADDRINUSE ? Errc::already_exists : errc_from_errno(errno);
    }
    if (error == Errc::ok) error = loop_.watch(fd, EPOLLIN, listener_handler_).error();
    if (error != Errc::ok) {
        ::close(fd);
        return error;
    }
    listeners_[index] = Listener{fd, &events};
    return static_cast<port::TcpListenerId>(index);
}

Result<net::Endpoint> PosixTcp::listener_endpoint(port::TcpListenerId id) noexcept {
    if (id >= listeners_.size() || listeners_[id].fd < 0) return Errc::invalid_argument;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(listeners_[id].fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return errc_from_errno(errno);
    }
    return from_sockaddr(address);
}

void PosixTcp::close_listener(port::TcpListenerId id) noexcept {
    if (id >= listeners_.size() || listeners_[id].fd < 0) return;
    loop_.unwatch(listeners_[id].fd);
    ::close(listeners_[id].fd);
    listeners_[id] = Listener{};
}

void PosixTcp::ListenerHandler::on_fd_events(int fd, std::uint32_t) noexcept {
    for (std::size_t i = 0; i < owner.listeners_.size(); i++) {
        if (owner.listeners_[i].fd == fd) owner.accept_pending(i);
    }
}

// Level-triggered: connections beyond this round are reported on the next wait.
void PosixTcp::accept_pending(std::size_t listener_index) noexcept {
    constexpr int max_accepts_per_wake = 16;
    for (int round = 0; round < max_accepts_per_wake; round++) {
        const Listener listener = listeners_[listener_index];
        if (listener.fd < 0) return;
        sockaddr_storage from{};
        socklen_t length = sizeof from;
        const int fd = ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&from), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or an aborted connection
        const int no_delay = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay);
        const Result<port::TcpConnectionId> added = add_connection(fd, true, nullptr);
        if (!added.ok()) continue;  // the table is full: closed, the client sees it
        listener.events->on_accepted(static_cast<port::TcpListenerId>(listener_index), added.value(),
                                     from_sockaddr(from));
        if (Connection* connection = lookup(added.value()); connection != nullptr && connection->events == nullptr) {
            close(added.value(), true);  // nobody took it
        }
    }
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

Result<std::size_t> PosixTcp::write_gather(
    port::TcpConnectionId id, std::span<const std::span<const std::uint8_t>> pieces) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || !connection->connected) return Errc::invalid_argument;
    std::array<iovec, max_gather_pieces> vectors;
    const std::size_t count = std::min(pieces.size(), vectors.size());
    for (std::size_t i = 0; i < count; i++) {
        vectors[i] = iovec{const_cast<std::uint8_t*>(pieces[i].data()), pieces[i].size()};
    }
    msghdr message{};
    message.msg_iov = vectors.data();
    message.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(connection->fd, &message, MSG_NOSIGNAL);
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
    if (handler == nullptr) return;  // accepted, not handed to anyone yet
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
