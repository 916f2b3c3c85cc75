#include "apps/loadgen/load_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>

#include "core/crypto/ct.h"
#include "port/posix/services.h"

namespace pinhole::load {
namespace {

std::string text_of(const crypto::X25519Key& key) {
    std::array<char, keys::key_text_bytes + 1> text{};
    return keys::format_key(key, text).ok() ? std::string(text.data()) : std::string();
}

// Writes `text` to `path` with `mode`, replacing it; empty on success.
std::string write_file(const std::string& path, const std::string& text, mode_t mode) {
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return "cannot create " + temporary + ": " + std::strerror(errno);
    (void)::fchmod(fd, mode);  // whatever the umask
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(temporary.c_str());
            return "cannot write " + temporary + ": " + why;
        }
        written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(temporary.c_str());
        return "cannot write " + path + ": " + why;
    }
    return {};
}

std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t at = 0;
    while (at < line.size()) {
        while (at < line.size() && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r')) at++;
        if (at >= line.size() || line[at] == '#') break;
        const std::size_t start = at;
        while (at < line.size() && line[at] != ' ' && line[at] != '\t' && line[at] != '\r') at++;
        words.push_back(line.substr(start, at - start));
    }
    return words;
}

}  // namespace

std::string write_key_files(std::size_t count, std::size_t pairs, const std::string& prefix,
                            const std::string& keys_path, const std::string& authorized_path) {
    posix::PosixRandom random;
    std::string key_text = "# pinhole-load keys (secret: mode 0600): <private key> <public key> <name> [pair=<name>]\n";
    std::string authorized_text = "# pinhole-load: the gateway's authorized_keys for " + keys_path + "\n";
    key_text.reserve(128 * (count + 2 * pairs + 1));
    authorized_text.reserve(96 * (count + 2 * pairs + 1));
    const auto add = [&](const std::string& name, const std::string& partner) -> bool {
        const Result<keys::KeyPair> pair = keys::generate_key_pair(random);
        if (!pair.ok()) return false;
        keys::KeyPair keys = pair.value();
        const std::string public_text = text_of(keys.public_key);
        key_text += text_of(keys.private_key) + " " + public_text + " " + name;
        authorized_text += public_text + " " + name;
        if (!partner.empty()) {
            key_text += " pair=" + partner;
            authorized_text += " reach=" + partner;
        }
        key_text += "\n";
        authorized_text += "\n";
        crypto::zeroize_object(keys);
        return true;
    };
    std::array<char, 48> name{};
    std::array<char, 48> other{};
    for (std::size_t i = 1; i <= pairs; i++) {
        std::snprintf(name.data(), name.size(), "%s-p%05zu-a", prefix.c_str(), i);
        std::snprintf(other.data(), other.size(), "%s-p%05zu-b", prefix.c_str(), i);
        if (!add(name.data(), other.data()) || !add(other.data(), name.data())) return "no random bytes for a key";
    }
    for (std::size_t i = 1; i <= count; i++) {
        std::snprintf(name.data(), name.size(), "%s-%05zu", prefix.c_str(), i);
        if (!add(name.data(), "")) return "no random bytes for a key";
    }
    std::string failed = write_file(keys_path, key_text, 0600);
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(key_text.data()), key_text.size()));
    if (!failed.empty()) return failed;
    return write_file(authorized_path, authorized_text, 0644);
}

std::string read_key_file(const std::string& path, std::vector<LoadKey>& out) {
    std::FILE* file = std::fopen(path.c_str(), "re");
    if (file == nullptr) return "cannot open " + path + ": " + std::strerror(errno);
    std::map<std::string, std::size_t, std::less<>> by_name;
    std::vector<std::string> partners;
    std::array<char, 512> buffer{};
    std::size_t line_number = 0;
    std::string failed;
    while (failed.empty() && std::fgets(buffer.data(), static_cast<int>(buffer.size()), file) != nullptr) {
        line_number++;
        std::string_view line(buffer.data());
        if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        const std::vector<std::string_view> words = words_of(line);
        if (words.empty()) continue;
        const std::string where = path + ":" + std::to_string(line_number) + ": ";
        if (words.size() < 3 || words.size() > 4 || (words.size() == 4 && words[3].substr(0, 5) != "pair=")) {
            failed = where + "expected '<private key> <public key> <name> [pair=<name>]'";
            break;
        }
        const Result<keys::X25519Key> private_key = keys::parse_key(words[0]);
        const Result<keys::X25519Key> public_key = keys::parse_key(words[1]);
        if (!private_key.ok() || !public_key.ok()) {
            failed = where + "a key is not 44 characters of base64 (32 bytes)";
            break;
        }
        LoadKey key;
        key.pair.private_key = private_key.value();
        key.pair.public_key = public_key.value();
        key.name = std::string(words[2]);
        if (!by_name.emplace(key.name, out.size()).second) {
            failed = where + "the name " + key.name + " appears twice";
            break;
        }
        partners.emplace_back(words.size() == 4 ? words[3].substr(5) : std::string_view());
        out.push_back(std::move(key));
    }
    std::fclose(file);
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()));
    if (!failed.empty()) return failed;
    for (std::size_t i = 0; i < out.size(); i++) {
        if (partners[i].empty()) continue;
        const auto found = by_name.find(partners[i]);
        if (found == by_name.end() || found->second == i || partners[found->second] != out[i].name) {
            return path + ": " + out[i].name + " names pair=" + partners[i] +
                   ", which is not a line that names it back";
        }
        out[i].partner = static_cast<std::int32_t>(found->second);
    }
    return {};
}

}  // namespace pinhole::load
