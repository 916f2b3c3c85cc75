// Small in-memory stand-ins for port services, for unit tests of core code that needs one
// (whole-network behaviour is tested with port/sim instead).
#pragma once

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <lwip/init.h>

#include "port/clock.h"
#include "port/random.h"
#include "port/storage.h"

namespace pinhole::fakes {

// lwIP is one instance per process and lwip_init() must run once: a second call corrupts its
// timer list. Every test that uses lwIP calls this.
inline void initialise_lwip_once() {
    static bool initialised = false;
    if (!initialised) lwip_init();
    initialised = true;
}

struct FakeClock final : port::Clock {
    std::uint32_t monotonic_ms() noexcept override { return monotonic; }
    port::WallTime wall_time() noexcept override { return wall; }
    std::uint32_t monotonic = 0;
    port::WallTime wall{};
};

// Records in a map; `refuse_secrets` makes every secret read fail as an exposed key file does.
struct FakeStorage final : port::Storage {
    Result<std::size_t> read(std::string_view name, port::Secrecy secrecy,
                             std::span<std::uint8_t> out) noexcept override {
        const auto found = records.find(std::string(name));
        if (found == records.end()) return Errc::not_found;
        if (refuse_secrets && secrecy == port::Secrecy::secret) return Errc::permission;
        if (found->second.size() > out.size()) return Errc::no_space;
        std::memcpy(out.data(), found->second.data(), found->second.size());
        return found->second.size();
    }
    Status write(std::string_view name, port::Secrecy secrecy,
                 std::span<const std::uint8_t> bytes) noexcept override {
        records[std::string(name)].assign(bytes.begin(), bytes.end());
        secrecies[std::string(name)] = secrecy;
        return {};
    }
    std::string text(const std::string& name) const {
        const auto& bytes = records.at(name);
        return std::string(bytes.begin(), bytes.end());
    }
    std::map<std::string, std::vector<std::uint8_t>> records;
    std::map<std::string, port::Secrecy> secrecies;
    bool refuse_secrets = false;
};

// Counts up from `next`: deterministic, and never what a real key would be.
struct CountingRandom final : port::Random {
    Status fill(std::span<std::uint8_t> out) noexcept override {
        for (auto& byte : out) byte = next++;
        return {};
    }
    std::uint8_t next = 1;
};

}  // namespace pinhole::fakes
