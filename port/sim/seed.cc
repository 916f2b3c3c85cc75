#include "port/sim/seed.h"

#include <sys/random.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "port/panic.h"

namespace pinhole::sim {
namespace {

// Decimal or 0x-prefixed hex, the whole text, no overflow.
bool parse_seed(std::string_view text, std::uint64_t& seed) noexcept {
    std::uint64_t base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty() || text.size() > 20) return false;
    std::uint64_t value = 0;
    for (const char c : text) {
        std::uint64_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<std::uint64_t>(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = static_cast<std::uint64_t>(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = static_cast<std::uint64_t>(c - 'A' + 10);
        } else {
            return false;
        }
        if (value > (UINT64_MAX - digit) / base) return false;
        value = value * base + digit;
    }
    seed = value;
    return true;
}

}  // namespace

std::uint64_t seed_from_environment(std::uint64_t fallback) noexcept {
    const char* text = std::getenv(seed_environment_variable);
    if (text == nullptr) return fallback;
    std::uint64_t seed = 0;
    if (!parse_seed(text, seed)) {
        port::panic("PINHOLE_SIM_SEED is not a decimal or 0x-hex 64-bit number", __FILE__,
                    __LINE__);
    }
    return seed;
}

std::uint64_t random_seed() noexcept {
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
        port::panic("getrandom failed: no seed for the simulation", __FILE__, __LINE__);
    }
    return seed;
}

void announce_seed(std::uint64_t seed) noexcept {
    char line[128];
    const int length = std::snprintf(line, sizeof line, "sim seed: %llu (replay: %s=%llu)\n",
                                     static_cast<unsigned long long>(seed),
                                     seed_environment_variable,
                                     static_cast<unsigned long long>(seed));
    if (length > 0 && static_cast<std::size_t>(length) < sizeof line) {
        (void)!write(STDERR_FILENO, line, static_cast<std::size_t>(length));
    }
}

}  // namespace pinhole::sim
