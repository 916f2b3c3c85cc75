// Name resolution on Linux: getaddrinfo on one worker thread, so the event loop never blocks
// on DNS. Requests and answers live in a fixed table; the worker wakes the loop when one is done.
#pragma once

#include <pthread.h>

#include <array>
#include <cstdint>

#include "board_budget.h"
#include "port/posix/event_loop.h"
#include "port/resolver.h"

namespace pinhole::posix {

class PosixResolver final : public port::Resolver, private FdHandler {
public:
    static constexpr std::size_t max_in_flight = PINHOLE_BUDGET_MAX_RESOLUTIONS;

    explicit PosixResolver(EventLoop& loop) noexcept : loop_(loop) {}
    PosixResolver(const PosixResolver&) = delete;
    PosixResolver& operator=(const PosixResolver&) = delete;
    ~PosixResolver();

    // Starts the worker thread (the one start-up cost) and takes the loop's wake-ups.
    [[nodiscard]] Status start() noexcept;
    [[nodiscard]] Result<port::ResolveId> resolve(std::string_view host, net::Family family,
                                                  port::ResolveEvents& events) noexcept override;
    void cancel(port::ResolveId id) noexcept override;

private:
    enum class State : std::uint8_t { free, queued, running, done, cancelled };
    struct Request {
        State state = State::free;
        net::Family family = net::Family::none;
        std::array<char, port::max_host_name_bytes + 1> host{};
        port::ResolveEvents* events = nullptr;
        Errc result = Errc::ok;
        std::uint8_t address_count = 0;
        std::array<net::IpAddress, port::max_resolved_addresses> addresses{};
    };
    static void* worker_main(void* self) noexcept;
    void work() noexcept;
    void lookup(Request& request) noexcept;
    void on_fd_events(int fd, std::uint32_t events) noexcept override;

    EventLoop& loop_;
    pthread_t worker_{};
    bool worker_started_ = false;
    bool stopping_ = false;  // guarded by mutex_
    pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t work_ready_ = PTHREAD_COND_INITIALIZER;
    std::array<Request, max_in_flight> requests_{};  // guarded by mutex_
};

}  // namespace pinhole::posix
