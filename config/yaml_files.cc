// The parts of yaml_loader.h that need no yaml-cpp: reading files and formatting errors.
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "config/yaml_loader.h"

namespace pinhole::config {

std::string LoadError::to_string() const {
    std::string text = file;
    if (line > 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
    return text + ": " + message;
}

std::optional<LoadError> read_config_file(const std::string& path, std::string& text) noexcept {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return LoadError{path, 0, 0, std::string("cannot open: ") + std::strerror(errno)};
    }
    text.clear();
    std::array<char, 4096> chunk{};
    int read_errno = 0;
    // Bounded: each round adds a chunk or ends, and the size limit ends it in any case.
    while (text.size() <= max_config_file_bytes) {
        const std::size_t got = std::fread(chunk.data(), 1, chunk.size(), file);
        text.append(chunk.data(), got);
        if (got < chunk.size()) {
            if (std::ferror(file) != 0) read_errno = errno;
            break;
        }
    }
    std::fclose(file);
    if (read_errno != 0) {
        return LoadError{path, 0, 0, std::string("cannot read: ") + std::strerror(read_errno)};
    }
    if (text.size() > max_config_file_bytes) {
        return LoadError{path, 0, 0,
                         "the file is larger than 1 MiB; a pinhole config is a few kilobytes "
                         "(is this the right file?)"};
    }
    return std::nullopt;
}

std::optional<LoadError> check_yaml_text(std::string_view file_name,
                                         std::string_view text) noexcept {
    YamlTree tree;
    if (auto error = parse_yaml_tree(file_name, text, tree)) return error;
    if (tree.nodes.empty() || tree.nodes[0].kind != YamlNode::Kind::mapping) {
        const int line = tree.nodes.empty() ? 0 : tree.nodes[0].line;
        const int column = tree.nodes.empty() ? 0 : tree.nodes[0].column;
        return LoadError{std::string(file_name), line, column,
                         "expected a mapping of settings at the top level (key: value lines)"};
    }
    return std::nullopt;
}

std::optional<LoadError> check_yaml_file(const std::string& path) noexcept {
    std::string text;
    if (auto error = read_config_file(path, text)) return error;
    return check_yaml_text(path, text);
}

}  // namespace pinhole::config
