#include "apps/node/control_protocol.h"

#include <algorithm>
#include <array>
#include <optional>

#include "core/overlay/service_directory_wire.h"
#include "core/util/format.h"
#include "core/util/text.h"

namespace pinhole::node {
namespace {

// connect: tag, command, agent, target; forward adds listen; proxy: agent, listen [, auth].
constexpr std::size_t max_request_tokens = 5;
constexpr std::size_t max_port_digits = 5;
constexpr std::size_t max_host_label_chars = 63;  // RFC 1035 §2.3.4
constexpr std::array<std::string_view, 6> command_names = {"connect", "forward", "status", "down", "proxy",
                                                           "forward-udp"};
constexpr std::string_view auth_prefix = "auth=";
// The longest TARGET: a host name, ':' and a port.
constexpr std::size_t target_text_bytes = config::max_host_name_chars + 1 + max_port_digits;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Printable ASCII without space: what a request token is made of.
bool is_graphic(char c) noexcept { return c > ' ' && c < '\x7f'; }
bool is_printable(char c) noexcept { return c >= ' ' && c < '\x7f'; }
bool all_printable(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(), is_printable);
}

struct Tokens {
    std::array<std::string_view, max_request_tokens> items;
    std::size_t count = 0;
};

// Splits at single spaces; an empty token (two spaces, a space at an end) is malformed.
Result<Tokens> split_tokens(std::string_view line) noexcept {
    if (line.empty() || line.size() >= control_line_max_bytes) return Errc::malformed;
    Tokens tokens;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
        if (i < line.size() && line[i] != ' ') {
            if (!is_graphic(line[i])) return Errc::malformed;
            continue;
        }
        if (i == start || tokens.count == tokens.items.size()) return Errc::malformed;
        tokens.items[tokens.count++] = substring(line, start, i - start);
        start = i + 1;
    }
    return tokens;
}

// Decimal without sign or leading zeros (so one spelling per port); 0 only if `allow_zero`.
std::optional<std::uint16_t> parse_port(std::string_view text, bool allow_zero) noexcept {
    if (text.empty() || text.size() > max_port_digits) return std::nullopt;
    if (text.size() > 1 && text.front() == '0') return std::nullopt;
    std::uint32_t port = 0;
    for (const char c : text) {
        if (!is_digit(c)) return std::nullopt;
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port > 65535 || (port == 0 && !allow_zero)) return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

// RFC 1123 §2.1: letters, digits and '-', not at either end, 1..63 characters.
bool is_host_label(std::string_view label) noexcept {
    if (label.empty() || label.size() > max_host_label_chars) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    return std::all_of(label.begin(), label.end(),
                       [](char c) { return is_letter(c) || is_digit(c) || c == '-'; });
}

// Labels between dots; an all-digit last label is refused, so a mistyped IPv4 address
// ("10.0.0.300") is not sent off to be resolved.
bool is_host_name(std::string_view text) noexcept {
    if (text.empty() || text.size() > config::max_host_name_chars) return false;
    std::string_view label;
    // Bounded: each round moves past one label and its dot.
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t dot = std::min(text.find('.', start), text.size());
        label = substring(text, start, dot - start);
        if (!is_host_label(label)) return false;
        start = dot + 1;
    }
    return !std::all_of(label.begin(), label.end(), is_digit);
}

// DNS names compare without case; storing them lowercase makes equal names equal.
Status assign_lowercase(std::string_view text, config::HostName& name) noexcept {
    std::array<char, config::max_host_name_chars> lowered{};
    if (text.size() > lowered.size()) return Errc::malformed;
    std::transform(text.begin(), text.end(), lowered.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return name.assign({lowered.data(), text.size()});
}

struct HostPortText {
    std::string_view host;
    std::string_view port;
    bool bracketed = false;
};

// "host:port" or "[v6]:port"; an unbracketed host with a ':' (bare IPv6) is refused.
std::optional<HostPortText> split_host_port(std::string_view text) noexcept {
    if (starts_with(text, "[")) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view after = substring(text, close + 1);
        if (!starts_with(after, ":")) return std::nullopt;
        return HostPortText{substring(text, 1, close - 1), substring(after, 1), true};
    }
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view host = substring(text, 0, colon);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
    return HostPortText{host, substring(text, colon + 1), false};
}

// Brackets hold IPv6 and only IPv6; without them, only IPv4 (IPv6 needs them).
std::optional<net::IpAddress> parse_literal(const HostPortText& parts) noexcept {
    const Result<net::IpAddress> address = net::parse_address(parts.host);
    if (!address.ok() || address.value().is_v6() != parts.bracketed) return std::nullopt;
    return address.value();
}

Result<Target> parse_host_target(std::string_view text) noexcept {
    const std::optional<HostPortText> parts = split_host_port(text);
    if (!parts) return Errc::malformed;
    const std::optional<std::uint16_t> port = parse_port(parts->port, false);
    if (!port) return Errc::malformed;
    Target target;
    target.endpoint.port = *port;
    if (const std::optional<net::IpAddress> address = parse_literal(*parts)) {
        target.kind = Target::Kind::address;
        target.endpoint.address = *address;
        return target;
    }
    if (parts->bracketed || !is_host_name(parts->host)) return Errc::malformed;
    target.kind = Target::Kind::host;
    if (!assign_lowercase(parts->host, target.host).ok()) return Errc::malformed;
    return target;
}

// TARGET as text, without the LF; Errc::invalid_argument for what parse_target would refuse.
Result<std::string_view> format_target(const Target& target, std::span<char> out) noexcept {
    Result<std::size_t> length = Errc::invalid_argument;
    switch (target.kind) {
        case Target::Kind::service:
            length = try_format_to(out, "{}", target.service.view());
            break;
        case Target::Kind::address:
            length = net::format_endpoint(target.endpoint, out);
            break;
        case Target::Kind::host:
            length = try_format_to(out, "{}:{}", target.host.view(), target.endpoint.port);
            break;
    }
    if (!length.ok()) return Errc::invalid_argument;
    const std::string_view text(out.data(), length.value());
    if (!parse_target(text).ok()) return Errc::invalid_argument;
    return text;
}

std::optional<Command> command_named(std::string_view name) noexcept {
    for (std::size_t i = 0; i < command_names.size(); ++i) {
        if (command_names[i] == name) return static_cast<Command>(i);
    }
    return std::nullopt;
}

bool token_count_fits(Command command, std::size_t count) noexcept {
    switch (command) {
        case Command::connect: return count == 4;
        case Command::forward:
        case Command::forward_udp: return count == 5;
        case Command::proxy: return count == 4 || count == 5;
        case Command::status:
        case Command::down: break;
    }
    return count == 2;
}

int hex_digit(char c) noexcept {
    if (is_digit(c)) return c - '0';
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Lowercase hex of 1..capacity bytes into `out`.
template <std::size_t capacity>
Status parse_hex_field(std::string_view hex, config::FixedString<capacity>& out) noexcept {
    if (hex.empty() || hex.size() % 2 != 0 || hex.size() / 2 > capacity) return Errc::malformed;
    std::array<char, capacity> bytes{};
    for (std::size_t i = 0; i < hex.size() / 2; ++i) {
        const int high = hex_digit(hex[2 * i]);
        const int low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) return Errc::malformed;
        bytes[i] = static_cast<char>(high << 4 | low);
    }
    return out.assign({bytes.data(), hex.size() / 2});
}

Result<ProxyAuth> parse_auth(std::string_view token) noexcept {
    if (!starts_with(token, auth_prefix)) return Errc::malformed;
    const std::string_view value = substring(token, auth_prefix.size());
    const std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) return Errc::malformed;
    ProxyAuth auth;
    auth.required = true;
    if (!parse_hex_field(substring(value, 0, colon), auth.user).ok() ||
        !parse_hex_field(substring(value, colon + 1), auth.password).ok()) {
        return Errc::malformed;
    }
    return auth;
}

Result<std::size_t> write_hex(std::string_view bytes, std::span<char> out) noexcept {
    return try_format_to(out, "{}", Hex{{reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}});
}

Result<std::size_t> write_proxy_request(const Request& request, std::string_view listen, std::span<char> out) noexcept {
    if (!request.auth.required) {
        return try_format_to(out, "{} proxy {} {}\n", control_protocol_tag, request.agent.view(), listen);
    }
    std::array<char, 2 * max_proxy_user_bytes> user{};
    std::array<char, 2 * max_proxy_password_bytes> password{};
    const Result<std::size_t> user_length = write_hex(request.auth.user.view(), user);
    const Result<std::size_t> password_length = write_hex(request.auth.password.view(), password);
    if (!user_length.ok() || !password_length.ok()) return Errc::invalid_argument;
    return try_format_to(out, "{} proxy {} {} {}{}:{}\n", control_protocol_tag, request.agent.view(), listen,
                         auth_prefix, std::string_view(user.data(), user_length.value()),
                         std::string_view(password.data(), password_length.value()));
}

// The request line with its LF, unchecked; any field may be out of contract.
Result<std::size_t> write_request(const Request& request, std::span<char> out) noexcept {
    const std::string_view name = command_names[static_cast<std::size_t>(request.command)];
    if (request.command == Command::status || request.command == Command::down) {
        return try_format_to(out, "{} {}\n", control_protocol_tag, name);
    }
    std::array<char, target_text_bytes> target_buffer{};
    const Result<std::string_view> target = format_target(request.target, target_buffer);
    if (request.command == Command::connect) {
        if (!target.ok()) return target.error();
        return try_format_to(out, "{} {} {} {}\n", control_protocol_tag, name,
                             request.agent.view(), target.value());
    }
    std::array<char, net::endpoint_text_bytes> listen{};
    const Result<std::size_t> listen_length = net::format_endpoint(request.listen, listen);
    if (!listen_length.ok()) return Errc::invalid_argument;
    const std::string_view listen_text(listen.data(), listen_length.value());
    if (request.command == Command::proxy) return write_proxy_request(request, listen_text, out);
    if (!target.ok()) return target.error();
    return try_format_to(out, "{} {} {} {} {}\n", control_protocol_tag, name,
                         request.agent.view(), listen_text, target.value());
}

std::optional<ReplyCode> error_code_named(std::string_view name) noexcept {
    for (auto code = static_cast<std::uint8_t>(ReplyCode::bad_request);
         code <= static_cast<std::uint8_t>(ReplyCode::internal); ++code) {
        const auto candidate = static_cast<ReplyCode>(code);
        if (name == reply_code_name(candidate)) return candidate;
    }
    return std::nullopt;
}

struct Split {
    std::string_view head;
    std::string_view tail;  // after the first space; empty without one
    bool has_tail = false;
};

// "head tail": a space must be followed by text, so each line has one spelling.
std::optional<Split> split_first(std::string_view text) noexcept {
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return Split{text, {}, false};
    if (space + 1 == text.size()) return std::nullopt;
    return Split{substring(text, 0, space), substring(text, space + 1), true};
}

}  // namespace

Result<Target> parse_target(std::string_view text) noexcept {
    if (text.find(':') != std::string_view::npos) return parse_host_target(text);
    if (!overlay::is_valid_name(text)) return Errc::malformed;
    Target target;
    target.kind = Target::Kind::service;
    if (!target.service.assign(text).ok()) return Errc::malformed;
    return target;
}

Result<net::Endpoint> parse_listen(std::string_view text) noexcept {
    if (text.find(':') == std::string_view::npos) {
        const std::optional<std::uint16_t> port = parse_port(text, true);
        if (!port) return Errc::malformed;
        return net::Endpoint{net::IpAddress::v4(127, 0, 0, 1), *port};
    }
    const std::optional<HostPortText> parts = split_host_port(text);
    if (!parts) return Errc::malformed;
    const std::optional<std::uint16_t> port = parse_port(parts->port, true);
    const std::optional<net::IpAddress> address = parse_literal(*parts);
    if (!port || !address) return Errc::malformed;
    return net::Endpoint{*address, *port};
}

Result<Request> parse_request(std::string_view line) noexcept {
    const Result<Tokens> split = split_tokens(line);
    if (!split.ok()) return split.error();
    const Tokens& tokens = split.value();
    if (tokens.count < 2 || tokens.items[0] != control_protocol_tag) return Errc::malformed;
    const std::optional<Command> command = command_named(tokens.items[1]);
    if (!command || !token_count_fits(*command, tokens.count)) return Errc::malformed;
    Request request;
    request.command = *command;
    if (tokens.count == 2) return request;  // status, down
    if (!overlay::is_valid_name(tokens.items[2]) || !request.agent.assign(tokens.items[2]).ok()) {
        return Errc::malformed;
    }
    if (request.command == Command::forward || request.command == Command::forward_udp ||
        request.command == Command::proxy) {
        const Result<net::Endpoint> listen = parse_listen(tokens.items[3]);
        if (!listen.ok()) return Errc::malformed;
        request.listen = listen.value();
    }
    if (request.command == Command::proxy) {
        if (tokens.count == 4) return request;
        const Result<ProxyAuth> auth = parse_auth(tokens.items[4]);
        if (!auth.ok()) return Errc::malformed;
        request.auth = auth.value();
        return request;
    }
    const Result<Target> target = parse_target(tokens.items[tokens.count - 1]);
    if (!target.ok()) return Errc::malformed;
    request.target = target.value();
    return request;
}

Result<std::size_t> format_request(const Request& request, std::span<char> out) noexcept {
    if (static_cast<std::size_t>(request.command) >= command_names.size()) {
        return Errc::invalid_argument;
    }
    // Every valid request fits; writing it whole first lets the reader check it.
    std::array<char, control_line_max_bytes> line{};
    const Result<std::size_t> length = write_request(request, line);
    if (!length.ok()) return Errc::invalid_argument;
    // A request the node would refuse is never sent: the reader is the one definition.
    if (!parse_request({line.data(), length.value() - 1}).ok()) return Errc::invalid_argument;
    if (length.value() > out.size()) return Errc::no_space;
    std::copy_n(line.begin(), length.value(), out.begin());
    return length.value();
}

Result<Reply> parse_reply(std::string_view line) noexcept {
    if (line.size() >= control_line_max_bytes || !all_printable(line)) return Errc::malformed;
    const std::optional<Split> first = split_first(line);
    if (!first) return Errc::malformed;
    if (first->head == "ok") return Reply{ReplyCode::ok, first->tail};
    if (first->head == "info") return Reply{ReplyCode::info, first->tail};
    if (first->head != "error" || !first->has_tail) return Errc::malformed;
    const std::optional<Split> second = split_first(first->tail);
    if (!second) return Errc::malformed;
    const std::optional<ReplyCode> code = error_code_named(second->head);
    if (!code) return Errc::malformed;
    return Reply{*code, second->tail};
}

Result<std::size_t> format_reply(ReplyCode code, std::string_view text,
                                 std::span<char> out) noexcept {
    if (code > ReplyCode::internal || !all_printable(text)) return Errc::invalid_argument;
    const bool error = code != ReplyCode::ok && code != ReplyCode::info;
    const std::string_view prefix = error ? "error " : "";
    const std::string_view name = reply_code_name(code);
    const std::string_view space = text.empty() ? "" : " ";
    const std::size_t length = prefix.size() + name.size() + space.size() + text.size() + 1;
    if (length > control_line_max_bytes) return Errc::invalid_argument;
    if (length > out.size()) return Errc::no_space;
    return try_format_to(out, "{}{}{}{}\n", prefix, name, space, text);
}

const char* reply_code_name(ReplyCode code) noexcept {
    switch (code) {
        case ReplyCode::ok: return "ok";
        case ReplyCode::info: return "info";
        case ReplyCode::bad_request: return "bad_request";
        case ReplyCode::unknown_agent: return "unknown_agent";
        case ReplyCode::unknown_service: return "unknown_service";
        case ReplyCode::refused: return "refused";
        case ReplyCode::unreachable: return "unreachable";
        case ReplyCode::timed_out: return "timed_out";
        case ReplyCode::busy: return "busy";
        case ReplyCode::unsupported: return "unsupported";
        case ReplyCode::internal: return "internal";
    }
    return "?";
}

}  // namespace pinhole::node
