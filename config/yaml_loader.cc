#include "config/yaml_loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pinhole::config {
namespace {

LoadError error_at(std::string_view file, const YAML::Mark& mark, std::string message) {
    // yaml-cpp counts from 0 and uses -1 for "no position".
    const int line = mark.line >= 0 ? mark.line + 1 : 0;
    const int column = mark.column >= 0 ? mark.column + 1 : 0;
    return LoadError{std::string(file), line, column, std::move(message)};
}

}  // namespace

std::string LoadError::to_string() const {
    std::string text = file;
    if (line > 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
    return text + ": " + message;
}

std::optional<LoadError> check_yaml_text(std::string_view file_name, std::string_view text) noexcept {
    try {
        const YAML::Node root = YAML::Load(std::string(text));
        if (!root.IsMap()) {
            return error_at(file_name, root.Mark(),
                            "expected a mapping of settings at the top level (key: value lines)");
        }
        return std::nullopt;
    } catch (const YAML::Exception& error) {
        return error_at(file_name, error.mark, error.msg);
    } catch (const std::exception& error) {
        return LoadError{std::string(file_name), 0, 0, error.what()};
    } catch (...) {
        return LoadError{std::string(file_name), 0, 0, "unexpected error while reading YAML"};
    }
}

std::optional<LoadError> check_yaml_file(const std::string& path) noexcept {
    try {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            return LoadError{path, 0, 0, std::string("cannot open: ") + std::strerror(errno)};
        }
        std::ostringstream contents;
        contents << in.rdbuf();
        return check_yaml_text(path, contents.str());
    } catch (...) {
        return LoadError{path, 0, 0, "cannot read the file"};
    }
}

}  // namespace pinhole::config
