#include "config/values.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "core/util/base64.h"

namespace pinhole::config {
namespace {

constexpr std::string_view host_port_examples =
    "host:port such as 192.168.1.10:80, printer.lan:631 or [2001:db8::1]:22";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
// The value of a character already checked with isxdigit.
unsigned hex_value(char c) {
    return is_digit(c) ? static_cast<unsigned>(c - '0')
                       : static_cast<unsigned>(std::tolower(c) - 'a' + 10);
}
bool all_digits(std::string_view text) { return std::all_of(text.begin(), text.end(), is_digit); }

// "<where>: `<text>` <problem>" at `node`, or success when there is no problem.
Status report(Walker& walker, const YamlNode& node, std::string_view where, std::string_view text,
              const Problem& problem) {
    if (!problem) return {};
    return walker.fail(node, where, quote_value(text) + " " + *problem);
}

std::string format(const net::IpAddress& address) {
    std::array<char, net::address_text_bytes> text{};
    const Result<std::size_t> length = net::format_address(address, text);
    return length.ok() ? std::string(text.data(), length.value()) : std::string("?");
}

Problem check_label(std::string_view label) {
    if (label.empty()) return "has an empty label (two dots, or a dot at an end)";
    if (label.size() > 63) return "has a label longer than 63 characters, the most DNS allows";
    for (const char c : label) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
            return "has the character " + quote_value(std::string_view(&c, 1)) +
                   ": a host name is letters, digits, '-' and '_' between dots";
        }
    }
    if (label.front() == '-' || label.back() == '-') {
        return "has a label that starts or ends with '-'";
    }
    return std::nullopt;
}

struct HostAndPort {
    std::string_view host;
    std::string_view port;
    bool has_port = false;
    bool bracketed = false;
};

// Splits "host:port", "[v6]:port", "host" and "[v6]"; refuses an IPv6 address without brackets.
Problem split_host_port(std::string_view text, HostAndPort& parts) {
    if (text.starts_with('[')) {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            return "has `[` without `]`: expected [IPv6 address]:port";
        }
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            return "has text after `]`: expected [IPv6 address]:port";
        }
        parts = {text.substr(1, close - 1), rest.empty() ? rest : rest.substr(1), !rest.empty(),
                 true};
        return std::nullopt;
    }
    const std::size_t colon = text.rfind(':');
    parts = {text.substr(0, colon), colon == std::string_view::npos ? "" : text.substr(colon + 1),
             colon != std::string_view::npos, false};
    if (parts.host.find(':') != std::string_view::npos) {
        return "looks like an IPv6 address: put it in brackets, such as [2001:db8::1]:22";
    }
    return std::nullopt;
}

// `default_port` 0: the text must name a port.
Problem parse_host_port(std::string_view text, std::uint16_t default_port, HostPort& destination) {
    HostAndPort parts;
    if (auto problem = split_host_port(text, parts)) return problem;
    if (parts.host.empty()) return "has no host: expected " + std::string(host_port_examples);
    destination = HostPort{};
    destination.endpoint.port = default_port;
    if (parts.has_port) {
        if (auto problem = parse_port(parts.port, destination.endpoint.port)) return problem;
    } else if (default_port == 0) {
        return "needs a port: expected " + std::string(host_port_examples);
    }
    const Result<net::IpAddress> address = net::parse_address(parts.host);
    if (parts.bracketed) {
        if (!address.ok() || !address.value().is_v6()) {
            return "has " + quote_value(parts.host) +
                   " in brackets, which is not an IPv6 address "
                   "(brackets are for IPv6 only)";
        }
    }
    if (address.ok()) {
        destination.endpoint.address = address.value();
        return std::nullopt;
    }
    return parse_host_name(parts.host, destination.host_name);
}

Problem parse_gateway_path(Transport transport, std::string_view path,
                           FixedString<max_url_path_chars>& out) {
    const bool websocket = transport == Transport::ws || transport == Transport::wss;
    if (!websocket) {
        if (path.empty() || path == "/") return std::nullopt;
        return "has a path, which only ws:// and wss:// use: expected tcp://host:port or "
               "tls://host:port";
    }
    if (path.empty()) path = "/pinhole";  // where the gateway answers the WebSocket upgrade
    const bool printable = std::all_of(path.begin(), path.end(), [](char c) {
        return std::isgraph(static_cast<unsigned char>(c)) != 0;
    });
    if (!printable) return "has a path with spaces or control characters";
    if (!out.assign(path).ok()) {
        return "has a path longer than " + std::to_string(max_url_path_chars) + " characters";
    }
    return std::nullopt;
}

Problem parse_gateway_url(std::string_view text, GatewayUrl& url) {
    const std::size_t scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) {
        return "is not a URL: expected tcp://host:port, tls://host:port, ws://host[:port][/path] "
               "or wss://host[:port][/path]";
    }
    const std::string_view scheme = text.substr(0, scheme_end);
    constexpr std::array<std::string_view, 4> schemes{"tcp", "tls", "ws", "wss"};
    const auto found = std::find(schemes.begin(), schemes.end(), scheme);
    if (found == schemes.end()) {
        return "has the scheme " + quote_value(scheme) +
               ": expected tcp, tls, ws or wss (lowercase)";
    }
    url.transport = static_cast<Transport>(found - schemes.begin());
    const std::string_view rest = text.substr(scheme_end + 3);
    if (rest.find_first_of("?#@") != std::string_view::npos) {
        return "has a query, a fragment or a user name: expected only host, port and path";
    }
    const std::size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    const bool websocket = url.transport == Transport::ws || url.transport == Transport::wss;
    const std::uint16_t default_port = url.transport == Transport::ws ? 80 : 443;
    HostAndPort parts;
    if (auto problem = split_host_port(authority, parts)) return problem;
    if (!websocket && !parts.has_port) {
        return "needs a port: tcp:// and tls:// have no standard one; expected such as "
               "tcp://gw.example.net:8443";
    }
    if (auto problem = parse_host_port(authority, websocket ? default_port : 0, url.server)) {
        return problem;
    }
    return parse_gateway_path(url.transport, path, url.path);
}

Problem parse_interface_address(std::string_view text, InterfaceAddress& out) {
    constexpr std::string_view expected =
        "is not an IP address: expected an address with an optional /length, such as 10.77.0.2/32 "
        "or fd00::2/64";
    const std::size_t slash = text.find('/');
    const Result<net::IpAddress> address = net::parse_address(text.substr(0, slash));
    if (!address.ok()) return std::string(expected);
    const unsigned bits = address.value().is_v4() ? 32 : 128;
    unsigned length = bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 || !all_digits(digits)) {
            return std::string(expected);
        }
        length = 0;
        for (const char digit : digits) length = length * 10 + static_cast<unsigned>(digit - '0');
        if (length > bits)
            return "has the prefix length /" + std::string(digits) + ": expected at most /" +
                   std::to_string(bits);
    }
    out = InterfaceAddress{address.value(), static_cast<std::uint8_t>(length)};
    return std::nullopt;
}

}  // namespace

Problem parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    if (!text.empty() && text.size() <= 5 && all_digits(text)) {
        for (const char digit : text) value = value * 10 + static_cast<unsigned>(digit - '0');
    }
    if (value == 0 || value > 65535) {
        return "has the port " + quote_value(text) + ": expected a port 1..65535";
    }
    port = static_cast<std::uint16_t>(value);
    return std::nullopt;
}

Problem parse_host_name(std::string_view text, HostName& name) {
    std::string_view label;
    // Bounded: each round moves past one label and its dot.
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t dot = std::min(text.find('.', start), text.size());
        label = text.substr(start, dot - start);
        if (auto problem = check_label(label)) return problem;
        start = dot + 1;
    }
    if (all_digits(label)) {
        return "is not a valid IPv4 address: expected four numbers 0..255 such as 192.168.1.10";
    }
    std::string lowered(text);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    if (!name.assign(lowered).ok()) return "is longer than 253 characters, the most a DNS name has";
    return std::nullopt;
}

Problem parse_network(std::string_view text, net::Prefix& network) {
    constexpr std::string_view expected =
        "is not an IP network: expected an address with an optional /length, such as "
        "192.168.1.0/24, 10.0.0.5 or fd00::/64";
    const std::size_t slash = text.find('/');
    const Result<net::IpAddress> address = net::parse_address(text.substr(0, slash));
    if (!address.ok()) return std::string(expected);
    const std::uint8_t host_bits = address.value().is_v4() ? 32 : 128;
    if (slash == std::string_view::npos) {
        network = net::Prefix{address.value(), host_bits};
        return std::nullopt;
    }
    const Result<net::Prefix> prefix = net::parse_prefix(text);
    if (!prefix.ok()) {
        return "has a bad prefix length: expected /0 to /" + std::to_string(host_bits);
    }
    if (prefix.value().address != address.value()) {
        const std::string length = std::to_string(prefix.value().length);
        return "has bits set past the prefix length /" + length + ": write " +
               format(prefix.value().address) + "/" + length + " for the network, or " +
               std::string(text.substr(0, slash)) + " alone for one host";
    }
    network = prefix.value();
    return std::nullopt;
}

Problem parse_port_list(std::string_view text,
                        FixedVector<PortRange, max_port_ranges_per_rule>& ports) {
    ports.clear();
    std::string_view rest = text == "*" ? std::string_view("1-65535") : text;
    // Bounded: each round consumes one comma-separated part.
    for (bool more = true; more;) {
        const std::size_t comma = rest.find(',');
        const std::string_view part = rest.substr(0, comma);
        more = comma != std::string_view::npos;
        rest = more ? rest.substr(comma + 1) : std::string_view("");
        if (part.empty()) {
            return "has an empty port (a stray comma?): expected ports like 80,443 or 1000-2000";
        }
        const std::size_t dash = part.find('-');
        PortRange range;
        if (auto problem = parse_port(part.substr(0, dash), range.first)) return problem;
        range.last = range.first;
        if (dash != std::string_view::npos) {
            if (auto problem = parse_port(part.substr(dash + 1), range.last)) return problem;
        }
        if (range.last < range.first) {
            return "has the range " + quote_value(part) + " backwards: write low-high";
        }
        if (!ports.push_back(range).ok()) {
            return "has more than " + std::to_string(max_port_ranges_per_rule) +
                   " ports or ranges, the most one rule holds: split it into several rules";
        }
    }
    return std::nullopt;
}

Status read_key(Walker& walker, const YamlNode& node, std::string_view where, KeySecrecy secrecy,
                KeyBytes& key) {
    const bool secret = secrecy == KeySecrecy::private_key;
    std::string_view text;
    const std::string expected =
        secret ? "a private key as `wg genkey` prints it (44 characters of base64)"
               : "a public key as `wg pubkey` prints it (44 characters of base64)";
    if (auto status = read_text(walker, node, where, expected, text); !status.ok()) return status;
    std::array<std::uint8_t, 48> decoded{};  // room for a few bytes too many, to say how many
    const Result<std::size_t> length = base64_decode(text, decoded);
    std::string problem;
    if (!length.ok() && length.error() == Errc::no_space) {
        problem = "is too long for a key";
    } else if (!length.ok()) {
        problem = "is not valid base64";
        if (text.size() == 43) problem += " (is the trailing `=` missing?)";
    } else if (length.value() != key.size()) {
        problem = "decodes to " + std::to_string(length.value()) + " bytes, not the 32 of a key";
    } else {
        std::copy_n(decoded.begin(), key.size(), key.begin());
        std::fill(decoded.begin(), decoded.end(), std::uint8_t{0});
        return {};
    }
    std::fill(decoded.begin(), decoded.end(), std::uint8_t{0});
    // Never repeat a private key, even a broken one, into logs.
    return walker.fail(node, where,
                       (secret ? std::string("the private key") : quote_value(text)) + " " +
                           problem + ": expected " + expected);
}

Status read_sha256(Walker& walker, const YamlNode& node, std::string_view where,
                   std::array<std::uint8_t, 32>& digest) {
    constexpr std::string_view expected =
        "64 hex digits, the SHA-256 of the certificate (`openssl x509 -in gateway.crt -noout "
        "-fingerprint -sha256` prints it; colons are fine)";
    std::string_view text;
    if (auto status = read_text(walker, node, where, expected, text); !status.ok()) return status;
    std::string hex;
    std::copy_if(text.begin(), text.end(), std::back_inserter(hex),
                 [](char c) { return c != ':'; });
    const bool is_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (hex.size() != 64 || !is_hex) {
        return walker.fail(
            node, where,
            quote_value(text) + " is not a SHA-256 fingerprint: expected " + std::string(expected));
    }
    for (std::size_t i = 0; i < digest.size(); ++i) {
        digest[i] =
            static_cast<std::uint8_t>(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
    }
    return {};
}

Status read_path(Walker& walker, const YamlNode& node, std::string_view where, Path& path) {
    std::string_view text;
    if (auto status = read_text(walker, node, where, "a path, such as /var/lib/pinhole", text);
        !status.ok()) {
        return status;
    }
    if (text.front() == '~') {
        return walker.fail(node, where,
                           quote_value(text) +
                               " starts with ~, which is not expanded here: "
                               "write the full path");
    }
    const std::string_view base = walker.base_dir();
    const std::string resolved = text.front() == '/' ? std::string(text)
                                 : base == "/"       ? "/" + std::string(text)
                                                     : std::string(base) + "/" + std::string(text);
    if (!path.assign(resolved).ok()) {
        return walker.fail(node, where,
                           quote_value(text) + " resolves to " + quote_value(resolved) +
                               ", longer than the " + std::to_string(max_path_chars) +
                               " characters a path may have here");
    }
    return {};
}

Status check_name(Walker& walker, const YamlNode& node, std::string_view where,
                  std::string_view text) {
    const bool valid = !text.empty() && text.size() <= max_name_chars && text.front() >= 'a' &&
                       text.front() <= 'z' && text.back() != '-' &&
                       std::all_of(text.begin(), text.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-';
                       });
    if (valid) return {};
    return walker.fail(node, where,
                       quote_value(text) +
                           " is not a valid name: expected lowercase letters, "
                           "digits and '-', starting with a letter, at most " +
                           std::to_string(max_name_chars) +
                           " characters (names become DNS labels)");
}

Status read_name(Walker& walker, const YamlNode& node, std::string_view where, Name& name) {
    std::string_view text;
    if (auto status = read_text(walker, node, where, "a name such as laptop", text); !status.ok()) {
        return status;
    }
    if (auto status = check_name(walker, node, where, text); !status.ok()) return status;
    return name.assign(text);  // fits: check_name bounds the length
}

Status read_host_port(Walker& walker, const YamlNode& node, std::string_view where,
                      HostPort& destination) {
    std::string_view text;
    if (auto status = read_text(walker, node, where, host_port_examples, text); !status.ok()) {
        return status;
    }
    return report(walker, node, where, text, parse_host_port(text, 0, destination));
}

Status read_bind_endpoint(Walker& walker, const YamlNode& node, std::string_view where,
                          net::Endpoint& endpoint) {
    constexpr std::string_view expected =
        "an address and port to listen on, such as [::]:8443 or "
        "0.0.0.0:8443 (IPv6 in brackets)";
    std::string_view text;
    if (auto status = read_text(walker, node, where, expected, text); !status.ok()) return status;
    const Result<net::Endpoint> parsed = net::parse_endpoint(text);
    if (!parsed.ok()) {
        return walker.fail(
            node, where,
            quote_value(text) + " is not an address:port: expected " + std::string(expected));
    }
    if (parsed.value().port == 0) {
        return walker.fail(node, where,
                           quote_value(text) + " has port 0: a server needs a fixed port 1..65535");
    }
    endpoint = parsed.value();
    return {};
}

Status read_interface_address(Walker& walker, const YamlNode& node, std::string_view where,
                              InterfaceAddress& address) {
    std::string_view text;
    if (auto status = read_text(walker, node, where, "an address such as 10.77.0.2/32", text);
        !status.ok()) {
        return status;
    }
    return report(walker, node, where, text, parse_interface_address(text, address));
}

Status read_network(Walker& walker, const YamlNode& node, std::string_view where,
                    net::Prefix& network) {
    std::string_view text;
    if (auto status = read_text(walker, node, where, "a network such as 10.77.0.3/32", text);
        !status.ok()) {
        return status;
    }
    return report(walker, node, where, text, parse_network(text, network));
}

Status read_gateway_url(Walker& walker, const YamlNode& node, std::string_view where,
                        GatewayUrl& url) {
    std::string_view text;
    if (auto status =
            read_text(walker, node, where, "a URL such as tcp://gw.example.net:8443", text);
        !status.ok()) {
        return status;
    }
    return report(walker, node, where, text, parse_gateway_url(text, url));
}

}  // namespace pinhole::config
