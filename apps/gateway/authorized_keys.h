// The gateway's authorized_keys file (DESIGN §2, §3b): which node keys may open a relay channel,
// their names, and which keys each may reach. One entry per line:
//
//   <key> <name> [reach=<name>,<name>,...|reach=*]
//
// <key> is a WireGuard public key in base64 (as `wg pubkey` prints it); <name> follows the
// config's rule for peer names (overlay::is_valid_name); reach= names other entries of the
// file (in any order), reach=* means every other key, and without reach= the key reaches
// nobody. A datagram is relayed only when BOTH keys allow it: `a reach=b` alone relays
// nothing between a and b until b's line names a (or says *). Blank lines and '#' comments
// (a whole line, or from a word that starts with '#') are ignored; spaces, tabs and a CR
// before the LF separate words. Duplicate keys or names, a name no line defines, an entry
// naming itself and any other word are errors that name file:line:column and the fix.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.h"
#include "core/crypto/x25519.h"

namespace pinhole::gateway {

struct AuthorizedKey {
    crypto::X25519Key key{};
    std::string name;
    bool reach_all = false;
    std::vector<std::string> reach;  // names as written, when not reach_all
};

class AuthorizedKeys;
using AuthorizedKeysResult = config::LoadResult<AuthorizedKeys>;

class AuthorizedKeys {
public:
    AuthorizedKeys() = default;

    // Reads and parses the file at `path` (at most config::max_config_file_bytes).
    [[nodiscard]] static AuthorizedKeysResult load(const std::string& path);
    // Parses `text`; errors name `path_for_errors` as the file.
    [[nodiscard]] static AuthorizedKeysResult parse(std::string_view text,
                                                    const std::string& path_for_errors);

    // The entry of `key`, or nullptr when the file does not list it.
    [[nodiscard]] const AuthorizedKey* find(const crypto::X25519Key& key) const;
    // Whether a datagram may go from `from` to `to`: both are listed, they differ, and each
    // one's reach allows the other.
    [[nodiscard]] bool may_relay(const crypto::X25519Key& from, const crypto::X25519Key& to) const;
    // The keys that `key` and each of which may relay to the other, found through `key`'s own
    // reach= list (not by walking every key); `online` narrows them to those connected. Empty
    // for an unknown key. For reach=* it walks `online`.
    template <typename Online>
    [[nodiscard]] std::vector<crypto::X25519Key> mutual_peers(const crypto::X25519Key& key, const Online& online) const {
        std::vector<crypto::X25519Key> peers;
        const auto self = by_key_.find(key);
        if (self == by_key_.end()) return peers;
        if (entries_[self->second].reach_all) {
            for (const auto& [other, unused] : online) {
                if (may_relay(key, other)) peers.push_back(other);
            }
            return peers;
        }
        for (const std::size_t other : reach_[self->second]) {
            if (allows(other, self->second) && online.count(entries_[other].key) != 0) peers.push_back(entries_[other].key);
        }
        return peers;
    }
    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    // Every entry in file order (the gateway walks them for presence).
    [[nodiscard]] const std::vector<AuthorizedKey>& entries() const { return entries_; }

private:
    explicit AuthorizedKeys(std::vector<AuthorizedKey> entries);
    [[nodiscard]] bool allows(std::size_t from, std::size_t to) const;

    std::vector<AuthorizedKey> entries_;
    std::map<crypto::X25519Key, std::size_t> by_key_;
    std::vector<std::vector<std::size_t>> reach_;  // sorted entry indices, when not reach_all
};

}  // namespace pinhole::gateway
