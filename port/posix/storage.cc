#include "port/posix/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "port/posix/sockaddr.h"

namespace pinhole::posix {
namespace {

constexpr mode_t secret_mode = 0600;
constexpr mode_t public_mode = 0644;
constexpr mode_t group_or_other_bits = 0077;
constexpr int max_io_calls = 1024;  // bounds the read/write loops; records are small

// Record names are plain file names: letters, digits, '.', '_', '-', not starting with '.'.
bool valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > PosixStorage::max_name_bytes || name[0] == '.') return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Status write_all(int fd, std::span<const std::uint8_t> bytes) noexcept {
    std::size_t written = 0;
    for (int call = 0; call < max_io_calls && written < bytes.size(); call++) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno != EINTR) return errc_from_errno(errno);
        if (n > 0) written += static_cast<std::size_t>(n);
    }
    return written == bytes.size() ? Status{} : Status{Errc::io};
}

}  // namespace

Status PosixStorage::open(std::string_view directory, bool create_if_missing) noexcept {
    if (directory.empty() || directory.size() >= directory_.size()) return Errc::invalid_argument;
    std::memcpy(directory_.data(), directory.data(), directory.size());
    directory_[directory.size()] = '\0';
    directory_bytes_ = directory.size();
    if (create_if_missing && mkdir(directory_.data(), 0700) != 0 && errno != EEXIST) {
        return errc_from_errno(errno);
    }
    struct stat info{};
    if (stat(directory_.data(), &info) != 0) {
        return errno == ENOENT ? Errc::not_found : errc_from_errno(errno);
    }
    return S_ISDIR(info.st_mode) ? Status{} : Status{Errc::invalid_argument};
}

Result<std::size_t> PosixStorage::path_of(std::string_view name, std::span<char> out) const noexcept {
    if (!valid_name(name)) return Errc::invalid_argument;
    const std::size_t length = directory_bytes_ + 1 + name.size();
    if (directory_bytes_ == 0 || length + 1 > out.size()) return Errc::no_space;
    std::memcpy(out.data(), directory_.data(), directory_bytes_);
    out[directory_bytes_] = '/';
    std::memcpy(out.data() + directory_bytes_ + 1, name.data(), name.size());
    out[length] = '\0';
    return length;
}

Result<std::size_t> PosixStorage::read(std::string_view name, port::Secrecy secrecy,
                                       std::span<std::uint8_t> out) noexcept {
    std::array<char, PATH_MAX> path;
    if (const auto made = path_of(name, path); !made.ok()) return made.error();
    const int fd = ::open(path.data(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Errc::not_found : errc_from_errno(errno);
    struct stat info{};
    Errc error = Errc::ok;
    if (fstat(fd, &info) != 0) {
        error = errc_from_errno(errno);
    } else if (!S_ISREG(info.st_mode)) {
        error = Errc::invalid_argument;
    } else if (secrecy == port::Secrecy::secret && (info.st_mode & group_or_other_bits) != 0) {
        error = Errc::permission;  // like ssh: a key others can read is not a key
    } else if (static_cast<std::size_t>(info.st_size) > out.size()) {
        error = Errc::no_space;
    }
    std::size_t total = 0;
    for (int call = 0; error == Errc::ok && call < max_io_calls; call++) {
        const ssize_t n = ::read(fd, out.data() + total, out.size() - total);
        if (n == 0) break;
        if (n < 0 && errno != EINTR) error = errc_from_errno(errno);
        if (n > 0) total += static_cast<std::size_t>(n);
        if (total == out.size()) break;
    }
    ::close(fd);
    if (error != Errc::ok) return error;
    return total;
}

Status PosixStorage::write(std::string_view name, port::Secrecy secrecy,
                           std::span<const std::uint8_t> bytes) noexcept {
    std::array<char, PATH_MAX> path;
    std::array<char, PATH_MAX> temporary;
    const auto made = path_of(name, path);
    if (!made.ok()) return made.error();
    if (made.value() + 5 > temporary.size()) return Errc::no_space;
    std::memcpy(temporary.data(), path.data(), made.value());
    std::memcpy(temporary.data() + made.value(), ".tmp", 5);

    const mode_t mode = secrecy == port::Secrecy::secret ? secret_mode : public_mode;
    const int fd = ::open(temporary.data(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return errc_from_errno(errno);
    Status status = fchmod(fd, mode) == 0 ? write_all(fd, bytes) : Status{errc_from_errno(errno)};
    if (status.ok() && fsync(fd) != 0) status = errc_from_errno(errno);
    ::close(fd);
    if (status.ok() && rename(temporary.data(), path.data()) != 0) status = errc_from_errno(errno);
    if (!status.ok()) {
        (void)unlink(temporary.data());
        return status;
    }
    const int directory = ::open(directory_.data(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory >= 0) {  // make the rename itself durable
        (void)fsync(directory);
        ::close(directory);
    }
    return {};
}

}  // namespace pinhole::posix
