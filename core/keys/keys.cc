#include "core/keys/keys.h"

#include <array>
#include <cstring>

#include "core/crypto/blake2s.h"
#include "core/crypto/ct.h"
#include "core/util/base64.h"

namespace pinhole::keys {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

// Key file contents: the base64 text and a newline, as wg writes them.
constexpr std::size_t key_file_bytes = key_text_bytes + 1;

Status write_key_record(port::Storage& storage, const char* name, port::Secrecy secrecy,
                        const X25519Key& key) noexcept {
    std::array<char, key_text_bytes + 1> text{};
    Status status = format_key(key, text);
    if (status.ok()) {
        text[key_text_bytes] = '\n';
        status = storage.write(name, secrecy,
                               std::span(reinterpret_cast<const std::uint8_t*>(text.data()),
                                         key_file_bytes));
    }
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
    return status;
}

Result<KeyPair> key_pair_from_text(std::string_view text) noexcept {
    Result<X25519Key> key = parse_key(text);
    Result<KeyPair> pair = key.ok() ? key_pair_from_private(key.value()) : Result<KeyPair>(key.error());
    if (key.ok()) crypto::zeroize(key.value());
    return pair;
}

Result<KeyPair> read_stored_identity(port::Storage& storage) noexcept {
    std::array<std::uint8_t, 128> text{};  // a key, its newline and some stray whitespace
    const Result<std::size_t> read = storage.read(private_key_record, port::Secrecy::secret, text);
    Result<KeyPair> pair =
        read.ok() ? key_pair_from_text(std::string_view(reinterpret_cast<const char*>(text.data()),
                                                        read.value()))
                  : Result<KeyPair>(read.error());
    crypto::zeroize(text);
    return pair;
}

}  // namespace

Result<X25519Key> parse_key(std::string_view text) noexcept {
    text = trim(text);
    if (text.size() != key_text_bytes) return Errc::malformed;
    std::array<std::uint8_t, crypto::x25519_key_bytes + 2> decoded{};  // 44 chars hold 33 bytes
    const Result<std::size_t> length = base64_decode(text, decoded);
    const bool valid = length.ok() && length.value() == crypto::x25519_key_bytes;
    X25519Key bytes{};
    if (valid) std::memcpy(bytes.data(), decoded.data(), bytes.size());
    Result<X25519Key> key = valid ? Result<X25519Key>(bytes) : Result<X25519Key>(Errc::malformed);
    crypto::zeroize(bytes);
    crypto::zeroize(decoded);
    return key;
}

Status format_key(const X25519Key& key, std::span<char> out) noexcept {
    const Result<std::size_t> length = base64_encode(key, out);
    if (!length.ok()) return length.error();
    PINHOLE_ASSERT(length.value() == key_text_bytes);
    return {};
}

Result<KeyPair> key_pair_from_private(const X25519Key& private_key) noexcept {
    KeyPair pair;
    pair.private_key = private_key;
    crypto::x25519_clamp(pair.private_key);
    const Status derived = crypto::x25519_public_key(pair.public_key, pair.private_key);
    Result<KeyPair> result = derived.ok() ? Result<KeyPair>(pair) : Result<KeyPair>(derived.error());
    crypto::zeroize_object(pair);
    return result;
}

Result<KeyPair> generate_key_pair(port::Random& random) noexcept {
    X25519Key private_key{};
    const Status generated = crypto::x25519_generate(private_key, random);
    Result<KeyPair> pair = generated.ok() ? key_pair_from_private(private_key)
                                          : Result<KeyPair>(generated.error());
    crypto::zeroize(private_key);
    return pair;
}

net::IpAddress overlay_address(const X25519Key& public_key) noexcept {
    crypto::Blake2s256 digest{};
    const Status hashed = crypto::blake2s(digest, public_key);
    PINHOLE_ASSERT(hashed.ok());  // fixed, valid lengths
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), overlay_prefix, sizeof overlay_prefix);
    std::memcpy(bytes.data() + sizeof overlay_prefix, digest.data(), bytes.size() - sizeof overlay_prefix);
    return net::IpAddress::v6(bytes);
}

Result<KeyPair> load_identity(std::string_view configured_private_key, port::Storage& storage,
                              port::Random& random, bool create_if_missing) noexcept {
    if (!trim(configured_private_key).empty()) {
        const Result<X25519Key> key = parse_key(configured_private_key);
        if (!key.ok()) return key.error();
        return key_pair_from_private(key.value());
    }
    Result<KeyPair> stored = read_stored_identity(storage);
    if (stored.ok() || stored.error() != Errc::not_found || !create_if_missing) return stored;

    Result<KeyPair> created = generate_key_pair(random);
    if (!created.ok()) return created;
    Status written = write_key_record(storage, private_key_record, port::Secrecy::secret,
                                      created.value().private_key);
    if (written.ok()) {
        written = write_key_record(storage, public_key_record, port::Secrecy::public_record,
                                   created.value().public_key);
    }
    if (!written.ok()) return written.error();
    return created;
}

}  // namespace pinhole::keys
