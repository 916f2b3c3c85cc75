#include "core/proxy/socks5_wire.h"

#include <algorithm>

#include "core/util/endian.h"

namespace pinhole::proxy {
namespace {

constexpr std::size_t ipv4_bytes = 4;
constexpr std::size_t ipv6_bytes = 16;
constexpr std::size_t port_bytes = 2;
constexpr std::size_t max_label_bytes = 63;
// VER CMD|REP RSV before the address, in requests and replies; RSV RSV FRAG in UDP datagrams.
constexpr std::size_t request_head_bytes = 3;
constexpr std::size_t udp_head_bytes = 3;

bool is_known_command(std::uint8_t command) noexcept {
    return command >= static_cast<std::uint8_t>(Command::connect) &&
           command <= static_cast<std::uint8_t>(Command::udp_associate);
}

bool is_known_address_type(std::uint8_t type) noexcept {
    return type == static_cast<std::uint8_t>(AddressType::ipv4) ||
           type == static_cast<std::uint8_t>(AddressType::host_name) ||
           type == static_cast<std::uint8_t>(AddressType::ipv6);
}

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// ATYP | ADDR | PORT from the front of `bytes`, its length stored in `consumed`. would_block
// while incomplete; unsupported for an unknown ATYP; malformed for a refused host name.
Result<SocksAddress> parse_address(std::span<const std::uint8_t> bytes,
                                   std::size_t& consumed) noexcept {
    if (bytes.empty()) return Errc::would_block;
    const std::uint8_t type = bytes[0];
    if (!is_known_address_type(type)) return Errc::unsupported;
    SocksAddress address;
    std::size_t at = 1;
    std::size_t address_bytes = type == static_cast<std::uint8_t>(AddressType::ipv4) ? ipv4_bytes
                                                                                    : ipv6_bytes;
    if (type == static_cast<std::uint8_t>(AddressType::host_name)) {
        if (bytes.size() < 2) return Errc::would_block;
        address_bytes = bytes[1];
        // An empty name is refused at once: no later byte can make it valid.
        if (address_bytes == 0 || address_bytes > max_socks_host_name_bytes) return Errc::malformed;
        at = 2;
    }
    if (bytes.size() < at + address_bytes + port_bytes) return Errc::would_block;
    const std::span<const std::uint8_t> field = bytes.subspan(at, address_bytes);
    if (type == static_cast<std::uint8_t>(AddressType::ipv4)) {
        address.endpoint.address = net::IpAddress::v4(field[0], field[1], field[2], field[3]);
    } else if (type == static_cast<std::uint8_t>(AddressType::ipv6)) {
        address.endpoint.address = net::IpAddress::v6(field.first<ipv6_bytes>());
    } else {
        if (!is_valid_host_name(as_text(field))) return Errc::malformed;
        if (!address.host_name.assign(as_text(field)).ok()) return Errc::malformed;
    }
    address.endpoint.port = load_be16(bytes.subspan(at + address_bytes));
    consumed = at + address_bytes + port_bytes;
    return address;
}

// The ATYP `address` is sent with; false for a host name the parser would refuse.
bool address_type_of(const SocksAddress& address, AddressType& type) noexcept {
    if (!address.host_name.empty()) {
        type = AddressType::host_name;
        return is_valid_host_name(address.host_name.view());
    }
    // Family::none goes out as 0.0.0.0, which failure replies and UDP ASSOCIATE requests use.
    type = address.endpoint.address.is_v6() ? AddressType::ipv6 : AddressType::ipv4;
    return true;
}

std::size_t encoded_address_bytes(AddressType type, const SocksAddress& address) noexcept {
    switch (type) {
        case AddressType::ipv4: return 1 + ipv4_bytes + port_bytes;
        case AddressType::ipv6: return 1 + ipv6_bytes + port_bytes;
        case AddressType::host_name: return 2 + address.host_name.size() + port_bytes;
    }
    return 0;  // unreachable: every AddressType is listed
}

// Writes ATYP | ADDR | PORT; the caller checked `out` holds encoded_address_bytes.
void write_address(AddressType type, const SocksAddress& address,
                   std::span<std::uint8_t> out) noexcept {
    out[0] = static_cast<std::uint8_t>(type);
    std::size_t at = 1;
    if (type == AddressType::host_name) {
        const std::string_view name = address.host_name.view();
        out[1] = static_cast<std::uint8_t>(name.size());
        std::copy(name.begin(), name.end(), out.begin() + 2);
        at = 2 + name.size();
    } else {
        const std::size_t bytes = type == AddressType::ipv4 ? ipv4_bytes : ipv6_bytes;
        const auto& source = address.endpoint.address.bytes;
        std::copy_n(source.begin(), bytes, out.begin() + 1);
        at = 1 + bytes;
    }
    store_be16(out.subspan(at), address.endpoint.port);
}

// VER | CODE | RSV | address: the layout requests and replies share.
Result<std::size_t> encode_address_message(std::uint8_t code, const SocksAddress& address,
                                           std::span<std::uint8_t> out) noexcept {
    AddressType type = AddressType::ipv4;
    if (!address_type_of(address, type)) return Errc::invalid_argument;
    const std::size_t length = request_head_bytes + encoded_address_bytes(type, address);
    if (out.size() < length) return Errc::no_space;
    out[0] = socks_version;
    out[1] = code;
    out[2] = 0;
    write_address(type, address, out.subspan(request_head_bytes));
    return length;
}

// Checks VER and RSV of a request or reply as far as they are buffered, then the address.
Result<SocksAddress> parse_address_message(std::span<const std::uint8_t> buffered,
                                           std::size_t& consumed) noexcept {
    if (buffered.size() >= 3 && buffered[2] != 0) return Errc::malformed;
    if (buffered.size() < request_head_bytes) return Errc::would_block;
    std::size_t address_bytes = 0;
    const Result<SocksAddress> address =
        parse_address(buffered.subspan(request_head_bytes), address_bytes);
    if (address.ok()) consumed = request_head_bytes + address_bytes;
    return address;
}

bool is_valid_credential(std::string_view text) noexcept {
    return !text.empty() && text.size() <= max_socks_credential_bytes;
}

// Reads one length-prefixed credential at `at`; would_block while incomplete.
Result<std::string_view> parse_credential(std::span<const std::uint8_t> buffered,
                                          std::size_t& at) noexcept {
    if (buffered.size() <= at) return Errc::would_block;
    const std::size_t length = buffered[at];
    if (length == 0) return Errc::malformed;
    if (buffered.size() < at + 1 + length) return Errc::would_block;
    const std::string_view text = as_text(buffered.subspan(at + 1, length));
    at += 1 + length;
    return text;
}

}  // namespace

bool is_valid_host_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_socks_host_name_bytes) return false;
    std::size_t label_bytes = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (c < 0x21 || c > 0x7e) return false;
        if (c != '.') {
            if (++label_bytes > max_label_bytes) return false;
            continue;
        }
        // An empty label is refused, except the root's after a trailing dot.
        if (label_bytes == 0) return false;
        label_bytes = 0;
    }
    return true;
}

Result<Parsed<Greeting>> parse_greeting(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.empty()) return Errc::would_block;
    if (buffered[0] != socks_version) return Errc::unsupported;
    if (buffered.size() < 2) return Errc::would_block;
    const std::size_t count = buffered[1];
    if (count == 0) return Errc::malformed;
    if (buffered.size() < 2 + count) return Errc::would_block;
    Parsed<Greeting> parsed;
    parsed.message.method_count = count;
    for (std::size_t i = 0; i < count; ++i) {
        parsed.message.methods[i] = static_cast<AuthMethod>(buffered[2 + i]);
    }
    parsed.consumed = 2 + count;
    return parsed;
}

AuthMethod pick_method(const Greeting& greeting, ServerAuth server) noexcept {
    const std::span<const AuthMethod> offered = greeting.offered();
    const auto offers = [&](AuthMethod method) {
        return std::find(offered.begin(), offered.end(), method) != offered.end();
    };
    if (server.user_password && offers(AuthMethod::user_password)) return AuthMethod::user_password;
    if (server.no_auth && offers(AuthMethod::no_auth)) return AuthMethod::no_auth;
    return AuthMethod::no_acceptable;
}

Result<std::size_t> encode_method_choice(AuthMethod method, std::span<std::uint8_t> out) noexcept {
    if (out.size() < method_choice_bytes) return Errc::no_space;
    out[0] = socks_version;
    out[1] = static_cast<std::uint8_t>(method);
    return method_choice_bytes;
}

Result<Parsed<Credentials>> parse_user_password(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.empty()) return Errc::would_block;
    if (buffered[0] != user_password_version) return Errc::unsupported;
    std::size_t at = 1;
    const Result<std::string_view> user = parse_credential(buffered, at);
    if (!user.ok()) return user.error();
    const Result<std::string_view> password = parse_credential(buffered, at);
    if (!password.ok()) return password.error();
    Parsed<Credentials> parsed;
    parsed.message.user = user.value();
    parsed.message.password = password.value();
    parsed.consumed = at;
    return parsed;
}

Result<std::size_t> encode_auth_status(bool success, std::span<std::uint8_t> out) noexcept {
    if (out.size() < auth_status_bytes) return Errc::no_space;
    out[0] = user_password_version;
    out[1] = success ? 0 : 1;
    return auth_status_bytes;
}

Result<Parsed<Request>> parse_request(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.empty()) return Errc::would_block;
    if (buffered[0] != socks_version) return Errc::unsupported;
    if (buffered.size() >= 2 && !is_known_command(buffered[1])) return Errc::unsupported;
    Parsed<Request> parsed;
    const Result<SocksAddress> destination = parse_address_message(buffered, parsed.consumed);
    if (!destination.ok()) return destination.error();
    parsed.message.command = static_cast<Command>(buffered[1]);
    parsed.message.destination = destination.value();
    return parsed;
}

ReplyCode reply_for_refused_request(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.size() < 2 || buffered[0] != socks_version) return ReplyCode::general_failure;
    if (!is_known_command(buffered[1])) return ReplyCode::command_not_supported;
    if (buffered.size() > request_head_bytes && buffered[2] == 0 &&
        !is_known_address_type(buffered[request_head_bytes])) {
        return ReplyCode::address_type_not_supported;
    }
    return ReplyCode::general_failure;
}

Result<std::size_t> encode_reply(ReplyCode code, const SocksAddress& bound,
                                 std::span<std::uint8_t> out) noexcept {
    return encode_address_message(static_cast<std::uint8_t>(code), bound, out);
}

Result<std::size_t> encode_reply(ReplyCode code, const net::Endpoint& bound,
                                 std::span<std::uint8_t> out) noexcept {
    SocksAddress address;
    address.endpoint = bound;
    return encode_reply(code, address, out);
}

ReplyCode reply_for_error(Errc error) noexcept {
    switch (error) {
        case Errc::permission: return ReplyCode::not_allowed;
        case Errc::refused: return ReplyCode::connection_refused;
        case Errc::unreachable:
        case Errc::timed_out:
        case Errc::not_found: return ReplyCode::host_unreachable;
        default: return ReplyCode::general_failure;
    }
}

Result<UdpDatagram> parse_udp_datagram(std::span<const std::uint8_t> datagram) noexcept {
    if (datagram.size() < udp_head_bytes) return Errc::malformed;
    if (datagram[0] != 0 || datagram[1] != 0) return Errc::malformed;
    if (datagram[2] != 0) return Errc::unsupported;
    std::size_t address_bytes = 0;
    const Result<SocksAddress> address =
        parse_address(datagram.subspan(udp_head_bytes), address_bytes);
    if (!address.ok()) {
        // A datagram cannot grow: what a stream would wait for is missing for good.
        return address.error() == Errc::would_block ? Errc::malformed : address.error();
    }
    UdpDatagram parsed;
    parsed.address = address.value();
    parsed.header_bytes = udp_head_bytes + address_bytes;
    parsed.payload = datagram.subspan(parsed.header_bytes);
    return parsed;
}

Result<std::size_t> encode_udp_datagram(const SocksAddress& address,
                                        std::span<const std::uint8_t> payload,
                                        std::span<std::uint8_t> out) noexcept {
    AddressType type = AddressType::ipv4;
    if (!address_type_of(address, type)) return Errc::invalid_argument;
    const std::size_t header_bytes = udp_head_bytes + encoded_address_bytes(type, address);
    if (out.size() < header_bytes || out.size() - header_bytes < payload.size()) {
        return Errc::no_space;
    }
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    write_address(type, address, out.subspan(udp_head_bytes));
    std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(header_bytes));
    return header_bytes + payload.size();
}

Result<std::size_t> encode_greeting(std::span<const AuthMethod> methods,
                                    std::span<std::uint8_t> out) noexcept {
    if (methods.empty() || methods.size() > max_socks_methods) return Errc::invalid_argument;
    if (out.size() < 2 + methods.size()) return Errc::no_space;
    out[0] = socks_version;
    out[1] = static_cast<std::uint8_t>(methods.size());
    for (std::size_t i = 0; i < methods.size(); ++i) {
        out[2 + i] = static_cast<std::uint8_t>(methods[i]);
    }
    return 2 + methods.size();
}

Result<std::size_t> encode_user_password(const Credentials& credentials,
                                         std::span<std::uint8_t> out) noexcept {
    if (!is_valid_credential(credentials.user) || !is_valid_credential(credentials.password)) {
        return Errc::invalid_argument;
    }
    const std::size_t length = 3 + credentials.user.size() + credentials.password.size();
    if (out.size() < length) return Errc::no_space;
    out[0] = user_password_version;
    std::size_t at = 1;
    for (const std::string_view text : {credentials.user, credentials.password}) {
        out[at] = static_cast<std::uint8_t>(text.size());
        std::copy(text.begin(), text.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 1));
        at += 1 + text.size();
    }
    return length;
}

Result<std::size_t> encode_request(Command command, const SocksAddress& destination,
                                   std::span<std::uint8_t> out) noexcept {
    if (!is_known_command(static_cast<std::uint8_t>(command))) return Errc::invalid_argument;
    return encode_address_message(static_cast<std::uint8_t>(command), destination, out);
}

Result<Parsed<Reply>> parse_reply(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.empty()) return Errc::would_block;
    if (buffered[0] != socks_version) return Errc::unsupported;
    Parsed<Reply> parsed;
    const Result<SocksAddress> bound = parse_address_message(buffered, parsed.consumed);
    if (!bound.ok()) return bound.error();
    parsed.message.code = static_cast<ReplyCode>(buffered[1]);
    parsed.message.bound = bound.value();
    return parsed;
}

const char* describe(ReplyCode code) noexcept {
    switch (code) {
        case ReplyCode::succeeded: return "succeeded";
        case ReplyCode::general_failure: return "general SOCKS server failure";
        case ReplyCode::not_allowed: return "connection not allowed by ruleset";
        case ReplyCode::network_unreachable: return "network unreachable";
        case ReplyCode::host_unreachable: return "host unreachable";
        case ReplyCode::connection_refused: return "connection refused";
        case ReplyCode::ttl_expired: return "TTL expired";
        case ReplyCode::command_not_supported: return "command not supported";
        case ReplyCode::address_type_not_supported: return "address type not supported";
    }
    return "unknown reply";
}

}  // namespace pinhole::proxy
