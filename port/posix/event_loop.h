// The Linux event loop: one epoll instance, a fixed table of watched descriptors (its own 512,
// or a larger one its owner sets aside at start-up: the gateway's channels), and an eventfd so
// other threads (the resolver's worker) can wake it. Single-threaded otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "core/util/result.h"

namespace pinhole::posix {

class FdHandler {
public:
    // `events` is the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
    virtual void on_fd_events(int fd, std::uint32_t events) noexcept = 0;

protected:
    ~FdHandler() = default;
};

// Runs before each wait: work a handler batched during the turn (queued datagrams) leaves now.
class LoopFlusher {
public:
    virtual void before_wait() noexcept = 0;

protected:
    ~LoopFlusher() = default;
};

class EventLoop {
public:
    struct Watch {
        int fd = -1;
        FdHandler* handler = nullptr;
    };
    static constexpr std::size_t max_watched_fds = 512;
    static constexpr int max_events_per_wait = 64;
    static constexpr std::uint64_t wake_tag = ~std::uint64_t{0};

    EventLoop() noexcept : watches_(own_watches_) {}
    // A loop for more descriptors than max_watched_fds: `storage` (all fd -1) outlives it.
    explicit EventLoop(std::span<Watch> storage) noexcept : watches_(storage) {}
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    [[nodiscard]] Status open() noexcept;
    // `edge_triggered`: events are reported once per change (for pull-model TCP reads).
    [[nodiscard]] Status watch(int fd, std::uint32_t events, FdHandler& handler) noexcept;
    [[nodiscard]] Status modify(int fd, std::uint32_t events) noexcept;
    void unwatch(int fd) noexcept;
    // Waits up to timeout_ms (-1: forever) and dispatches what is ready. Returns the number of
    // events dispatched, or Errc::io.
    [[nodiscard]] Result<int> run_once(int timeout_ms) noexcept;
    // Thread-safe: makes a run_once in progress return soon; `handler` runs in the loop.
    void set_wake_handler(FdHandler& handler) noexcept { wake_handler_ = &handler; }
    void wake() noexcept;
    void set_flusher(LoopFlusher& flusher) noexcept { flusher_ = &flusher; }

private:
    Watch* find(int fd) noexcept;
    void drain_wake() noexcept;

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    FdHandler* wake_handler_ = nullptr;
    LoopFlusher* flusher_ = nullptr;
    std::array<Watch, max_watched_fds> own_watches_{};
    std::span<Watch> watches_;
};

}  // namespace pinhole::posix
