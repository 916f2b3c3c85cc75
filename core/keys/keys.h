// A node's identity: an X25519 key pair in WireGuard's base64 format (`wg genkey` and
// `wg pubkey` read and write the same text), and the overlay address derived from the public key.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "core/crypto/x25519.h"
#include "core/net/address.h"
#include "core/util/result.h"
#include "port/random.h"
#include "port/storage.h"

namespace pinhole::keys {

using crypto::X25519Key;

// 44 base64 characters, plus the NUL that format_key writes.
inline constexpr std::size_t key_text_bytes = 44;
inline constexpr char private_key_record[] = "agent_key";
inline constexpr char public_key_record[] = "agent_key.pub";
// fd7a:7069:6e68::/48 ("pinh" in ASCII after fd) + 80 bits of BLAKE2s-256(public key).
inline constexpr std::uint8_t overlay_prefix[6] = {0xfd, 0x7a, 0x70, 0x69, 0x6e, 0x68};

struct KeyPair {
    X25519Key private_key{};
    X25519Key public_key{};
};

// Base64 of exactly 32 bytes; surrounding whitespace (a file's newline) is ignored.
[[nodiscard]] Result<X25519Key> parse_key(std::string_view text) noexcept;
// Writes 44 characters and a NUL into `out` (at least key_text_bytes + 1).
[[nodiscard]] Status format_key(const X25519Key& key, std::span<char> out) noexcept;

// A new clamped private key and its public key, as `wg genkey | wg pubkey` makes them.
[[nodiscard]] Result<KeyPair> generate_key_pair(port::Random& random) noexcept;
// The key pair of a private key (clamped as X25519 uses it).
[[nodiscard]] Result<KeyPair> key_pair_from_private(const X25519Key& private_key) noexcept;

[[nodiscard]] net::IpAddress overlay_address(const X25519Key& public_key) noexcept;

// Where a node's key comes from, in order: `configured_private_key` (the config's
// private_key:, empty if none), then the storage's agent_key record; with `create_if_missing`,
// a new key is generated and both records written (agent_key 0600, agent_key.pub 0644).
// Errc::permission when agent_key can be read by others (the node refuses to use it);
// Errc::not_found when there is none and create_if_missing is false.
[[nodiscard]] Result<KeyPair> load_identity(std::string_view configured_private_key,
                                            port::Storage& storage, port::Random& random,
                                            bool create_if_missing) noexcept;

}  // namespace pinhole::keys
