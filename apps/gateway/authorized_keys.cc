#include "apps/gateway/authorized_keys.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "config/yaml_loader.h"
#include "core/keys/keys.h"
#include "core/overlay/service_directory_wire.h"

namespace pinhole::gateway {
namespace {

constexpr std::string_view reach_prefix = "reach=";
constexpr std::string_view entry_form = "<key> <name> [reach=<name>,<name>|reach=*]";

struct Word {
    std::string_view text;
    int column = 0;  // 1-based
};

// A reach= name, kept with its place so an unknown one can be reported once all are read.
struct ReachRef {
    std::size_t entry = 0;
    std::string_view name;
    int line = 0;
    int column = 0;
};

struct Parsed {
    std::vector<AuthorizedKey> entries;
    std::vector<int> lines;  // the line of each entry, for duplicate messages
    std::vector<ReachRef> refs;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// `text` in backquotes, cut short: a message echoes the input, but not a megabyte of it.
std::string quoted(std::string_view text) {
    constexpr std::size_t max_chars = 60;
    // Appended piece by piece: GCC 12 at -O3 warns falsely on `"`" + std::string(...)`.
    std::string out = "`";
    out.append(text.substr(0, max_chars));
    out.append(text.size() > max_chars ? "...`" : "`");
    return out;
}

// The words of a line up to a word starting with '#' (a comment).
std::vector<Word> split_words(std::string_view line) {
    std::vector<Word> words;
    std::size_t at = 0;
    while (at < line.size()) {
        if (is_space(line[at])) {
            ++at;
            continue;
        }
        if (line[at] == '#') break;
        std::size_t end = at;
        while (end < line.size() && !is_space(line[end])) ++end;
        words.push_back({line.substr(at, end - at), static_cast<int>(at) + 1});
        at = end;
    }
    return words;
}

std::string name_rule() {
    return "use lowercase letters, digits and '-', starting with a letter and not ending with "
           "'-', at most " +
           std::to_string(config::max_name_chars) + " characters";
}

class Parser {
public:
    explicit Parser(const std::string& file) : file_(file) {}

    std::optional<config::LoadError> line(std::string_view text, int line_number);
    std::optional<config::LoadError> resolve();
    Parsed take() { return std::move(parsed_); }

private:
    config::LoadError fail(int line, int column, std::string message) const {
        return config::LoadError{file_, line, column, std::move(message)};
    }
    std::optional<config::LoadError> key(const Word& word, int line, AuthorizedKey& entry) const;
    std::optional<config::LoadError> name(const Word& word, int line, AuthorizedKey& entry) const;
    std::optional<config::LoadError> reach(const Word& word, int line, AuthorizedKey& entry);
    std::optional<config::LoadError> reach_name(std::string_view name, int line, int column,
                                                AuthorizedKey& entry);

    const std::string& file_;
    Parsed parsed_;
};

std::optional<config::LoadError> Parser::key(const Word& word, int line,
                                             AuthorizedKey& entry) const {
    const Result<crypto::X25519Key> key = keys::parse_key(word.text);
    if (!key.ok()) {
        return fail(line, word.column,
                    quoted(word.text) + " is not a WireGuard public key; write the 44 "
                                        "characters of base64 that `wg pubkey` prints");
    }
    for (std::size_t i = 0; i < parsed_.entries.size(); ++i) {
        if (parsed_.entries[i].key != key.value()) continue;
        return fail(line, word.column,
                    "this key is already listed on line " + std::to_string(parsed_.lines[i]) +
                        " (as " + quoted(parsed_.entries[i].name) +
                        "); list each key once");
    }
    entry.key = key.value();
    return std::nullopt;
}

std::optional<config::LoadError> Parser::name(const Word& word, int line,
                                              AuthorizedKey& entry) const {
    if (!overlay::is_valid_name(word.text)) {
        return fail(line, word.column,
                    quoted(word.text) + " is not a valid name; " + name_rule());
    }
    for (std::size_t i = 0; i < parsed_.entries.size(); ++i) {
        if (parsed_.entries[i].name != word.text) continue;
        return fail(line, word.column,
                    "the name " + quoted(word.text) + " is already used on line " +
                        std::to_string(parsed_.lines[i]) + "; give each key its own name");
    }
    entry.name = std::string(word.text);
    return std::nullopt;
}

std::optional<config::LoadError> Parser::reach_name(std::string_view name, int line, int column,
                                                    AuthorizedKey& entry) {
    if (name == "*") {
        return fail(line, column,
                    "`*` stands alone; write reach=* for every key, or list names without it");
    }
    if (!overlay::is_valid_name(name)) {
        return fail(line, column, quoted(name) + " is not a valid name; " + name_rule());
    }
    if (name == entry.name) {
        return fail(line, column,
                    quoted(name) + " is this entry's own name; a key never relays to itself, "
                                   "so remove it");
    }
    if (std::find(entry.reach.begin(), entry.reach.end(), name) != entry.reach.end()) {
        return fail(line, column, quoted(name) + " is listed twice; name each key once");
    }
    entry.reach.emplace_back(name);
    parsed_.refs.push_back({parsed_.entries.size(), name, line, column});
    return std::nullopt;
}

std::optional<config::LoadError> Parser::reach(const Word& word, int line, AuthorizedKey& entry) {
    if (word.text.substr(0, reach_prefix.size()) != reach_prefix) {
        return fail(line, word.column,
                    quoted(word.text) + " is not reach=...; an entry is " +
                        std::string(entry_form));
    }
    const std::string_view list = word.text.substr(reach_prefix.size());
    const int list_column = word.column + static_cast<int>(reach_prefix.size());
    if (list == "*") {
        entry.reach_all = true;
        return std::nullopt;
    }
    if (list.empty()) {
        return fail(line, list_column,
                    "reach= names nobody; list names (reach=laptop,phone), write reach=*, or "
                    "leave reach= out");
    }
    std::size_t at = 0;
    while (true) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        const std::string_view name = list.substr(at, comma - at);
        const int column = list_column + static_cast<int>(at);
        if (name.empty()) {
            return fail(line, column, "an empty name in reach=; separate names with one comma");
        }
        if (auto error = reach_name(name, line, column, entry)) return error;
        if (comma == list.size()) return std::nullopt;
        at = comma + 1;
    }
}

std::optional<config::LoadError> Parser::line(std::string_view text, int line_number) {
    const std::vector<Word> words = split_words(text);
    if (words.empty()) return std::nullopt;
    AuthorizedKey entry;
    if (auto error = key(words[0], line_number, entry)) return error;
    if (words.size() < 2) {
        const int after_key = words[0].column + static_cast<int>(words[0].text.size());
        return fail(line_number, after_key,
                    "a name must follow the key; an entry is " + std::string(entry_form));
    }
    if (auto error = name(words[1], line_number, entry)) return error;
    if (words.size() >= 3) {
        if (auto error = reach(words[2], line_number, entry)) return error;
    }
    if (words.size() >= 4) {
        return fail(line_number, words[3].column,
                    "unexpected " + quoted(words[3].text) + "; an entry is " +
                        std::string(entry_form) + " (a '#' starts a comment)");
    }
    parsed_.entries.push_back(std::move(entry));
    parsed_.lines.push_back(line_number);
    return std::nullopt;
}

// Names in reach= may come from later lines, so they are checked once every line is read.
std::optional<config::LoadError> Parser::resolve() {
    for (const ReachRef& ref : parsed_.refs) {
        const bool known = std::any_of(parsed_.entries.begin(), parsed_.entries.end(),
                                       [&](const AuthorizedKey& e) { return e.name == ref.name; });
        if (known) continue;
        return fail(ref.line, ref.column,
                    "reach= names " + quoted(ref.name) +
                        ", which no line of this file defines; add its key or remove the name");
    }
    return std::nullopt;
}

}  // namespace

AuthorizedKeysResult AuthorizedKeys::load(const std::string& path) {
    std::string text;
    if (auto error = config::read_config_file(path, text)) return AuthorizedKeysResult(*error);
    return parse(text, path);
}

AuthorizedKeysResult AuthorizedKeys::parse(std::string_view text,
                                           const std::string& path_for_errors) {
    Parser parser(path_for_errors);
    int line_number = 1;
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        if (auto error = parser.line(text.substr(at, end - at), line_number)) {
            return AuthorizedKeysResult(std::move(*error));
        }
        at = end + 1;
        ++line_number;
    }
    if (auto error = parser.resolve()) return AuthorizedKeysResult(std::move(*error));
    return AuthorizedKeysResult(
        std::unique_ptr<AuthorizedKeys>(new AuthorizedKeys(parser.take().entries)));
}

AuthorizedKeys::AuthorizedKeys(std::vector<AuthorizedKey> entries) : entries_(std::move(entries)) {
    std::map<std::string_view, std::size_t> by_name;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        by_key_.emplace(entries_[i].key, i);
        by_name.emplace(entries_[i].name, i);
    }
    reach_.resize(entries_.size());
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        for (const std::string& name : entries_[i].reach) {
            const auto found = by_name.find(name);
            if (found != by_name.end()) reach_[i].push_back(found->second);  // resolve() checked
        }
        std::sort(reach_[i].begin(), reach_[i].end());
    }
}

const AuthorizedKey* AuthorizedKeys::find(const crypto::X25519Key& key) const {
    const auto found = by_key_.find(key);
    return found == by_key_.end() ? nullptr : &entries_[found->second];
}

bool AuthorizedKeys::allows(std::size_t from, std::size_t to) const {
    return entries_[from].reach_all ||
           std::binary_search(reach_[from].begin(), reach_[from].end(), to);
}

bool AuthorizedKeys::may_relay(const crypto::X25519Key& from, const crypto::X25519Key& to) const {
    const auto sender = by_key_.find(from);
    const auto receiver = by_key_.find(to);
    if (sender == by_key_.end() || receiver == by_key_.end()) return false;
    if (sender->second == receiver->second) return false;
    return allows(sender->second, receiver->second) && allows(receiver->second, sender->second);
}

}  // namespace pinhole::gateway
