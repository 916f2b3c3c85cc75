// The local control protocol: how client commands (`pinhole connect`, `forward`, `status`,
// `down`) talk to the running node over its 0600 Unix stream socket (DESIGN §1: commands attach
// to one node per key, never start a second). The command sends one request line; the node
// answers with lines. Every line is ASCII, at most control_line_max_bytes with its LF.
//
//   pinhole/1 connect AGENT TARGET
//   pinhole/1 forward AGENT LISTEN TARGET
//   pinhole/1 forward-udp AGENT LISTEN TARGET
//   pinhole/1 proxy AGENT LISTEN [auth=USER_HEX:PASSWORD_HEX]
//   pinhole/1 status
//   pinhole/1 down
//
//   AGENT   a peer name (the config's name rule, overlay::is_valid_name)
//   TARGET  a service name | IPv4:PORT | [IPv6]:PORT | hostname:PORT   (no ':' means a service)
//   LISTEN  PORT | IPv4:PORT | [IPv6]:PORT; the address is 127.0.0.1 by default, port 0 asks
//           for any free port
//   auth=   the SOCKS5 user name and password a `proxy` demands (RFC 1929), each in lowercase
//           hex: any bytes, 1..max_proxy_user_bytes and 1..max_proxy_password_bytes
//
//   ok [TEXT]                  success; after `connect`, the socket then carries the stream
//   info [TEXT]                after `forward`'s ok: a note, such as a connection accepted
//   error CODE [TEXT]          CODE is bad_request, unknown_agent, ... (reply_code_name)
//
// Tokens are separated by exactly one space. Ports are decimal without leading zeros or sign
// (1..65535; LISTEN also 0); host names follow RFC 1123 and are stored lowercase. Parsers never
// crash on any input and refuse what they cannot read with Errc::malformed. Heap-free, like the
// core, so the fuzzers see all of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "config/schema.h"
#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::node {

inline constexpr std::string_view control_protocol_tag = "pinhole/1";
// A line with its LF; the line parsers take it without.
inline constexpr std::size_t control_line_max_bytes = 512;

enum class Command : std::uint8_t { connect, forward, status, down, proxy, forward_udp };

inline constexpr std::size_t max_proxy_user_bytes = 64;
inline constexpr std::size_t max_proxy_password_bytes = 96;  // the longest line still fits

// A `proxy`'s SOCKS5 credentials; absent: no authentication.
struct ProxyAuth {
    bool required = false;
    config::FixedString<max_proxy_user_bytes> user;
    config::FixedString<max_proxy_password_bytes> password;
    friend bool operator==(const ProxyAuth&, const ProxyAuth&) = default;
};

// Where a stream goes, at the agent.
struct Target {
    enum class Kind : std::uint8_t { service, address, host };
    Kind kind = Kind::service;
    config::Name service;    // service: its name
    net::Endpoint endpoint;  // address: the address and port; host: the port only
    config::HostName host;   // host: lowercase, resolved by the agent
    friend bool operator==(const Target&, const Target&) = default;
};

struct Request {
    Command command = Command::status;
    config::Name agent;     // connect, forward
    Target target;          // connect, forward
    net::Endpoint listen;   // forward, forward-udp, proxy
    ProxyAuth auth;         // proxy
    friend bool operator==(const Request&, const Request&) = default;
};

enum class ReplyCode : std::uint8_t {
    ok,
    info,
    bad_request,
    unknown_agent,
    unknown_service,
    refused,
    unreachable,
    timed_out,
    busy,
    unsupported,
    internal,
};

struct Reply {
    ReplyCode code = ReplyCode::ok;
    std::string_view text;  // points into the parsed line; may be empty
};

// One request line without its LF. Fields a command does not use are left at their defaults.
[[nodiscard]] Result<Request> parse_request(std::string_view line) noexcept;
// The request line with its LF; returns its length. Errc::invalid_argument for a request that
// parse_request would refuse (a bad name, port 0 in a target, ...); Errc::no_space when `out`
// is too small (control_line_max_bytes always fits).
[[nodiscard]] Result<std::size_t> format_request(const Request& request,
                                                 std::span<char> out) noexcept;

// TARGET and LISTEN alone: the command-line client reads its arguments with these.
[[nodiscard]] Result<Target> parse_target(std::string_view text) noexcept;
[[nodiscard]] Result<net::Endpoint> parse_listen(std::string_view text) noexcept;

// One reply line without its LF.
[[nodiscard]] Result<Reply> parse_reply(std::string_view line) noexcept;
// The reply line with its LF. Errc::invalid_argument for text that is not printable ASCII (a
// control character would end or forge a line) or that makes the line too long; Errc::no_space
// when `out` is too small.
[[nodiscard]] Result<std::size_t> format_reply(ReplyCode code, std::string_view text,
                                               std::span<char> out) noexcept;
// "ok", "info", "bad_request", ...; "?" for a value outside the enum.
[[nodiscard]] const char* reply_code_name(ReplyCode code) noexcept;

}  // namespace pinhole::node
