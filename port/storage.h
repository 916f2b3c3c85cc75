// Small named records that survive restarts: keys, the wall-clock floor, state. Files under a
// data directory on Linux; flash on a board. Writes are atomic: a reader sees the old record or
// the new one, never a torn one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/util/result.h"

namespace pinhole::port {

enum class Secrecy : std::uint8_t {
    public_record,  // others may read it (0644 on Linux)
    secret,         // only the node may read it (0600); a secret readable by others is refused
};

class Storage {
public:
    // Reads record `name` into `out`: its length, not_found, no_space (larger than out), or
    // permission (a secret that others can read: refused, as ssh refuses such a key).
    [[nodiscard]] virtual Result<std::size_t> read(std::string_view name, Secrecy secrecy,
                                                   std::span<std::uint8_t> out) noexcept = 0;
    [[nodiscard]] virtual Status write(std::string_view name, Secrecy secrecy,
                                       std::span<const std::uint8_t> bytes) noexcept = 0;

protected:
    ~Storage() = default;
};

}  // namespace pinhole::port
