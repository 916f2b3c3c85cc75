#include "port/posix/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {
namespace {

class Lock {
public:
    explicit Lock(pthread_mutex_t& mutex) noexcept : mutex_(mutex) { pthread_mutex_lock(&mutex_); }
    ~Lock() { pthread_mutex_unlock(&mutex_); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

private:
    pthread_mutex_t& mutex_;
};

Errc errc_from_gai(int error) noexcept {
    switch (error) {
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY: return Errc::not_found;
        case EAI_AGAIN: return Errc::timed_out;
        case EAI_MEMORY: return Errc::no_space;
        default: return Errc::io;
    }
}

}  // namespace

PosixResolver::~PosixResolver() {
    if (worker_started_) {
        {
            Lock lock(mutex_);
            stopping_ = true;
        }
        pthread_cond_broadcast(&work_ready_);
        pthread_join(worker_, nullptr);  // waits for at most one getaddrinfo in progress
    }
}

Status PosixResolver::start() noexcept {
    PINHOLE_ASSERT(!worker_started_);
    loop_.set_wake_handler(*this);
    if (pthread_create(&worker_, nullptr, &PosixResolver::worker_main, this) != 0) return Errc::io;
    worker_started_ = true;
    return {};
}

Result<port::ResolveId> PosixResolver::resolve(std::string_view host, net::Family family,
                                               port::ResolveEvents& events) noexcept {
    if (host.empty() || host.size() > port::max_host_name_bytes ||
        host.find('\0') != std::string_view::npos) {
        return Errc::invalid_argument;
    }
    PINHOLE_ASSERT(worker_started_);
    Lock lock(mutex_);
    for (std::size_t i = 0; i < requests_.size(); i++) {
        Request& request = requests_[i];
        if (request.state != State::free) continue;
        request = Request{};
        request.state = State::queued;
        request.family = family;
        std::memcpy(request.host.data(), host.data(), host.size());
        request.host[host.size()] = '\0';
        request.events = &events;
        pthread_cond_signal(&work_ready_);
        return static_cast<port::ResolveId>(i);
    }
    return Errc::no_space;
}

void PosixResolver::cancel(port::ResolveId id) noexcept {
    Lock lock(mutex_);
    if (id >= requests_.size()) return;
    Request& request = requests_[id];
    if (request.state == State::running) {
        request.state = State::cancelled;  // the worker frees it when getaddrinfo returns
    } else if (request.state != State::free) {
        request.state = State::free;
    }
}

void* PosixResolver::worker_main(void* self) noexcept {
    static_cast<PosixResolver*>(self)->work();
    return nullptr;
}

void PosixResolver::work() noexcept {
    for (;;) {  // runs until the destructor sets stopping_
        Request* next = nullptr;
        {
            Lock lock(mutex_);
            for (;;) {
                if (stopping_) return;
                for (Request& request : requests_) {
                    if (request.state == State::queued && next == nullptr) next = &request;
                }
                if (next != nullptr) break;
                pthread_cond_wait(&work_ready_, &mutex_);
            }
            next->state = State::running;
        }
        lookup(*next);  // host and family are stable while running: only this thread writes
        {
            Lock lock(mutex_);
            next->state = next->state == State::cancelled ? State::free : State::done;
        }
        loop_.wake();
    }
}

void PosixResolver::lookup(Request& request) noexcept {
    addrinfo hints{};
    hints.ai_family = request.family == net::Family::v4   ? AF_INET
                      : request.family == net::Family::v6 ? AF_INET6
                                                          : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    addrinfo* found = nullptr;
    const int error = getaddrinfo(request.host.data(), nullptr, &hints, &found);
    request.address_count = 0;
    request.result = error == 0 ? Errc::ok : errc_from_gai(error);
    for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
        if (request.address_count == request.addresses.size()) break;
        sockaddr_storage address{};
        std::memcpy(&address, entry->ai_addr, entry->ai_addrlen);
        request.addresses[request.address_count++] = from_sockaddr(address).address;
    }
    if (found != nullptr) freeaddrinfo(found);
    if (request.result == Errc::ok && request.address_count == 0) request.result = Errc::not_found;
}

void PosixResolver::on_fd_events(int, std::uint32_t) noexcept {
    // Answers are delivered outside the lock: a callback may start or cancel resolutions.
    for (std::size_t i = 0; i < requests_.size(); i++) {
        Request answer;
        {
            Lock lock(mutex_);
            if (requests_[i].state != State::done) continue;
            answer = requests_[i];
            requests_[i].state = State::free;
        }
        answer.events->on_resolved(
            static_cast<port::ResolveId>(i), answer.result,
            std::span<const net::IpAddress>(answer.addresses.data(), answer.address_count));
    }
}

}  // namespace pinhole::posix
