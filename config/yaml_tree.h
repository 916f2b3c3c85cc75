// A parsed YAML document as plain data: what yaml-cpp read, copied out of it, so that the code
// mapping YAML onto the schema never touches yaml-cpp (whose every call may throw) and builds
// with the strict flags. Linux only: it lives on the heap.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pinhole::config {

struct YamlNode {
    enum class Kind : unsigned char { null, scalar, sequence, mapping };
    Kind kind = Kind::null;
    int line = 0;    // 1-based
    int column = 0;  // 1-based
    std::string text;  // scalar: the value as written, unquoted and unescaped
    // Indices into YamlTree::nodes. Sequence: the items. Mapping: key, value, key, value...
    std::vector<std::size_t> children;
};

struct YamlTree {
    std::vector<YamlNode> nodes;  // nodes[0] is the root; empty for an empty file

    [[nodiscard]] const YamlNode& child(const YamlNode& node, std::size_t position) const {
        return nodes[node.children[position]];
    }
};

}  // namespace pinhole::config
