#include "core/net/address.h"

#include <optional>

#include "core/util/assert.h"
#include "core/util/endian.h"
#include "core/util/text.h"

namespace pinhole::net {
namespace {

constexpr std::size_t v6_groups = 8;
constexpr std::size_t max_address_text_length = address_text_bytes - 1;
constexpr std::size_t max_endpoint_text_length = endpoint_text_bytes - 1;

constexpr bool is_decimal_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr std::optional<std::uint32_t> hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint32_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint32_t>(c - 'A' + 10);
    return std::nullopt;
}

// A decimal number of 1..max_digits digits, no leading zero (so "010" is not read as octal,
// nor anything else), at most `max_value`.
std::optional<std::uint32_t> parse_decimal(std::string_view text, std::size_t max_digits,
                                           std::uint32_t max_value) noexcept {
    if (text.empty() || text.size() > max_digits) return std::nullopt;
    if (text.size() > 1 && text[0] == '0') return std::nullopt;
    std::uint32_t value = 0;
    for (const char c : text) {
        if (!is_decimal_digit(c)) return std::nullopt;
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value > max_value) return std::nullopt;
    return value;
}

// Exactly "a.b.c.d", each part 0..255.
bool parse_v4(std::string_view text, std::span<std::uint8_t, 4> out) noexcept {
    std::size_t part_count = 0;
    std::size_t part_start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] != '.') continue;
        if (part_count == out.size()) return false;
        const auto part = parse_decimal(substring(text, part_start, i - part_start), 3, 255);
        if (!part) return false;
        out[part_count++] = static_cast<std::uint8_t>(*part);
        part_start = i + 1;
    }
    return part_count == out.size();
}

struct V6Groups {
    static constexpr std::size_t no_gap = v6_groups + 1;
    std::array<std::uint16_t, v6_groups> values{};
    std::size_t count = 0;
    std::size_t gap = no_gap;  // where "::" stood, as a group index
    [[nodiscard]] bool has_gap() const noexcept { return gap != no_gap; }
};

// Takes the groups of `text` one at a time, each with the separator after it; an IPv4 tail
// ends the text. Every pass consumes at least one character, so the loop ends.
bool scan_v6_groups(std::string_view text, V6Groups& groups) noexcept {
    std::size_t i = 0;
    if (starts_with(text, "::")) {
        groups.gap = 0;
        i = 2;
    }
    while (i < text.size()) {
        if (groups.count == v6_groups) return false;
        std::size_t digits = 0;
        std::uint32_t value = 0;
        for (; i + digits < text.size() && digits <= 4; ++digits) {
            const auto digit = hex_digit_value(text[i + digits]);
            if (!digit) break;
            value = value * 16 + *digit;
        }
        if (i + digits < text.size() && text[i + digits] == '.') {
            std::array<std::uint8_t, 4> v4{};
            if (groups.count > v6_groups - 2 || !parse_v4(substring(text, i), v4)) return false;
            groups.values[groups.count++] = load_be16(&v4[0]);
            groups.values[groups.count++] = load_be16(&v4[2]);
            return true;
        }
        if (digits == 0 || digits > 4) return false;
        groups.values[groups.count++] = static_cast<std::uint16_t>(value);
        i += digits;
        if (i == text.size()) break;
        if (text[i] != ':') return false;
        ++i;
        if (i < text.size() && text[i] == ':') {
            if (groups.has_gap()) return false;  // a second "::"
            groups.gap = groups.count;
            ++i;
        } else if (i == text.size()) {
            return false;  // a trailing single ':'
        }
    }
    return true;
}

bool parse_v6(std::string_view text, std::array<std::uint8_t, 16>& out) noexcept {
    V6Groups groups;
    if (!scan_v6_groups(text, groups)) return false;
    // Without "::" all eight groups are written; "::" stands for at least one zero group.
    if (!groups.has_gap() && groups.count != v6_groups) return false;
    if (groups.has_gap() && groups.count >= v6_groups) return false;
    const std::size_t head = groups.has_gap() ? groups.gap : groups.count;
    const std::size_t tail = groups.count - head;
    std::array<std::uint16_t, v6_groups> expanded{};
    for (std::size_t k = 0; k < head; ++k) expanded[k] = groups.values[k];
    for (std::size_t k = 0; k < tail; ++k) {
        expanded[v6_groups - tail + k] = groups.values[head + k];
    }
    for (std::size_t k = 0; k < v6_groups; ++k) store_be16(&out[2 * k], expanded[k]);
    return true;
}

constexpr std::size_t address_bits(Family family) noexcept {
    switch (family) {
        case Family::v4: return 32;
        case Family::v6: return 128;
        case Family::none: return 0;
    }
    return 0;
}

// Text built on the stack, then copied out whole or not at all.
class Text {
public:
    void put(char c) noexcept {
        PINHOLE_ASSERT(length_ < buffer_.size());
        buffer_[length_++] = c;
    }
    void put_decimal(std::uint32_t value) noexcept {
        std::array<char, 10> digits{};
        std::size_t count = 0;
        do {
            digits[count++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        while (count > 0) put(digits[--count]);
    }
    // Lowercase without leading zeros (RFC 5952 §4.1, §4.3).
    void put_hex_group(std::uint32_t group) noexcept {
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const std::uint32_t nibble = (group >> shift) & 0xFu;
            started = started || nibble != 0 || shift == 0;
            if (started) put("0123456789abcdef"[nibble]);
        }
    }
    Result<std::size_t> copy_to(std::span<char> out) const noexcept {
        if (out.size() <= length_) return Errc::no_space;
        for (std::size_t i = 0; i < length_; ++i) out[i] = buffer_[i];
        out[length_] = '\0';
        return length_;
    }

private:
    std::array<char, endpoint_text_bytes> buffer_{};
    std::size_t length_ = 0;
};

void put_v4(Text& text, std::span<const std::uint8_t> bytes) noexcept {
    for (std::size_t i = 0; i < 4; ++i) {
        if (i > 0) text.put('.');
        text.put_decimal(bytes[i]);
    }
}

struct ZeroRun {
    std::size_t start = 0;
    std::size_t length = 0;
};

// The longest run of zero groups, the first on a tie (RFC 5952 §4.2.3).
ZeroRun longest_zero_run(const std::array<std::uint16_t, v6_groups>& groups) noexcept {
    ZeroRun best;
    ZeroRun current;
    for (std::size_t k = 0; k < v6_groups; ++k) {
        if (groups[k] != 0) {
            current.length = 0;
            continue;
        }
        if (current.length == 0) current.start = k;
        ++current.length;
        if (current.length > best.length) best = current;
    }
    return best;
}

void put_v6(Text& text, const IpAddress& address) noexcept {
    if (is_v4_mapped(address)) {
        for (const char c : std::string_view("::ffff:")) text.put(c);
        put_v4(text, std::span(address.bytes).subspan(12));
        return;
    }
    std::array<std::uint16_t, v6_groups> groups{};
    for (std::size_t k = 0; k < v6_groups; ++k) {
        groups[k] = load_be16(&address.bytes[2 * k]);
    }
    ZeroRun run = longest_zero_run(groups);
    if (run.length < 2) run = {};  // a single zero group stays "0" (RFC 5952 §4.2.2)
    for (std::size_t k = 0; k < v6_groups; ++k) {
        if (run.length > 0 && k == run.start) {
            text.put(':');
            if (k == 0) text.put(':');
            k += run.length - 1;
            continue;
        }
        text.put_hex_group(groups[k]);
        if (k + 1 < v6_groups) text.put(':');
    }
}

void put_address(Text& text, const IpAddress& address) noexcept {
    if (address.is_v4()) {
        put_v4(text, address.bytes);
    } else {
        put_v6(text, address);
    }
}

}  // namespace

IpAddress IpAddress::v6(std::span<const std::uint8_t, 16> bytes) noexcept {
    IpAddress address;
    address.family = Family::v6;
    for (std::size_t i = 0; i < bytes.size(); ++i) address.bytes[i] = bytes[i];
    return address;
}

Result<IpAddress> parse_address(std::string_view text) noexcept {
    if (text.empty() || text.size() > max_address_text_length) return Errc::malformed;
    IpAddress address;
    if (text.find(':') != std::string_view::npos) {
        if (!parse_v6(text, address.bytes)) return Errc::malformed;
        address.family = Family::v6;
        return address;
    }
    if (!parse_v4(text, std::span(address.bytes).first<4>())) return Errc::malformed;
    address.family = Family::v4;
    return address;
}

Result<Endpoint> parse_endpoint(std::string_view text) noexcept {
    if (text.empty() || text.size() > max_endpoint_text_length) return Errc::malformed;
    std::string_view host;
    std::string_view after_host;
    if (text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return Errc::malformed;
        host = substring(text, 1, close - 1);
        after_host = substring(text, close + 1);
        if (host.find(':') == std::string_view::npos) return Errc::malformed;  // "[192.0.2.1]"
    } else {
        const std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return Errc::malformed;
        host = substring(text, 0, colon);
        after_host = substring(text, colon);
        if (host.find(':') != std::string_view::npos) return Errc::malformed;  // IPv6 unbracketed
    }
    if (!starts_with(after_host, ":")) return Errc::malformed;
    const auto address = parse_address(host);
    if (!address.ok()) return Errc::malformed;
    // Leading zeros are harmless in a port ("080" has no other reading), so up to five digits.
    const std::string_view port_text = substring(after_host, 1);
    if (port_text.empty() || port_text.size() > 5) return Errc::malformed;
    std::uint32_t port = 0;
    for (const char c : port_text) {
        if (!is_decimal_digit(c)) return Errc::malformed;
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port > 65535) return Errc::malformed;
    return Endpoint{address.value(), static_cast<std::uint16_t>(port)};
}

Result<Prefix> parse_prefix(std::string_view text) noexcept {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return Errc::malformed;
    const auto address = parse_address(substring(text, 0, slash));
    if (!address.ok()) return Errc::malformed;
    const std::size_t max_length = address_bits(address.value().family);
    const auto length = parse_decimal(substring(text, slash + 1), 3,
                                      static_cast<std::uint32_t>(max_length));
    if (!length) return Errc::malformed;
    Prefix prefix{address.value(), static_cast<std::uint8_t>(*length)};
    for (std::size_t bit = *length; bit < max_length; ++bit) {
        prefix.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    return prefix;
}

Result<std::size_t> format_address(const IpAddress& address, std::span<char> out) noexcept {
    if (address.family == Family::none) return Errc::invalid_argument;
    Text text;
    put_address(text, address);
    return text.copy_to(out);
}

Result<std::size_t> format_endpoint(const Endpoint& endpoint, std::span<char> out) noexcept {
    if (endpoint.address.family == Family::none) return Errc::invalid_argument;
    Text text;
    if (endpoint.address.is_v6()) text.put('[');
    put_address(text, endpoint.address);
    if (endpoint.address.is_v6()) text.put(']');
    text.put(':');
    text.put_decimal(endpoint.port);
    return text.copy_to(out);
}

bool prefix_contains(const Prefix& prefix, const IpAddress& address) noexcept {
    if (prefix.address.family != address.family || address.family == Family::none) return false;
    PINHOLE_ASSERT(prefix.length <= address_bits(address.family));
    const std::size_t whole_bytes = prefix.length / 8;
    for (std::size_t i = 0; i < whole_bytes; ++i) {
        if (prefix.address.bytes[i] != address.bytes[i]) return false;
    }
    const std::size_t rest_bits = prefix.length % 8;
    if (rest_bits == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest_bits));
    return ((prefix.address.bytes[whole_bytes] ^ address.bytes[whole_bytes]) & mask) == 0;
}

bool is_loopback(const IpAddress& address) noexcept {
    if (address.is_v4()) return address.bytes[0] == 127;
    if (!address.is_v6()) return false;
    for (std::size_t i = 0; i < 15; ++i) {
        if (address.bytes[i] != 0) return false;
    }
    return address.bytes[15] == 1;
}

bool is_link_local(const IpAddress& address) noexcept {
    if (address.is_v4()) return address.bytes[0] == 169 && address.bytes[1] == 254;
    if (!address.is_v6()) return false;
    return address.bytes[0] == 0xFE && (address.bytes[1] & 0xC0) == 0x80;
}

bool is_unspecified(const IpAddress& address) noexcept {
    const std::size_t byte_count = address_bits(address.family) / 8;
    for (std::size_t i = 0; i < byte_count; ++i) {
        if (address.bytes[i] != 0) return false;
    }
    return true;
}

bool is_multicast(const IpAddress& address) noexcept {
    if (address.is_v4()) return (address.bytes[0] & 0xF0) == 0xE0;
    return address.is_v6() && address.bytes[0] == 0xFF;
}

bool is_v4_mapped(const IpAddress& address) noexcept {
    if (!address.is_v6()) return false;
    for (std::size_t i = 0; i < 10; ++i) {
        if (address.bytes[i] != 0) return false;
    }
    return address.bytes[10] == 0xFF && address.bytes[11] == 0xFF;
}

IpAddress unmapped(const IpAddress& address) noexcept {
    if (!is_v4_mapped(address)) return address;
    return IpAddress::v4(address.bytes[12], address.bytes[13], address.bytes[14],
                         address.bytes[15]);
}

}  // namespace pinhole::net
