#include "port/posix/udp.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {
namespace {

constexpr int socket_buffer_bytes = 4 * 1024 * 1024;
constexpr int max_single_datagrams_per_wake = 64;

// Whether this kernel segments UDP for us (UDP_SEGMENT, Linux 4.18).
bool kernel_has_udp_segment() noexcept {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const int segment_bytes = 1200;
    const bool has = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &segment_bytes, sizeof segment_bytes) == 0;
    ::close(fd);
    return has;
}

bool same_destination(const sockaddr_storage& a, socklen_t a_length, const sockaddr_storage& b,
                      socklen_t b_length) noexcept {
    return a_length == b_length && std::memcmp(&a, &b, a_length) == 0;
}

// The GRO segment size the kernel attached to a received buffer; 0 when it is one datagram.
std::size_t gro_segment_bytes(msghdr& message) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int segment_bytes = 0;
            std::memcpy(&segment_bytes, CMSG_DATA(c), sizeof segment_bytes);
            return segment_bytes > 0 ? static_cast<std::size_t>(segment_bytes) : 0;
        }
    }
    return 0;
}

}  // namespace

PosixUdp::~PosixUdp() {
    flush();
    for (std::size_t i = 0; i < sockets_.size(); i++) {
        if (sockets_[i].fd >= 0) close(static_cast<port::UdpSocketId>(i));
    }
}

void PosixUdp::set_batching(UdpBatching wanted) noexcept {
    offload_probed_ = true;
    batching_ = wanted == UdpBatching::offload && !kernel_has_udp_segment() ? UdpBatching::mmsg : wanted;
}

PosixUdp::Socket* PosixUdp::lookup(port::UdpSocketId socket) noexcept {
    if (socket >= sockets_.size() || sockets_[socket].fd < 0) return nullptr;
    return &sockets_[socket];
}

Result<port::UdpSocketId> PosixUdp::open(const net::Endpoint& local,
                                         port::UdpReceiver& receiver) noexcept {
    if (!offload_probed_) set_batching(batching_);
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
    if (batching_ == UdpBatching::offload) {
        const int on = 1;  // a kernel without UDP_GRO delivers datagrams one by one: fine
        (void)setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on);
    }
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
    if (batching_ == UdpBatching::single || payload.size() > send_arena_bytes) {
        flush();  // what was queued first leaves first
        counters_.send_calls++;
        const ssize_t sent = ::sendto(entry->fd, payload.data(), payload.size(), 0,
                                      reinterpret_cast<const sockaddr*>(&address), length.value());
        if (sent < 0) return errc_from_errno(errno);
        counters_.datagrams_sent++;
        return {};
    }
    if (queued_ == queue_.size() || arena_used_bytes_ + payload.size() > send_arena_bytes) flush();
    std::copy(payload.begin(), payload.end(), send_arena_.begin() + static_cast<std::ptrdiff_t>(arena_used_bytes_));
    queue_[queued_++] = Queued{socket, length.value(), address, static_cast<std::uint32_t>(arena_used_bytes_),
                               static_cast<std::uint32_t>(payload.size())};
    arena_used_bytes_ += payload.size();
    return {};
}

// Where the GSO run starting at `first` ends: the same socket and destination, every datagram
// as long as the first but the last (which may be shorter), within the kernel's limits.
std::size_t PosixUdp::run_end(std::size_t first) const noexcept {
    const Queued& head = queue_[first];
    std::size_t end = first + 1;
    std::size_t bytes = head.length;
    if (batching_ != UdpBatching::offload) return end;
    while (end < queued_ && end - first < max_segments_per_message) {
        const Queued& next = queue_[end];
        if (next.socket != head.socket || next.length > head.length || next.length == 0 ||
            bytes + next.length > max_segmented_bytes ||
            !same_destination(next.to, next.to_length, head.to, head.to_length)) {
            break;
        }
        bytes += next.length;
        end++;
        if (next.length < head.length) break;  // a short datagram closes the run
    }
    return end;
}

void PosixUdp::flush() noexcept {
    std::size_t first = 0;
    for (std::size_t round = 0; round < max_queued_datagrams && first < queued_; round++) {
        std::size_t end = first + 1;  // one sendmmsg per socket
        while (end < queued_ && queue_[end].socket == queue_[first].socket) end++;
        if (lookup(queue_[first].socket) != nullptr) {
            (void)send_runs(first, end);
        } else {
            counters_.send_dropped += end - first;  // closed since: nowhere to send from
        }
        first = end;
    }
    queued_ = 0;
    arena_used_bytes_ = 0;
}

// Sends queue_[first, end) (one socket) with sendmmsg: one message per datagram, or per GSO run.
// Returns the datagrams the kernel took.
std::size_t PosixUdp::send_runs(std::size_t first, std::size_t end) noexcept {
    const int fd = sockets_[queue_[first].socket].fd;
    std::array<mmsghdr, max_queued_datagrams> messages{};
    std::array<iovec, max_queued_datagrams> vectors{};
    std::array<std::array<std::uint16_t, 2>, max_queued_datagrams> run_bounds{};  // [first, end)
    alignas(cmsghdr) std::array<std::array<char, CMSG_SPACE(sizeof(std::uint16_t))>, max_queued_datagrams> controls{};
    std::size_t count = 0;
    for (std::size_t at = first; at < end; count++) {
        const std::size_t run = run_end(at);
        Queued& head = queue_[at];
        const Queued& last = queue_[run - 1];
        vectors[count] = iovec{send_arena_.data() + head.offset, last.offset + last.length - head.offset};
        msghdr& message = messages[count].msg_hdr;
        message.msg_name = &head.to;
        message.msg_namelen = head.to_length;
        message.msg_iov = &vectors[count];
        message.msg_iovlen = 1;
        if (run - at > 1) {  // the kernel cuts it into datagrams of head.length
            message.msg_control = controls[count].data();
            message.msg_controllen = controls[count].size();
            cmsghdr* control = CMSG_FIRSTHDR(&message);
            control->cmsg_level = SOL_UDP;
            control->cmsg_type = UDP_SEGMENT;
            control->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
            const auto segment_bytes = static_cast<std::uint16_t>(head.length);
            std::memcpy(CMSG_DATA(control), &segment_bytes, sizeof segment_bytes);
            counters_.offload_messages++;
        }
        run_bounds[count] = {static_cast<std::uint16_t>(at), static_cast<std::uint16_t>(run)};
        at = run;
    }
    std::size_t taken = 0;
    std::size_t done = 0;
    for (std::size_t attempt = 0; attempt <= count && done < count; attempt++) {
        counters_.send_calls++;
        const int sent = sendmmsg(fd, &messages[done], static_cast<unsigned>(count - done), 0);
        if (sent > 0) {
            for (int i = 0; i < sent; i++) taken += run_bounds[done + i][1] - run_bounds[done + i][0];
            done += static_cast<std::size_t>(sent);
            continue;
        }
        const int error = errno;
        const std::size_t run_first = run_bounds[done][0];
        const std::size_t run_last = run_bounds[done][1];
        if (error == EAGAIN || error == ENOBUFS) break;  // the socket is full: the rest drops
        // A run the kernel cannot segment: no checksum offload on the way out (EIO), or a
        // segment larger than the path (EINVAL, EMSGSIZE). Sent one by one, and never asked again.
        if ((error == EIO || error == EINVAL || error == EMSGSIZE) && run_last - run_first > 1) {
            batching_ = UdpBatching::mmsg;
            send_each(run_first, run_last);
        } else {
            counters_.send_dropped += run_last - run_first;  // e.g. no route, or an ICMP error
        }
        done++;
    }
    for (std::size_t i = done; i < count; i++) counters_.send_dropped += run_bounds[i][1] - run_bounds[i][0];
    counters_.datagrams_sent += taken;
    return taken;
}

// Without segmentation, one datagram per message (after the kernel refused a GSO run).
void PosixUdp::send_each(std::size_t first, std::size_t end) noexcept {
    for (std::size_t i = first; i < end; i++) {
        const Queued& entry = queue_[i];
        counters_.send_calls++;
        const ssize_t sent = ::sendto(sockets_[entry.socket].fd, send_arena_.data() + entry.offset,
                                      entry.length, 0, reinterpret_cast<const sockaddr*>(&entry.to),
                                      entry.to_length);
        if (sent < 0) {
            counters_.send_dropped++;
        } else {
            counters_.datagrams_sent++;
        }
    }
}

void PosixUdp::close(port::UdpSocketId socket) noexcept {
    Socket* entry = lookup(socket);
    if (entry == nullptr) return;
    flush();  // what the owner sent before closing still leaves
    loop_.unwatch(entry->fd);
    ::close(entry->fd);
    *entry = Socket{};
}

void PosixUdp::on_fd_events(int fd, std::uint32_t) noexcept {
    std::size_t index = 0;
    while (index < sockets_.size() && sockets_[index].fd != fd) index++;
    if (index == sockets_.size()) return;
    // Level-triggered: what is left after this budget is reported again on the next wait.
    if (batching_ == UdpBatching::single) {
        receive_single(index);
    } else {
        receive_batches(index);
    }
}

void PosixUdp::receive_single(std::size_t index) noexcept {
    const int fd = sockets_[index].fd;
    for (int taken = 0; taken < max_single_datagrams_per_wake; taken++) {
        sockaddr_storage from{};
        socklen_t from_length = sizeof from;
        counters_.receive_calls++;
        const ssize_t received = ::recvfrom(fd, receive_arena_.data(), max_datagram_bytes, 0,
                                            reinterpret_cast<sockaddr*>(&from), &from_length);
        if (received < 0) return;  // EAGAIN, or an ICMP error surfaced on this socket
        if (!deliver(index, fd, from, {receive_arena_.data(), static_cast<std::size_t>(received)}, 0)) return;
    }
}

void PosixUdp::receive_batches(std::size_t index) noexcept {
    const int fd = sockets_[index].fd;
    std::array<mmsghdr, receive_slots> messages;
    std::array<iovec, receive_slots> vectors;
    std::array<sockaddr_storage, receive_slots> senders;
    alignas(cmsghdr) std::array<std::array<char, CMSG_SPACE(sizeof(int))>, receive_slots> controls;
    for (int call = 0; call < max_receive_calls_per_wake; call++) {
        for (std::size_t slot = 0; slot < receive_slots; slot++) {
            vectors[slot] = iovec{receive_arena_.data() + slot * max_datagram_bytes, max_datagram_bytes};
            messages[slot] = mmsghdr{};
            msghdr& message = messages[slot].msg_hdr;
            message.msg_name = &senders[slot];
            message.msg_namelen = sizeof senders[slot];
            message.msg_iov = &vectors[slot];
            message.msg_iovlen = 1;
            message.msg_control = controls[slot].data();
            message.msg_controllen = controls[slot].size();
        }
        counters_.receive_calls++;
        const int received = recvmmsg(fd, messages.data(), receive_slots, 0, nullptr);
        if (received <= 0) return;  // EAGAIN, or an ICMP error surfaced on this socket
        for (int slot = 0; slot < received; slot++) {
            msghdr& message = messages[static_cast<std::size_t>(slot)].msg_hdr;
            if ((message.msg_flags & MSG_TRUNC) != 0) {
                counters_.receive_truncated++;
                continue;
            }
            const std::span<const std::uint8_t> buffer(static_cast<const std::uint8_t*>(vectors[slot].iov_base),
                                                       messages[static_cast<std::size_t>(slot)].msg_len);
            if (!deliver(index, fd, senders[static_cast<std::size_t>(slot)], buffer, gro_segment_bytes(message))) return;
        }
        if (static_cast<std::size_t>(received) < receive_slots) return;
    }
}

// Hands `buffer` to the socket's receiver: one datagram, or a GRO run cut at segment_bytes.
// False when the receiver closed the socket meanwhile.
bool PosixUdp::deliver(std::size_t index, int fd, const sockaddr_storage& from,
                       std::span<const std::uint8_t> buffer, std::size_t segment_bytes) noexcept {
    const net::Endpoint sender = from_sockaddr(from);
    const std::size_t step = segment_bytes > 0 ? segment_bytes : std::max<std::size_t>(buffer.size(), 1);
    if (segment_bytes > 0 && buffer.size() > segment_bytes) counters_.offload_received++;
    std::size_t offset = 0;
    for (std::size_t round = 0; round <= max_datagram_bytes && (offset < buffer.size() || round == 0); round++) {
        const std::span<const std::uint8_t> datagram = buffer.subspan(offset, std::min(step, buffer.size() - offset));
        counters_.datagrams_received++;
        sockets_[index].receiver->on_datagram(static_cast<port::UdpSocketId>(index), sender, datagram);
        if (sockets_[index].fd != fd) return false;
        offset += step;
    }
    return true;
}

}  // namespace pinhole::posix
