// Records as files in one data directory (e.g. /var/lib/pinhole): written atomically (temporary
// file, fsync, rename), secrets created 0600, and a secret that others can read is refused.
#pragma once

#include <array>
#include <climits>

#include "port/storage.h"

namespace pinhole::posix {

class PosixStorage final : public port::Storage {
public:
    static constexpr std::size_t max_name_bytes = 64;

    // Uses `directory`, creating it (mode 0700) if it is missing and `create_if_missing`.
    // Errc::invalid_argument for a path too long or not a directory; Errc::not_found when it
    // is missing and may not be created; Errc::io/permission if it cannot be created.
    [[nodiscard]] Status open(std::string_view directory, bool create_if_missing = true) noexcept;

    [[nodiscard]] Result<std::size_t> read(std::string_view name, port::Secrecy secrecy,
                                           std::span<std::uint8_t> out) noexcept override;
    [[nodiscard]] Status write(std::string_view name, port::Secrecy secrecy,
                               std::span<const std::uint8_t> bytes) noexcept override;

    // The file behind record `name`, for messages ("chmod 600 <path>").
    [[nodiscard]] Result<std::size_t> path_of(std::string_view name, std::span<char> out) const noexcept;

private:
    std::array<char, PATH_MAX> directory_{};
    std::size_t directory_bytes_ = 0;
};

}  // namespace pinhole::posix
