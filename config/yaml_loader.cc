// The one file that calls yaml-cpp, built with exceptions: it turns the parser's events into a
// YamlTree and every exception into a LoadError. Everything else in config/ is strict code.
#include "config/yaml_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <array>
#include <sstream>
#include <utility>

namespace pinhole::config {
namespace {

LoadError error_at(std::string_view file, const YAML::Mark& mark, std::string message) {
    // yaml-cpp counts from 0 and uses -1 for "no position".
    const int line = mark.line >= 0 ? mark.line + 1 : 0;
    const int column = mark.column >= 0 ? mark.column + 1 : 0;
    return LoadError{std::string(file), line, column, std::move(message)};
}

// yaml-cpp's messages say what broke, not what to do; these add the usual fix.
std::string explain_parser_message(const std::string& message) {
    struct Hint {
        std::string_view parser_says;
        std::string_view hint;
    };
    static constexpr std::array<Hint, 6> hints{{
        {"end of map not found", "check the indentation: keys of one mapping line up, spaces only"},
        {"illegal map value", "check the indentation, and quote values that contain \": \""},
        {"the referenced anchor is not defined",
         "quote values that start with *, e.g. \"*.lan:22\""},
        {"alias not found after *", "quote values that start with *, e.g. \"*.lan:22\""},
        {"illegal character found while scanning alias", "quote values that start with *"},
        {"end of sequence flow not found", "a list in brackets needs its closing ]"},
    }};
    for (const Hint& hint : hints) {
        if (message.starts_with(hint.parser_says)) {
            return message + " (" + std::string(hint.hint) + ")";
        }
    }
    return message;
}

// Appends one node per event; containers stay open on a stack until their end event, so deep
// nesting costs heap, not recursion (yaml-cpp itself stops at a depth of 2000).
class TreeBuilder final : public YAML::EventHandler {
public:
    TreeBuilder(YamlTree& tree, std::string_view text) : tree_(tree), text_(text) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
        // yaml-cpp marks an empty value where the next token starts, often the next line; the
        // key it belongs to, or the `-` of an empty list item, is where the user should look.
        const YamlNode* key = open_mapping_key();
        YAML::Mark position = key != nullptr ? mark : empty_item_dash(mark);
        if (key != nullptr) {
            position.line = key->line - 1;
            position.column = key->column - 1;
        }
        add(YamlNode::Kind::null, position);  // may move the nodes: `key` is stale from here
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
        throw YAML::ParserException(mark,
                                    "aliases (*name) are not supported in pinhole configs: "
                                    "write the value out (and quote values that start with *)");
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string& value) override {
        add(YamlNode::Kind::scalar, mark).text = value;
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        open(YamlNode::Kind::sequence, mark);
    }
    void OnSequenceEnd() override { open_.pop_back(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        open(YamlNode::Kind::mapping, mark);
    }
    void OnMapEnd() override { open_.pop_back(); }

private:
    YamlNode& add(YamlNode::Kind kind, const YAML::Mark& mark) {
        const std::size_t index = tree_.nodes.size();
        if (!open_.empty()) tree_.nodes[open_.back()].children.push_back(index);
        YamlNode& node = tree_.nodes.emplace_back();
        node.kind = kind;
        node.line = mark.line + 1;
        node.column = mark.column + 1;
        return node;
    }
    // The `-` before `mark` across blanks, if the innermost open container is a sequence.
    YAML::Mark empty_item_dash(const YAML::Mark& mark) const {
        const bool in_sequence =
            !open_.empty() && tree_.nodes[open_.back()].kind == YamlNode::Kind::sequence;
        if (!in_sequence || mark.pos < 0) return mark;
        std::size_t end = std::min(static_cast<std::size_t>(mark.pos), text_.size());
        int line = mark.line;
        const auto is_blank = [](char c) {
            return c == ' ' || c == '\t' || c == '\r' || c == '\n';
        };
        // Bounded by the text: each step moves one character back.
        while (end > 0 && is_blank(text_[end - 1])) {
            --end;
            if (text_[end] == '\n') --line;
        }
        if (end == 0 || text_[end - 1] != '-') return mark;
        const std::size_t dash = end - 1;
        const std::size_t newline = text_.rfind('\n', dash);
        YAML::Mark position = mark;
        position.line = line;
        position.column =
            static_cast<int>(newline == std::string_view::npos ? dash : dash - newline - 1);
        return position;
    }
    // The key whose value comes next, if the innermost open container is a mapping.
    const YamlNode* open_mapping_key() const {
        if (open_.empty()) return nullptr;
        const YamlNode& container = tree_.nodes[open_.back()];
        const bool expects_value = container.children.size() % 2 == 1;
        if (container.kind != YamlNode::Kind::mapping || !expects_value) return nullptr;
        return &tree_.nodes[container.children.back()];
    }
    void open(YamlNode::Kind kind, const YAML::Mark& mark) {
        add(kind, mark);
        open_.push_back(tree_.nodes.size() - 1);
    }

    YamlTree& tree_;
    std::string_view text_;  // what the parser reads, to find the `-` of an empty item
    std::vector<std::size_t> open_;
};

// Notes where a second document starts, to refuse it.
class SecondDocumentFinder final : public YAML::EventHandler {
public:
    YAML::Mark start = YAML::Mark::null_mark();

    void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

}  // namespace

std::optional<LoadError> parse_yaml_tree(std::string_view file_name, std::string_view text,
                                         YamlTree& tree) noexcept {
    try {
        tree.nodes.clear();
        std::istringstream stream{std::string(text)};
        YAML::Parser parser(stream);
        TreeBuilder builder(tree, text);
        if (!parser.HandleNextDocument(builder)) return std::nullopt;
        SecondDocumentFinder finder;
        if (parser.HandleNextDocument(finder)) {
            return error_at(file_name, finder.start,
                            "a second YAML document (after ---): a config file holds exactly one");
        }
        return std::nullopt;
    } catch (const YAML::Exception& error) {
        return error_at(file_name, error.mark, explain_parser_message(error.msg));
    } catch (const std::exception& error) {
        return LoadError{std::string(file_name), 0, 0, error.what()};
    } catch (...) {
        return LoadError{std::string(file_name), 0, 0, "unexpected error while reading YAML"};
    }
}

}  // namespace pinhole::config
