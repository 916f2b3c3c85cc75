#include "core/overlay/service_directory_wire.h"

#include <algorithm>

#include "core/util/text.h"

namespace pinhole::overlay {
namespace {

constexpr std::size_t max_id_digits = 8;
constexpr std::size_t max_port_digits = 5;
constexpr std::string_view hex_digits = "0123456789abcdef";

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_lower_letter(char c) noexcept { return c >= 'a' && c <= 'z'; }

// Lowercase only: one spelling per id keeps the format strict.
int lower_hex_value(char c) noexcept {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string_view as_text(std::span<const std::uint8_t> datagram) noexcept {
    return {reinterpret_cast<const char*>(datagram.data()), datagram.size()};
}

// Moves the text before the next LF into `line` and past the LF in `rest`; false without one.
bool next_line(std::string_view& rest, std::string_view& line) noexcept {
    const std::size_t end = rest.find('\n');
    if (end == std::string_view::npos) return false;
    line = substring(rest, 0, end);
    rest = substring(rest, end + 1);
    return true;
}

std::optional<std::uint32_t> parse_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > max_id_digits) return std::nullopt;
    std::uint32_t id = 0;
    for (const char c : text) {
        const int value = lower_hex_value(c);
        if (value < 0) return std::nullopt;
        id = id << 4 | static_cast<std::uint32_t>(value);
    }
    return id;
}

// 1..65535, no leading zero, no sign: one spelling per port.
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > max_port_digits || text.front() == '0') return std::nullopt;
    std::uint32_t port = 0;
    for (const char c : text) {
        if (!is_digit(c)) return std::nullopt;
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

// "pinhole-services/1 <id>", the LF already removed.
std::optional<std::uint32_t> parse_header(std::string_view line) noexcept {
    if (!starts_with(line, service_directory_tag)) return std::nullopt;
    const std::string_view rest = substring(line, service_directory_tag.size());
    if (!starts_with(rest, " ")) return std::nullopt;
    return parse_id(substring(rest, 1));
}

// "<name> <port>" appended to `services`; a duplicate name or a full list is malformed.
Status parse_entry(std::string_view line, ServiceList& services) noexcept {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return Errc::malformed;
    const std::string_view name = substring(line, 0, space);
    const std::optional<std::uint16_t> port = parse_port(substring(line, space + 1));
    if (!is_valid_name(name) || !port) return Errc::malformed;
    if (find_service_port(services, name)) return Errc::malformed;
    PublishedService service;
    if (!service.name.assign(name).ok()) return Errc::malformed;
    service.port = *port;
    if (!services.push_back(service).ok()) return Errc::malformed;  // over config::max_services
    return {};
}

// Appends text to a fixed buffer and remembers whether anything did not fit.
class Writer {
public:
    explicit Writer(std::span<char> out) noexcept : out_(out) {}

    void text(std::string_view text) noexcept {
        if (text.size() > out_.size() - length_) {
            overflow_ = true;
            return;
        }
        std::copy(text.begin(), text.end(), out_.begin() + static_cast<std::ptrdiff_t>(length_));
        length_ += text.size();
    }
    // Lowercase, without leading zeros ("0" for zero).
    void hex(std::uint32_t value) noexcept {
        char digits[max_id_digits];
        std::size_t count = 0;
        do {
            digits[max_id_digits - 1 - count++] = hex_digits[value & 0xf];
            value >>= 4;
        } while (value != 0 && count < max_id_digits);
        text({digits + max_id_digits - count, count});
    }
    void decimal(std::uint16_t value) noexcept {
        char digits[max_port_digits];
        std::size_t count = 0;
        do {
            digits[max_port_digits - 1 - count++] = static_cast<char>('0' + value % 10);
            value = static_cast<std::uint16_t>(value / 10);
        } while (value != 0 && count < max_port_digits);
        text({digits + max_port_digits - count, count});
    }

    [[nodiscard]] Result<std::size_t> finish() const noexcept {
        if (overflow_) return Errc::no_space;
        return length_;
    }

private:
    std::span<char> out_;
    std::size_t length_ = 0;
    bool overflow_ = false;
};

void write_header(Writer& writer, std::uint32_t id) noexcept {
    writer.text(service_directory_tag);
    writer.text(" ");
    writer.hex(id);
    writer.text("\n");
}

// What parse_directory_reply would accept: valid names, ports 1..65535, no duplicates.
bool is_publishable(const ServiceList& services) noexcept {
    for (std::size_t i = 0; i < services.size(); ++i) {
        const PublishedService& service = services[i];
        if (!is_valid_name(service.name.view()) || service.port == 0) return false;
        for (std::size_t j = 0; j < i; ++j) {
            if (services[j].name == service.name) return false;
        }
    }
    return true;
}

}  // namespace

bool is_valid_name(std::string_view text) noexcept {
    if (text.empty() || text.size() > config::max_name_chars) return false;
    if (!is_lower_letter(text.front()) || text.back() == '-') return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return is_lower_letter(c) || is_digit(c) || c == '-'; });
}

Result<std::size_t> encode_directory_request(std::uint32_t id, std::span<char> out) noexcept {
    Writer writer(out);
    write_header(writer, id);
    return writer.finish();
}

Result<std::size_t> encode_directory_reply(std::uint32_t id, const ServiceList& services,
                                           std::span<char> out) noexcept {
    if (!is_publishable(services)) return Errc::invalid_argument;
    // The reader refuses a longer datagram, so the writer never makes one.
    Writer writer(out.first(std::min(out.size(), service_directory_max_datagram_bytes)));
    write_header(writer, id);
    for (const PublishedService& service : services) {
        writer.text(service.name.view());
        writer.text(" ");
        writer.decimal(service.port);
        writer.text("\n");
    }
    return writer.finish();
}

Result<std::uint32_t> parse_directory_request(std::span<const std::uint8_t> datagram) noexcept {
    if (datagram.size() > service_directory_max_datagram_bytes) return Errc::malformed;
    std::string_view rest = as_text(datagram);
    std::string_view line;
    if (!next_line(rest, line) || !rest.empty()) return Errc::malformed;
    const std::optional<std::uint32_t> id = parse_header(line);
    if (!id) return Errc::malformed;
    return *id;
}

Result<DirectoryReply> parse_directory_reply(std::span<const std::uint8_t> datagram) noexcept {
    if (datagram.size() > service_directory_max_datagram_bytes) return Errc::malformed;
    std::string_view rest = as_text(datagram);
    std::string_view line;
    if (!next_line(rest, line)) return Errc::malformed;
    const std::optional<std::uint32_t> id = parse_header(line);
    if (!id) return Errc::malformed;
    DirectoryReply reply;
    reply.id = *id;
    // Bounded: each round consumes at least the LF of one line.
    while (!rest.empty()) {
        if (!next_line(rest, line)) return Errc::malformed;  // text after the last LF
        if (!parse_entry(line, reply.services).ok()) return Errc::malformed;
    }
    return reply;
}

std::optional<std::uint16_t> find_service_port(const ServiceList& services,
                                                std::string_view name) noexcept {
    for (const PublishedService& service : services) {
        if (service.name.view() == name) return service.port;
    }
    return std::nullopt;
}

}  // namespace pinhole::overlay
