// Mapping a YamlTree onto the schema: the first error with its position, checked mappings
// (unknown keys, with a "did you mean"), and the kinds of value every section uses. Messages
// read "<where>: <what is wrong>: expected <what would be right>", where <where> is the key's
// path ("peers[0].public_key") and the position is the offending node's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "config/yaml_loader.h"
#include "config/yaml_tree.h"
#include "core/util/fixed_vector.h"
#include "core/util/result.h"

namespace pinhole::config {

class Walker {
public:
    // Relative paths in the file resolve against `base_dir` (absolute, without a trailing /).
    Walker(const YamlTree& tree, std::string_view file_name, std::string base_dir)
        : tree_(tree), file_name_(file_name), base_dir_(std::move(base_dir)) {}

    [[nodiscard]] const YamlTree& tree() const { return tree_; }
    [[nodiscard]] std::string_view base_dir() const { return base_dir_; }

    // Records the error (only the first counts) and returns Errc::malformed to pass upwards.
    [[nodiscard]] Status fail(const YamlNode& node, std::string_view where,
                              std::string_view message);
    [[nodiscard]] LoadError take_error();

private:
    const YamlTree& tree_;
    std::string file_name_;
    std::string base_dir_;
    std::optional<LoadError> error_;
};

// `text` in backquotes for a message, cut short if long: errors echo what the user wrote, but a
// megabyte of it helps nobody.
[[nodiscard]] std::string quote_value(std::string_view text);

// "parent.key" and "list[index]", the paths messages name.
[[nodiscard]] std::string member_path(std::string_view parent, std::string_view key);
[[nodiscard]] std::string item_path(std::string_view list, std::size_t index);

// The closest of `candidates` to `word` by edit distance (ignoring case), or "" if none is
// close enough to be a likely typo.
[[nodiscard]] std::string_view closest_match(std::string_view word,
                                             std::span<const std::string_view> candidates);

// The directory of `file_name` as an absolute path (the current directory for a bare name).
[[nodiscard]] std::string directory_of(std::string_view file_name);

// Fails unless `node` is a mapping with plain keys, each in `known_keys` and each once. An empty
// value (`gateway:` with nothing under it) counts as an empty mapping.
[[nodiscard]] Status check_mapping(Walker& walker, const YamlNode& node, std::string_view where,
                                   std::span<const std::string_view> known_keys);
// The value under `key` in a checked mapping; nullptr when the key is absent.
[[nodiscard]] const YamlNode* find_field(const YamlTree& tree, const YamlNode& mapping,
                                         std::string_view key);
// Like find_field, but a missing key fails with "missing `key`: <why>" at the mapping.
[[nodiscard]] Status require_field(Walker& walker, const YamlNode& mapping, std::string_view where,
                                   std::string_view key, std::string_view why,
                                   const YamlNode*& value);

// A scalar's text: fails on a list, a mapping, an empty value, or control characters.
// `expected` completes "expected ..." in the message (e.g. "a port number such as 51820").
[[nodiscard]] Status read_text(Walker& walker, const YamlNode& node, std::string_view where,
                               std::string_view expected, std::string_view& text);
// A list: nothing (an empty value) counts as empty; anything else but a sequence fails.
[[nodiscard]] Status check_list(Walker& walker, const YamlNode& node, std::string_view where,
                                std::string_view example);

// Calls read_item(item, item_where) for each item of the list at `node`, stopping at the first
// failure.
template <typename ReadItem>
[[nodiscard]] Status for_each_item(Walker& walker, const YamlNode& node, std::string_view where,
                                   std::string_view example, ReadItem&& read_item) {
    if (auto status = check_list(walker, node, where, example); !status.ok()) return status;
    for (std::size_t i = 0; i < node.children.size(); ++i) {
        const Status status = read_item(walker.tree().child(node, i), item_path(where, i));
        if (!status.ok()) return status;
    }
    return {};
}

struct NumberRange {
    std::uint32_t min = 0;
    std::uint32_t max = 0;
    std::string_view why;  // appended in parentheses to range errors; may be empty
};
// A decimal whole number within `range`.
[[nodiscard]] Status read_number(Walker& walker, const YamlNode& node, std::string_view where,
                                 const NumberRange& range, std::uint32_t& value);

// Fails with "too many <noun>: this build holds at most <capacity> (<limit>)".
[[nodiscard]] Status fail_capacity(Walker& walker, const YamlNode& node, std::string_view where,
                                   std::string_view noun, std::size_t capacity,
                                   std::string_view limit);

// Appends `value`, failing with fail_capacity when the list is full.
template <typename T, std::size_t N>
[[nodiscard]] Status append(Walker& walker, const YamlNode& node, std::string_view where,
                            FixedVector<T, N>& list, const T& value, std::string_view noun,
                            std::string_view limit) {
    if (list.push_back(value).ok()) return {};
    return fail_capacity(walker, node, where, noun, N, limit);
}

}  // namespace pinhole::config
