#include "port/posix/services.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {

std::uint32_t PosixClock::monotonic_ms() noexcept {
    timespec now{};
    // The coarse clock (the kernel's tick, 1-4 ms) is enough for millisecond timers and costs
    // a fraction of a precise read: the data path reads the clock per packet.
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    const auto milliseconds = static_cast<std::uint64_t>(now.tv_sec) * 1000u +
                              static_cast<std::uint64_t>(now.tv_nsec) / 1000000u;
    return static_cast<std::uint32_t>(milliseconds);  // wraps, as the interface says
}

port::WallTime PosixClock::wall_time() noexcept {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec < 0) return {};
    return port::WallTime{static_cast<std::uint64_t>(now.tv_sec),
                          static_cast<std::uint32_t>(now.tv_nsec)};
}

Status PosixRandom::fill(std::span<std::uint8_t> out) noexcept {
    std::size_t filled = 0;
    // getrandom returns at most 32 MiB per call and may be interrupted: a bounded retry loop.
    for (int attempt = 0; attempt < 64 && filled < out.size(); attempt++) {
        const ssize_t got = getrandom(out.data() + filled, out.size() - filled, 0);
        if (got > 0) {
            filled += static_cast<std::size_t>(got);
        } else if (got < 0 && errno != EINTR) {
            break;
        }
    }
    return filled == out.size() ? Status{} : Status{Errc::io};
}

Result<std::size_t> PosixInterfaces::local_addresses(std::span<net::IpAddress> out) noexcept {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return Errc::io;
    std::size_t count = 0;
    for (const ifaddrs* entry = list; entry != nullptr && count < out.size();
         entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr || (entry->ifa_flags & IFF_UP) == 0 ||
            (entry->ifa_flags & IFF_LOOPBACK) != 0) {
            continue;
        }
        const int family = entry->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        sockaddr_storage address{};
        std::memcpy(&address, entry->ifa_addr,
                    family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        out[count++] = from_sockaddr(address).address;
    }
    freeifaddrs(list);
    return count;
}

void StderrLog::write(port::LogLevel level, std::string_view line) noexcept {
    static constexpr std::string_view prefixes[] = {"error: ", "warning: ", "info: ", "debug: "};
    const std::string_view prefix = prefixes[static_cast<std::size_t>(level) % 4];
    iovec parts[3] = {
        {const_cast<char*>(prefix.data()), prefix.size()},
        {const_cast<char*>(line.data()), line.size()},
        {const_cast<char*>("\n"), 1},
    };
    (void)!writev(STDERR_FILENO, parts, 3);  // one syscall keeps lines whole between threads
}

}  // namespace pinhole::posix
