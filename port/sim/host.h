// One simulated machine: its addresses and every port service the core needs, all reading
// the world's virtual time and sending through the world's network.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/util/fixed_vector.h"
#include "port/platform.h"
#include "port/sim/links.h"
#include "port/sim/prng.h"
#include "port/sim/resolver.h"
#include "port/sim/storage.h"
#include "port/sim/stream.h"
#include "port/sim/udp.h"

namespace pinhole::sim {

class World;
class Host;

struct HostOptions {
    std::string_view label;  // for log lines; cut to max_host_label_bytes
    std::span<const net::IpAddress> addresses;  // at most max_addresses_per_host
};

class HostClock final : public port::Clock {
public:
    explicit HostClock(Host& host) noexcept : host_(host) {}
    // The world's virtual milliseconds (wrapping at 2^32 like every platform's).
    [[nodiscard]] std::uint32_t monotonic_ms() noexcept override;
    // The world's wall epoch + virtual time + this host's own offset (see step_wall_clock).
    [[nodiscard]] port::WallTime wall_time() noexcept override;

    // Sim only: the wall clock jumps by `delta_ms` (backwards when negative), as an NTP step
    // or a board's clock restarting at its build date would. Never before the Unix epoch.
    void step_wall_clock(std::int64_t delta_ms) noexcept { wall_offset_ms_ += delta_ms; }

private:
    Host& host_;
    std::int64_t wall_offset_ms_ = 0;
};

// Deterministic bytes from the world's seed and the host's index. Simulation only: never
// anywhere near a real key.
class HostRandom final : public port::Random {
public:
    explicit HostRandom(std::uint64_t seed) noexcept : prng_(seed) {}
    [[nodiscard]] Status fill(std::span<std::uint8_t> out) noexcept override;

private:
    Prng prng_;
};

class HostInterfaces final : public port::Interfaces {
public:
    explicit HostInterfaces(Host& host) noexcept : host_(host) {}
    [[nodiscard]] Result<std::size_t> local_addresses(
        std::span<net::IpAddress> out) noexcept override;

private:
    Host& host_;
};

// Lines prefixed with virtual time and the host's label ("[12.345] alice W: ..."). The
// last max_log_lines_kept stay in memory for assertions; they also go to stderr when the world
// says so (WorldOptions::log_to_stderr, or PINHOLE_SIM_LOG=1).
class HostLog final : public port::LogSink {
public:
    explicit HostLog(Host& host) noexcept : host_(host) {}
    void write(port::LogLevel level, std::string_view line) noexcept override;

    [[nodiscard]] std::size_t kept_lines() const noexcept { return kept_count_; }
    // Kept line `index`, oldest first (index < kept_lines()).
    [[nodiscard]] std::string_view line(std::size_t index) const noexcept;
    // How many kept lines contain `text`.
    [[nodiscard]] std::size_t count_containing(std::string_view text) const noexcept;
    void forget_lines() noexcept { kept_count_ = 0; }

private:
    struct Line {
        std::array<char, max_log_line_bytes> text;
        std::size_t length_bytes = 0;
    };
    Host& host_;
    // The newest lines overwrite the oldest: a log is for the end of a run.
    std::array<Line, max_log_lines_kept> lines_{};
    std::size_t next_slot_ = 0;
    std::size_t kept_count_ = 0;
};

class Host {
public:
    Host(World& world, HostIndex index, const HostOptions& options) noexcept;
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    // What a node is built from.
    [[nodiscard]] port::Platform platform() noexcept;

    [[nodiscard]] HostClock& clock() noexcept { return clock_; }
    [[nodiscard]] HostRandom& random() noexcept { return random_; }
    [[nodiscard]] HostUdp& udp() noexcept { return udp_; }
    [[nodiscard]] HostTcp& tcp() noexcept { return tcp_; }
    [[nodiscard]] HostResolver& resolver() noexcept { return resolver_; }
    [[nodiscard]] HostInterfaces& interfaces() noexcept { return interfaces_; }
    [[nodiscard]] HostStorage& storage() noexcept { return storage_; }
    [[nodiscard]] HostLog& log() noexcept { return log_; }

    // Sim only: a test server on `port` (see TcpAcceptor).
    [[nodiscard]] Status listen(std::uint16_t port, TcpAcceptor& acceptor) noexcept {
        return tcp_.listen(port, acceptor);
    }

    [[nodiscard]] World& world() noexcept { return world_; }
    [[nodiscard]] HostIndex index() const noexcept { return index_; }
    [[nodiscard]] std::string_view label() const noexcept { return {label_.data(), label_bytes_}; }
    [[nodiscard]] std::span<const net::IpAddress> addresses() const noexcept {
        return addresses_.span();
    }
    [[nodiscard]] bool owns(const net::IpAddress& address) const noexcept;
    // The address this host sends from to reach `to`: its first one of that family.
    [[nodiscard]] Result<net::IpAddress> source_address_for(const net::IpAddress& to) const noexcept;
    // The next port of the ephemeral range (49152..65535, in order, wrapping): the caller
    // skips those it has in use.
    [[nodiscard]] std::uint16_t next_ephemeral_port() noexcept;

private:
    World& world_;
    HostIndex index_;
    std::array<char, max_host_label_bytes> label_{};
    std::size_t label_bytes_ = 0;
    FixedVector<net::IpAddress, max_addresses_per_host> addresses_;
    std::uint16_t next_ephemeral_port_ = 49152;

    HostClock clock_{*this};
    HostRandom random_;
    HostUdp udp_{*this};
    HostTcp tcp_{*this};
    HostResolver resolver_{*this};
    HostInterfaces interfaces_{*this};
    HostStorage storage_;
    HostLog log_{*this};
};

}  // namespace pinhole::sim
