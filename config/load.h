// Loading a node or gateway config from YAML (Linux only). Every call returns the config or the
// first error, as "file:line:column: <key path>: <what is wrong>: expected <what is right>";
// nothing throws. Unknown keys, wrong types, missing required keys, bad values, duplicates and
// more entries than the build holds are all errors: nothing is guessed, truncated or dropped.
// Relative paths in the file (key.data_dir, ca_file, preshared_key_file, tls.cert, tls.key,
// authorized_keys) resolve against the directory of the config file; see config/README.md.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "config/schema.h"
#include "config/yaml_loader.h"
#include "core/util/assert.h"

namespace pinhole::config {

// A loaded config or the error that stopped it. The config lives on the heap: a NodeConfig is
// large (fixed capacities) and has no business on a thread's stack.
template <typename Config>
class [[nodiscard]] LoadResult {
public:
    explicit LoadResult(std::unique_ptr<Config> config) noexcept : config_(std::move(config)) {
        PINHOLE_ASSERT(config_ != nullptr);
    }
    explicit LoadResult(LoadError error) noexcept : error_(std::move(error)) {}

    [[nodiscard]] bool ok() const noexcept { return config_ != nullptr; }
    [[nodiscard]] const Config& value() const noexcept {
        PINHOLE_ASSERT(ok());
        return *config_;
    }
    [[nodiscard]] const LoadError& error() const noexcept {
        PINHOLE_ASSERT(!ok());
        return error_;
    }

private:
    std::unique_ptr<Config> config_;
    LoadError error_;
};

[[nodiscard]] LoadResult<NodeConfig> load_node_config(std::string_view path) noexcept;
[[nodiscard]] LoadResult<GatewayConfig> load_gateway_config(std::string_view path) noexcept;

// The same for text already in memory (tests, fuzzing, a config piped in): `file_name` names
// the text in errors and anchors relative paths, as the path of a file would.
[[nodiscard]] LoadResult<NodeConfig> load_node_config_from_text(std::string_view file_name,
                                                                std::string_view text) noexcept;
[[nodiscard]] LoadResult<GatewayConfig> load_gateway_config_from_text(
    std::string_view file_name, std::string_view text) noexcept;

}  // namespace pinhole::config
