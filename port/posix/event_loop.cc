#include "port/posix/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace pinhole::posix {

EventLoop::~EventLoop() {
    if (wake_fd_ >= 0) close(wake_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status EventLoop::open() noexcept {
    PINHOLE_ASSERT(epoll_fd_ < 0);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return Errc::io;
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return Errc::io;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = wake_tag;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) return Errc::io;
    return {};
}

EventLoop::Watch* EventLoop::find(int fd) noexcept {
    for (Watch& watch : watches_) {
        if (watch.fd == fd) return &watch;
    }
    return nullptr;
}

namespace {

// epoll hands back 64 bits per event: the watch table's index and the descriptor, so a
// dispatch finds its handler without a search and notices a slot reused since.
std::uint64_t event_tag(std::size_t index, int fd) noexcept {
    return (static_cast<std::uint64_t>(index) << 32) | static_cast<std::uint32_t>(fd);
}

}  // namespace

Status EventLoop::watch(int fd, std::uint32_t events, FdHandler& handler) noexcept {
    PINHOLE_ASSERT(fd >= 0 && find(fd) == nullptr);
    Watch* slot = find(-1);
    if (slot == nullptr) return Errc::no_space;
    epoll_event event{};
    event.events = events;
    event.data.u64 = event_tag(static_cast<std::size_t>(slot - watches_.data()), fd);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return Errc::io;
    *slot = Watch{fd, &handler};
    return {};
}

Status EventLoop::modify(int fd, std::uint32_t events) noexcept {
    Watch* watch = find(fd);
    PINHOLE_ASSERT(watch != nullptr);
    epoll_event event{};
    event.events = events;
    event.data.u64 = event_tag(static_cast<std::size_t>(watch - watches_.data()), fd);
    return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0 ? Status{} : Status{Errc::io};
}

void EventLoop::unwatch(int fd) noexcept {
    Watch* watch = find(fd);
    if (watch == nullptr) return;
    (void)epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    *watch = Watch{};
}

void EventLoop::wake() noexcept {
    const std::uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);  // a full counter already means "wake up"
}

void EventLoop::drain_wake() noexcept {
    std::uint64_t count = 0;
    (void)!read(wake_fd_, &count, sizeof count);
    if (wake_handler_ != nullptr) wake_handler_->on_fd_events(wake_fd_, EPOLLIN);
}

Result<int> EventLoop::run_once(int timeout_ms) noexcept {
    if (flusher_ != nullptr) flusher_->before_wait();
    epoll_event events[max_events_per_wait];
    const int ready = epoll_wait(epoll_fd_, events, max_events_per_wait, timeout_ms);
    if (ready < 0) return errno == EINTR ? Result<int>(0) : Result<int>(Errc::io);
    for (int i = 0; i < ready; i++) {
        const std::uint64_t tag = events[i].data.u64;
        if (tag == wake_tag) {
            drain_wake();
            continue;
        }
        const auto index = static_cast<std::size_t>(tag >> 32);
        const auto fd = static_cast<int>(static_cast<std::uint32_t>(tag));
        // A handler may have unwatched (or replaced) this fd earlier in the same batch.
        if (index >= watches_.size() || watches_[index].fd != fd) continue;
        watches_[index].handler->on_fd_events(fd, events[i].events);
    }
    return ready;
}

}  // namespace pinhole::posix
