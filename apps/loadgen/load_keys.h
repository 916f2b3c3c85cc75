// pinhole-load's key file: the node identities the load tool plays, one per line,
//
//   <private key> <public key> <name> [pair=<name>]
//
// keys in WireGuard's base64 (as `wg genkey` / `wg pubkey`), names as authorized_keys wants them.
// A line with pair= is one side of an active pair: its authorized_keys line reaches the other
// side (and only it); a line without is an idle channel that reaches nobody. '#' starts a comment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/keys/keys.h"

namespace pinhole::load {

struct LoadKey {
    keys::KeyPair pair;
    std::string name;
    std::int32_t partner = -1;  // index of the other side of an active pair, -1 when idle
};

// Writes `count` idle identities and `pairs` active pairs to `keys_path` (mode 0600) and the
// gateway's matching authorized_keys to `authorized_path` (0644). Empty on success, else why.
std::string write_key_files(std::size_t count, std::size_t pairs, const std::string& prefix,
                            const std::string& keys_path, const std::string& authorized_path);

// Reads a key file; empty on success, else the reason naming file:line.
std::string read_key_file(const std::string& path, std::vector<LoadKey>& out);

}  // namespace pinhole::load
