#include "config/load.h"

#include "config/sections.h"
#include "config/walk.h"

namespace pinhole::config {
namespace {

template <typename Config>
using Walk = Status (*)(Walker&, const YamlNode&, Config&);

template <typename Config>
LoadResult<Config> load_text(std::string_view file_name, std::string_view text, Walk<Config> walk) {
    if (text.size() > max_config_file_bytes) {
        return LoadResult<Config>(LoadError{std::string(file_name), 0, 0,
                                            "the text is larger than 1 MiB; a pinhole config is a "
                                            "few kilobytes"});
    }
    YamlTree tree;
    if (auto error = parse_yaml_tree(file_name, text, tree)) {
        return LoadResult<Config>(std::move(*error));
    }
    // An empty file is an empty mapping: the walk then names the first required key.
    const YamlNode empty_file;
    const YamlNode& root = tree.nodes.empty() ? empty_file : tree.nodes[0];
    Walker walker(tree, file_name, directory_of(file_name));
    auto config = std::make_unique<Config>();
    if (!walk(walker, root, *config).ok()) return LoadResult<Config>(walker.take_error());
    return LoadResult<Config>(std::move(config));
}

template <typename Config>
LoadResult<Config> load_file(std::string_view path, Walk<Config> walk) {
    std::string text;
    if (auto error = read_config_file(std::string(path), text)) {
        return LoadResult<Config>(std::move(*error));
    }
    return load_text(path, text, walk);
}

}  // namespace

LoadResult<NodeConfig> load_node_config(std::string_view path) noexcept {
    return load_file<NodeConfig>(path, walk_node_config);
}

LoadResult<GatewayConfig> load_gateway_config(std::string_view path) noexcept {
    return load_file<GatewayConfig>(path, walk_gateway_config);
}

LoadResult<NodeConfig> load_node_config_from_text(std::string_view file_name,
                                                  std::string_view text) noexcept {
    return load_text<NodeConfig>(file_name, text, walk_node_config);
}

LoadResult<GatewayConfig> load_gateway_config_from_text(std::string_view file_name,
                                                        std::string_view text) noexcept {
    return load_text<GatewayConfig>(file_name, text, walk_gateway_config);
}

}  // namespace pinhole::config
