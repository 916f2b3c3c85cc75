// Reading YAML files on Linux. The only door to yaml-cpp: nothing here throws, and every error
// names the file, line and column (1-based) so the user can go straight to it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/yaml_tree.h"

namespace pinhole::config {

struct LoadError {
    std::string file;
    int line = 0;    // 1-based; 0 when the error is about the whole file
    int column = 0;  // 1-based; 0 when the error is about the whole file
    std::string message;

    // "file:line:column: message", the form compilers use, so editors can jump to it.
    [[nodiscard]] std::string to_string() const;
};

// A config is a few kilobytes; anything this large is a mistake (or an attack on the parser).
inline constexpr std::size_t max_config_file_bytes = 1024 * 1024;

// Parses `text` (read from `file_name`) into `tree`: one document, any shape. Aliases (*name)
// are refused, so the tree is never larger than the text.
[[nodiscard]] std::optional<LoadError> parse_yaml_tree(std::string_view file_name,
                                                       std::string_view text,
                                                       YamlTree& tree) noexcept;

// Reads the whole file at `path` (at most max_config_file_bytes) into `text`.
[[nodiscard]] std::optional<LoadError> read_config_file(const std::string& path,
                                                        std::string& text) noexcept;

// Checks that `text` (read from `file_name`) is well-formed YAML with a mapping at the top.
[[nodiscard]] std::optional<LoadError> check_yaml_text(std::string_view file_name,
                                                       std::string_view text) noexcept;

// Reads `path` and checks it as check_yaml_text does.
[[nodiscard]] std::optional<LoadError> check_yaml_file(const std::string& path) noexcept;

}  // namespace pinhole::config
