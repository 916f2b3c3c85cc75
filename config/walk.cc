#include "config/walk.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace pinhole::config {
namespace {

// Words longer than this get no suggestion (the distance table is fixed-size).
constexpr std::size_t max_suggestion_chars = 64;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case:
// "mut" is one step from "mtu". Three rolling rows of a fixed table; both words are short.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    using Row = std::array<std::size_t, max_suggestion_chars + 1>;
    Row before_previous{};
    Row previous{};
    Row current{};
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            const bool transposed = i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                                    lower(a[i - 2]) == lower(b[j - 1]);
            if (transposed) current[j] = std::min(current[j], before_previous[j - 2] + 1);
        }
        before_previous = previous;
        previous = current;
    }
    return previous[b.size()];
}

const char* kind_name(YamlNode::Kind kind) {
    switch (kind) {
        case YamlNode::Kind::null:
            return "nothing (the value is empty)";
        case YamlNode::Kind::scalar:
            return "a single value";
        case YamlNode::Kind::sequence:
            return "a list";
        case YamlNode::Kind::mapping:
            return "a mapping (key: value lines)";
    }
    return "something else";
}

bool has_control_character(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
}

Status fail_unknown_key(Walker& walker, const YamlNode& key, std::string_view where,
                        std::span<const std::string_view> known_keys) {
    std::string message = "unknown key " + quote_value(key.text);
    const std::string_view suggestion = closest_match(key.text, known_keys);
    if (!suggestion.empty()) {
        message += ": did you mean `" + std::string(suggestion) + "`?";
    } else {
        message += ": expected one of ";
        for (std::size_t i = 0; i < known_keys.size(); ++i) {
            message += (i == 0 ? "" : ", ") + std::string(known_keys[i]);
        }
    }
    return walker.fail(key, where, message);
}

}  // namespace

Status Walker::fail(const YamlNode& node, std::string_view where, std::string_view message) {
    if (!error_) {
        std::string text =
            where.empty() ? std::string(message) : std::string(where) + ": " + std::string(message);
        error_ = LoadError{file_name_, node.line, node.column, std::move(text)};
    }
    return Errc::malformed;
}

LoadError Walker::take_error() {
    if (!error_) return LoadError{file_name_, 0, 0, "invalid configuration"};
    LoadError error = std::move(*error_);
    error_.reset();
    return error;
}

std::string quote_value(std::string_view text) {
    constexpr std::size_t max_echo_chars = 60;
    if (text.size() <= max_echo_chars) return "`" + std::string(text) + "`";
    return "`" + std::string(text.substr(0, max_echo_chars - 3)) + "...`";
}

std::string member_path(std::string_view parent, std::string_view key) {
    return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

std::string item_path(std::string_view list, std::size_t index) {
    return std::string(list) + "[" + std::to_string(index) + "]";
}

std::string_view closest_match(std::string_view word,
                               std::span<const std::string_view> candidates) {
    if (word.empty() || word.size() > max_suggestion_chars) return {};
    // A third of the word may be wrong; a word inside a candidate ("keepalive" in
    // "persistent_keepalive") ranks behind any closer typo.
    const std::size_t threshold = std::max<std::size_t>(1, word.size() / 3);
    std::string_view best;
    std::size_t best_score = threshold + 1;
    for (const std::string_view candidate : candidates) {
        if (candidate.size() > max_suggestion_chars) continue;
        std::size_t score = edit_distance(word, candidate);
        const bool contains = word.size() >= 4 && (candidate.find(word) != std::string_view::npos ||
                                                   word.find(candidate) != std::string_view::npos);
        if (score > threshold && contains) score = threshold;
        if (score < best_score) {
            best = candidate;
            best_score = score;
        }
    }
    return best;
}

std::string directory_of(std::string_view file_name) {
    const std::size_t slash = file_name.rfind('/');
    std::string directory =
        slash == std::string_view::npos ? std::string() : std::string(file_name.substr(0, slash));
    if (slash == 0) directory = "/";
    if (!directory.empty() && directory.front() == '/') return directory;
    std::array<char, 4096> current{};
    const std::string cwd =
        ::getcwd(current.data(), current.size()) != nullptr ? current.data() : ".";
    if (directory.empty()) return cwd;
    return (cwd == "/" ? "" : cwd) + "/" + directory;
}

Status check_mapping(Walker& walker, const YamlNode& node, std::string_view where,
                     std::span<const std::string_view> known_keys) {
    if (node.kind == YamlNode::Kind::null) return {};
    if (node.kind != YamlNode::Kind::mapping) {
        return walker.fail(
            node, where,
            std::string("expected a mapping (key: value lines), found ") + kind_name(node.kind));
    }
    const YamlTree& tree = walker.tree();
    for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
        const YamlNode& key = tree.child(node, i);
        if (key.kind != YamlNode::Kind::scalar) {
            return walker.fail(key, where,
                               std::string("expected a plain key, found ") + kind_name(key.kind));
        }
        if (std::find(known_keys.begin(), known_keys.end(), key.text) == known_keys.end()) {
            return fail_unknown_key(walker, key, where, known_keys);
        }
        for (std::size_t j = 0; j < i; j += 2) {
            const YamlNode& earlier = tree.child(node, j);
            if (earlier.text == key.text) {
                return walker.fail(key, where,
                                   quote_value(key.text) + " is set twice (first on line " +
                                       std::to_string(earlier.line) + "); keep one");
            }
        }
    }
    return {};
}

const YamlNode* find_field(const YamlTree& tree, const YamlNode& mapping, std::string_view key) {
    for (std::size_t i = 0; i + 1 < mapping.children.size(); i += 2) {
        if (tree.child(mapping, i).text == key) return &tree.child(mapping, i + 1);
    }
    return nullptr;
}

Status require_field(Walker& walker, const YamlNode& mapping, std::string_view where,
                     std::string_view key, std::string_view why, const YamlNode*& value) {
    value = find_field(walker.tree(), mapping, key);
    if (value != nullptr) return {};
    return walker.fail(mapping, where, "missing `" + std::string(key) + "`: " + std::string(why));
}

Status read_text(Walker& walker, const YamlNode& node, std::string_view where,
                 std::string_view expected, std::string_view& text) {
    if (node.kind != YamlNode::Kind::scalar) {
        return walker.fail(node, where,
                           "expected " + std::string(expected) + ", found " + kind_name(node.kind));
    }
    if (node.text.empty()) {
        return walker.fail(node, where, "the value is empty: expected " + std::string(expected));
    }
    if (has_control_character(node.text)) {
        return walker.fail(node, where,
                           "contains a control character (a tab or a line break?): "
                           "expected " +
                               std::string(expected));
    }
    text = node.text;
    return {};
}

Status check_list(Walker& walker, const YamlNode& node, std::string_view where,
                  std::string_view example) {
    if (node.kind == YamlNode::Kind::null || node.kind == YamlNode::Kind::sequence) return {};
    return walker.fail(node, where,
                       std::string("expected a list, found ") + kind_name(node.kind) +
                           "; write it as " + std::string(example));
}

Status read_number(Walker& walker, const YamlNode& node, std::string_view where,
                   const NumberRange& range, std::uint32_t& value) {
    const std::string expected =
        "a whole number " + std::to_string(range.min) + ".." + std::to_string(range.max);
    const std::string why = range.why.empty() ? "" : " (" + std::string(range.why) + ")";
    std::string_view text;
    if (auto status = read_text(walker, node, where, expected, text); !status.ok()) return status;
    const bool digits_only =
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits_only) {
        return walker.fail(node, where,
                           quote_value(text) + " is not a number: expected " + expected + why);
    }
    std::uint64_t number = 0;
    for (const char digit : text.substr(0, 11)) {
        number = number * 10 + static_cast<unsigned>(digit - '0');
    }
    if (text.size() > 11 || number < range.min || number > range.max) {
        const std::string shown = text.size() > 11 ? quote_value(text) : std::string(text);
        return walker.fail(node, where,
                           shown + " is out of range: expected " + std::to_string(range.min) +
                               ".." + std::to_string(range.max) + why);
    }
    value = static_cast<std::uint32_t>(number);
    return {};
}

Status fail_capacity(Walker& walker, const YamlNode& node, std::string_view where,
                     std::string_view noun, std::size_t capacity, std::string_view limit) {
    return walker.fail(node, where,
                       "too many " + std::string(noun) + ": this build holds at most " +
                           std::to_string(capacity) + " (" + std::string(limit) + ")");
}

}  // namespace pinhole::config
