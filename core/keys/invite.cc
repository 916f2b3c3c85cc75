#include "core/keys/invite.h"

#include <cstring>

#include "core/util/format.h"
#include "core/util/text.h"

namespace pinhole::keys {
namespace {

constexpr std::size_t max_invite_fields = 8;

struct Fields {
    std::string_view key, address, gateway, gateway_key, cert_sha256;
};

std::string_view* field_named(Fields& fields, std::string_view name) noexcept {
    if (name == "key") return &fields.key;
    if (name == "address") return &fields.address;
    if (name == "gateway") return &fields.gateway;
    if (name == "gateway_key") return &fields.gateway_key;
    if (name == "cert_sha256") return &fields.cert_sha256;
    return nullptr;
}

std::string_view next_token(std::string_view& text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    std::size_t end = 0;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') end++;
    const std::string_view token = substring(text, 0, end);
    text.remove_prefix(end);
    return token;
}

// Splits "tag name=value ..." into fields, each named at most once.
Result<Fields> split_fields(std::string_view text) noexcept {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.remove_suffix(1);
    }
    if (next_token(text) != invite_tag) return Errc::malformed;
    Fields fields;
    for (std::size_t i = 0; i < max_invite_fields; i++) {
        const std::string_view token = next_token(text);
        if (token.empty()) return fields;
        const std::size_t equals = token.find('=');
        if (equals == std::string_view::npos) return Errc::malformed;
        std::string_view* slot = field_named(fields, substring(token, 0, equals));
        if (slot == nullptr || !slot->empty() || equals + 1 == token.size()) return Errc::malformed;
        *slot = substring(token, equals + 1);
    }
    return next_token(text).empty() ? Result<Fields>(fields) : Result<Fields>(Errc::malformed);
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Status parse_hex(std::string_view text, std::span<std::uint8_t> out) noexcept {
    if (text.size() != out.size() * 2) return Errc::malformed;
    for (std::size_t i = 0; i < out.size(); i++) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) return Errc::malformed;
        out[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return {};
}

Status parse_gateway(const Fields& fields, Invite& invite) noexcept {
    if (fields.gateway.empty() != fields.gateway_key.empty()) return Errc::malformed;
    if (fields.gateway.empty()) return fields.cert_sha256.empty() ? Status{} : Status{Errc::malformed};
    const Result<X25519Key> gateway_key = parse_key(fields.gateway_key);
    if (!gateway_key.ok()) return Errc::malformed;
    if (!set_gateway(invite, fields.gateway, gateway_key.value()).ok()) return Errc::malformed;
    if (fields.cert_sha256.empty()) return {};
    return set_cert_sha256(invite, fields.cert_sha256);
}

}  // namespace

Status set_gateway(Invite& invite, std::string_view url, const X25519Key& gateway_public_key) noexcept {
    if (url.empty() || url.size() > max_gateway_url_bytes ||
        url.find_first_of(" \t\r\n") != std::string_view::npos) {
        return Errc::invalid_argument;
    }
    invite.has_gateway = true;
    std::memcpy(invite.gateway_url.data(), url.data(), url.size());
    invite.gateway_url[url.size()] = '\0';
    invite.gateway_public_key = gateway_public_key;
    return {};
}

Status set_cert_sha256(Invite& invite, std::string_view hex) noexcept {
    if (!invite.has_gateway) return Errc::malformed;
    const Status parsed = parse_hex(hex, invite.cert_sha256);
    invite.has_cert_sha256 = parsed.ok();
    return parsed;
}

Result<std::size_t> format_invite(const Invite& invite, std::span<char> out) noexcept {
    std::array<char, key_text_bytes + 1> key{}, gateway_key{};
    if (!format_key(invite.public_key, key).ok()) return Errc::no_space;
    if (!format_key(invite.gateway_public_key, gateway_key).ok()) return Errc::no_space;
    const std::string_view agent(key.data()), gateway(gateway_key.data());
    const net::IpAddress address = overlay_address(invite.public_key);
    if (!invite.has_gateway) return try_format_to(out, "{} key={} address={}", invite_tag, agent, address);
    if (!invite.has_cert_sha256) {
        return try_format_to(out, "{} key={} address={} gateway={} gateway_key={}", invite_tag,
                             agent, address, invite.gateway_url_text(), gateway);
    }
    return try_format_to(out, "{} key={} address={} gateway={} gateway_key={} cert_sha256={}",
                         invite_tag, agent, address, invite.gateway_url_text(), gateway,
                         Hex{invite.cert_sha256});
}

Result<Invite> parse_invite(std::string_view text) noexcept {
    const Result<Fields> fields = split_fields(text);
    if (!fields.ok()) return fields.error();
    const Result<X25519Key> key = parse_key(fields.value().key);
    if (!key.ok()) return Errc::malformed;
    Invite invite;
    invite.public_key = key.value();
    if (!fields.value().address.empty()) {
        const Result<net::IpAddress> address = net::parse_address(fields.value().address);
        if (!address.ok() || !(address.value() == overlay_address(invite.public_key))) {
            return Errc::malformed;
        }
    }
    if (!parse_gateway(fields.value(), invite).ok()) return Errc::malformed;
    return invite;
}

}  // namespace pinhole::keys
