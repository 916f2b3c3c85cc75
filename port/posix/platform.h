// The whole Linux port in one object: build it, open() it, and hand platform() to a node.
#pragma once

#include <array>

#include "board_budget.h"
#include "port/platform.h"
#include "port/posix/event_loop.h"
#include "port/posix/resolver.h"
#include "port/posix/services.h"
#include "port/posix/storage.h"
#include "port/posix/tcp.h"
#include "port/posix/udp.h"

namespace pinhole::posix {

class PosixPlatform {
public:
    PosixPlatform() noexcept = default;
    PosixPlatform(const PosixPlatform&) = delete;
    PosixPlatform& operator=(const PosixPlatform&) = delete;

    // Opens the event loop, the data directory and the resolver's worker, and gives mbedTLS the
    // board's arena (TLS to the gateway) — one platform per process.
    [[nodiscard]] Status open(std::string_view data_directory) noexcept;
    [[nodiscard]] port::Platform platform() noexcept {
        return port::Platform{clock_, random_, udp_, tcp_, resolver_, interfaces_, storage_, log_};
    }
    EventLoop& loop() noexcept { return loop_; }
    PosixStorage& storage() noexcept { return storage_; }
    PosixTcp& posix_tcp() noexcept { return tcp_; }
    PosixUdp& posix_udp() noexcept { return udp_; }

private:
    EventLoop loop_;
    PosixClock clock_;
    PosixRandom random_;
    PosixUdp udp_{loop_};
    PosixTcp tcp_{loop_};
    PosixResolver resolver_{loop_};
    PosixInterfaces interfaces_;
    PosixStorage storage_;
    StderrLog log_;
    alignas(16) std::array<unsigned char, PINHOLE_BUDGET_MBEDTLS_ARENA_BYTES> mbedtls_arena_{};
};

}  // namespace pinhole::posix
