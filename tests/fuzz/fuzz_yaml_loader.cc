// Any bytes given to the YAML loader come back as "ok" or an error; nothing escapes (no
// exception, no crash, no sanitizer report). The same bytes go through the YAML check and both
// schema loaders. An error has a file name, a message and a position that is either the whole
// file (0:0) or a real line and column; a loaded config respects its own invariants.
#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/load.h"
#include "config/yaml_loader.h"

namespace {

void check_error(const pinhole::config::LoadError& error) {
    const bool whole_file = error.line == 0 && error.column == 0;
    const bool positioned = error.line > 0 && error.column > 0;
    if (error.file.empty() || error.message.empty() || !(whole_file || positioned)) {
        __builtin_trap();
    }
}

void check_node(const pinhole::config::NodeConfig& config) {
    using namespace pinhole::config;
    if (config.mtu_bytes < min_mtu_bytes || config.mtu_bytes > max_mtu_bytes) __builtin_trap();
    if (!config.key.has_private_key && config.key.data_dir.empty()) __builtin_trap();
    for (const Peer& peer : config.peers) {
        for (const AllowRule& rule : peer.allow) {
            if (rule.kind == AllowKind::service && rule.service_index >= config.services.size()) {
                __builtin_trap();
            }
            if (rule.kind != AllowKind::service && rule.ports.empty()) __builtin_trap();
        }
    }
}

// Random bytes rarely get past the first required key, so the first byte may pick a valid start
// that the rest of the input continues: the fuzzer then reaches the peer, service and gateway
// code without a corpus.
constexpr std::array<std::string_view, 4> starts{
    "",
    "key: {data_dir: /d}\nservices: {ssh: 127.0.0.1:22}\n",
    "key: {data_dir: /d}\nservices: {ssh: 127.0.0.1:22}\npeers:\n  - name: a\n"
    "    public_key: \"JjzwqtYGbiBnHQvIh1TyZmt7sz7v7RbtrC1ZbLVeP9g=\"\n    ",
    "key: {data_dir: /d}\nlisten: [\"[::]:8443\"]\nauthorized_keys: a\n",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string text = std::string(starts[data[0] % starts.size()]) + std::string(rest);
    if (const auto error = pinhole::config::check_yaml_text("fuzz.yaml", text)) check_error(*error);

    const auto node = pinhole::config::load_node_config_from_text("/fuzz/node.yaml", text);
    if (node.ok()) {
        check_node(node.value());
    } else {
        check_error(node.error());
    }
    const auto gateway = pinhole::config::load_gateway_config_from_text("/fuzz/gateway.yaml", text);
    if (!gateway.ok()) check_error(gateway.error());
    return 0;
}
