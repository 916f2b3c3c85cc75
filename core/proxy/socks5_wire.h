// SOCKS5 on the wire (RFC 1928, username/password from RFC 1929), for `pinhole proxy`, which
// is a SOCKS5 server. Pure formats: no sockets, no state, nothing allocated. The messages:
//
//   greeting        client: VER=5 | NMETHODS (1..255) | METHODS[NMETHODS]
//   method choice   server: VER=5 | METHOD                 (0xFF: no acceptable method)
//   user/password   client: VER=1 | ULEN (1..255) | UNAME | PLEN (1..255) | PASSWD
//   auth status     server: VER=1 | STATUS                 (0 success, anything else failure)
//   request         client: VER=5 | CMD | RSV=0 | ATYP | DST.ADDR | DST.PORT:u16 BE
//   reply           server: VER=5 | REP | RSV=0 | ATYP | BND.ADDR | BND.PORT:u16 BE
//   UDP datagram    both:   RSV=0:u16 | FRAG=0 | ATYP | DST.ADDR | DST.PORT:u16 BE | DATA
//
// ATYP 1 is an IPv4 address (4 bytes), 4 an IPv6 address (16 bytes), 3 a host name (a length
// byte, then the name: printable ASCII without spaces, DNS-shaped as is_valid_host_name says).
//
// The client's messages arrive on a byte stream, so their parsers take what is buffered and
// say how much one message took (Parsed::consumed), or Errc::would_block while the message is
// still incomplete. A fixed field (VER, CMD, RSV, ATYP, a length) is judged as soon as it is
// buffered, so garbage is refused early; a host name once all of it is.
// The refusals, the same for every parser:
//   Errc::would_block   not a whole message yet: read more and parse again from the start
//   Errc::unsupported   a version other than 5 (1 for user/password), a command or address
//                       type we do not know, a fragmented UDP datagram (FRAG != 0)
//   Errc::malformed     a known version with a broken field: no methods, RSV != 0, an empty
//                       user name, a host name that is empty, too long or not printable
// A UDP datagram is whole: a short one is malformed, never would_block.
// The encoders write one message at the start of `out` and return its length; Errc::no_space
// when `out` is too small, Errc::invalid_argument for what the parser would refuse.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "config/schema.h"
#include "core/net/address.h"
#include "core/util/result.h"

namespace pinhole::proxy {

inline constexpr std::uint8_t socks_version = 5;
inline constexpr std::uint8_t user_password_version = 1;
inline constexpr std::size_t max_socks_methods = 255;
inline constexpr std::size_t max_socks_host_name_bytes = config::max_host_name_chars;
inline constexpr std::size_t max_socks_credential_bytes = 255;
// The longest messages: 2 + 255 methods; 3 + 255 + 255; a request or reply naming a host.
inline constexpr std::size_t max_greeting_bytes = 2 + max_socks_methods;
inline constexpr std::size_t max_user_password_bytes = 3 + 2 * max_socks_credential_bytes;
inline constexpr std::size_t max_request_bytes = 4 + 1 + 255 + 2;
inline constexpr std::size_t max_reply_bytes = max_request_bytes;
inline constexpr std::size_t max_udp_header_bytes = max_request_bytes;
inline constexpr std::size_t method_choice_bytes = 2;
inline constexpr std::size_t auth_status_bytes = 2;

enum class AuthMethod : std::uint8_t {
    no_auth = 0x00,
    gssapi = 0x01,
    user_password = 0x02,
    no_acceptable = 0xff,
};

enum class Command : std::uint8_t { connect = 1, bind = 2, udp_associate = 3 };

enum class AddressType : std::uint8_t { ipv4 = 1, host_name = 3, ipv6 = 4 };

enum class ReplyCode : std::uint8_t {
    succeeded = 0,
    general_failure = 1,
    not_allowed = 2,  // connection not allowed by ruleset
    network_unreachable = 3,
    host_unreachable = 4,
    connection_refused = 5,
    ttl_expired = 6,
    command_not_supported = 7,
    address_type_not_supported = 8,
};

// A parsed message and the bytes it took from the front of the buffer.
template <typename T>
struct Parsed {
    T message;
    std::size_t consumed = 0;
};

struct Greeting {
    std::array<AuthMethod, max_socks_methods> methods{};
    std::size_t method_count = 0;  // 1..255

    [[nodiscard]] std::span<const AuthMethod> offered() const noexcept {
        return {methods.data(), method_count};
    }
};

// What the server accepts; pick_method chooses among them.
struct ServerAuth {
    bool no_auth = false;
    bool user_password = false;
};

// The views point into the parsed buffer, which must outlive them: credentials are not copied.
struct Credentials {
    std::string_view user;      // 1..255 bytes, any values
    std::string_view password;  // 1..255 bytes, any values
};

// A destination or bound address: a literal address (host_name empty) or a host name (the
// endpoint's address then Family::none); the port is in endpoint.port either way.
using SocksAddress = config::HostPort;

struct Request {
    Command command = Command::connect;
    SocksAddress destination;
};

struct Reply {
    ReplyCode code = ReplyCode::general_failure;
    SocksAddress bound;
};

// A UDP ASSOCIATE datagram: where it goes (client -> server) or came from (server -> client),
// and its payload, a view into the parsed datagram.
struct UdpDatagram {
    SocksAddress address;
    std::span<const std::uint8_t> payload;
    std::size_t header_bytes = 0;
};

// ---- server side: what a client sends, and the answers -------------------------------------

[[nodiscard]] Result<Parsed<Greeting>> parse_greeting(std::span<const std::uint8_t> buffered) noexcept;

// The method the server answers: user/password when both sides offer it (a client that sends
// credentials expects them checked), else no-auth when both offer that, else no_acceptable
// (after which the server closes the connection, RFC 1928 §3).
[[nodiscard]] AuthMethod pick_method(const Greeting& greeting, ServerAuth server) noexcept;
[[nodiscard]] Result<std::size_t> encode_method_choice(AuthMethod method,
                                                       std::span<std::uint8_t> out) noexcept;

[[nodiscard]] Result<Parsed<Credentials>> parse_user_password(
    std::span<const std::uint8_t> buffered) noexcept;
// Status 0 on success, 1 on failure (the server then closes, RFC 1929 §2).
[[nodiscard]] Result<std::size_t> encode_auth_status(bool success,
                                                     std::span<std::uint8_t> out) noexcept;

[[nodiscard]] Result<Parsed<Request>> parse_request(std::span<const std::uint8_t> buffered) noexcept;
// For a request parse_request called unsupported or malformed, the reply to send before
// closing: command_not_supported for an unknown CMD, address_type_not_supported for an unknown
// ATYP (after a known CMD), general_failure otherwise.
[[nodiscard]] ReplyCode reply_for_refused_request(std::span<const std::uint8_t> buffered) noexcept;

// A reply with BND.ADDR/BND.PORT `bound`; an address of Family::none is sent as 0.0.0.0 (what a
// failure reply carries). Errc::invalid_argument for a host name is_valid_host_name refuses.
[[nodiscard]] Result<std::size_t> encode_reply(ReplyCode code, const SocksAddress& bound,
                                               std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_reply(ReplyCode code, const net::Endpoint& bound,
                                               std::span<std::uint8_t> out) noexcept;

// The code for a failed exit as the core reports it: permission -> not_allowed, refused ->
// connection_refused, unreachable and timed_out -> host_unreachable, not_found (a host name
// that did not resolve) -> host_unreachable, anything else -> general_failure.
[[nodiscard]] ReplyCode reply_for_error(Errc error) noexcept;

// ---- UDP ASSOCIATE datagrams (both directions) ----------------------------------------------

// Errc::unsupported for FRAG != 0 (fragments are not reassembled: the caller drops them) and
// for an unknown ATYP; Errc::malformed for a short datagram or RSV != 0.
[[nodiscard]] Result<UdpDatagram> parse_udp_datagram(std::span<const std::uint8_t> datagram) noexcept;
[[nodiscard]] Result<std::size_t> encode_udp_datagram(const SocksAddress& address,
                                                      std::span<const std::uint8_t> payload,
                                                      std::span<std::uint8_t> out) noexcept;

// ---- client side: for tests and for a client that speaks to a SOCKS5 server ------------------

[[nodiscard]] Result<std::size_t> encode_greeting(std::span<const AuthMethod> methods,
                                                  std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_user_password(const Credentials& credentials,
                                                       std::span<std::uint8_t> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_request(Command command, const SocksAddress& destination,
                                                 std::span<std::uint8_t> out) noexcept;
// Any REP byte is accepted (a newer server's codes get through; describe() calls them unknown).
[[nodiscard]] Result<Parsed<Reply>> parse_reply(std::span<const std::uint8_t> buffered) noexcept;

// ---- names ----------------------------------------------------------------------------------

// A host name as a SOCKS5 request may carry it: 1..253 bytes of printable ASCII without
// spaces (0x21..0x7e), dot-separated labels of 1..63 bytes (a single trailing dot allowed).
// Underscores and the like pass: resolving the name is the resolver's business.
[[nodiscard]] bool is_valid_host_name(std::string_view name) noexcept;

// A short English phrase for logs ("connection refused"); "unknown reply" for codes not listed.
[[nodiscard]] const char* describe(ReplyCode code) noexcept;

}  // namespace pinhole::proxy
