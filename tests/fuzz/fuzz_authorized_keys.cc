// Any text given to the authorized_keys parser: nothing crashes, an error names a line and
// column inside the text, and what parses keeps its promises: keys and names are unique, and
// may_relay is symmetric, never true for a key to itself, and true exactly when each entry
// reaches the other. So that random text reaches past the key, a second pass replaces each
// "K<digit>" with the base64 of one of ten fixed keys.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/gateway/authorized_keys.h"
#include "core/keys/keys.h"

namespace {

using namespace pinhole::gateway;

bool reaches(const AuthorizedKey& from, const AuthorizedKey& to) {
    return from.reach_all || std::find(from.reach.begin(), from.reach.end(), to.name) !=
                                 from.reach.end();
}

void check_error(const pinhole::config::LoadError& error, std::string_view text) {
    const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (error.line < 1 || error.line > lines || error.column < 1) __builtin_trap();
    if (static_cast<std::size_t>(error.column) > text.size() + 1) __builtin_trap();
    if (error.message.empty() || error.file != "fuzz") __builtin_trap();
}

void check_keys(const AuthorizedKeys& keys) {
    const auto& entries = keys.entries();
    if (keys.size() != entries.size()) __builtin_trap();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (keys.find(entries[i].key) != &entries[i]) __builtin_trap();
        for (std::size_t j = 0; j < entries.size(); ++j) {
            if (i != j && entries[i].name == entries[j].name) __builtin_trap();
            const bool relay = keys.may_relay(entries[i].key, entries[j].key);
            const bool expected = i != j && reaches(entries[i], entries[j]) &&
                                  reaches(entries[j], entries[i]);
            if (relay != expected) __builtin_trap();
            if (relay != keys.may_relay(entries[j].key, entries[i].key)) __builtin_trap();
        }
    }
}

void check(std::string_view text) {
    const AuthorizedKeysResult result = AuthorizedKeys::parse(text, "fuzz");
    if (!result.ok()) {
        check_error(result.error(), text);
        return;
    }
    check_keys(result.value());
}

std::string with_keys(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != 'K' || i + 1 == text.size() || text[i + 1] < '0' || text[i + 1] > '9') {
            out += text[i];
            continue;
        }
        pinhole::crypto::X25519Key key{};
        key.fill(static_cast<std::uint8_t>(text[i + 1]));
        std::array<char, pinhole::keys::key_text_bytes + 1> key_text{};
        if (!pinhole::keys::format_key(key, key_text).ok()) __builtin_trap();
        out.append(key_text.data(), pinhole::keys::key_text_bytes);
        ++i;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check(text);
    check(with_keys(text));
    return 0;
}
