// Reading YAML files on Linux. The only door to yaml-cpp: nothing here throws, and every error
// names the file, line and column (1-based) so the user can go straight to it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pinhole::config {

struct LoadError {
    std::string file;
    int line = 0;    // 1-based; 0 when the error is about the whole file
    int column = 0;  // 1-based; 0 when the error is about the whole file
    std::string message;

    // "file:line:column: message", the form compilers use, so editors can jump to it.
    [[nodiscard]] std::string to_string() const;
};

// Checks that `text` (read from `file_name`) is well-formed YAML with a mapping at the top.
[[nodiscard]] std::optional<LoadError> check_yaml_text(std::string_view file_name,
                                                       std::string_view text) noexcept;

// Reads `path` and checks it as check_yaml_text does.
[[nodiscard]] std::optional<LoadError> check_yaml_file(const std::string& path) noexcept;

}  // namespace pinhole::config
