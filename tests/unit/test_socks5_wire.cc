#include "core/proxy/socks5_wire.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinhole::proxy {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(std::string_view hex) {
    Bytes bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        bytes.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return bytes;
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

template <typename T>
Errc error_of(const Result<T>& result) {
    return result.ok() ? Errc::ok : result.error();
}

SocksAddress host(std::string_view name, std::uint16_t port) {
    SocksAddress address;
    EXPECT_TRUE(address.host_name.assign(name).ok());
    address.endpoint.port = port;
    return address;
}

SocksAddress literal(const net::IpAddress& ip, std::uint16_t port) {
    SocksAddress address;
    address.endpoint = {ip, port};
    return address;
}

net::IpAddress ip(std::string_view text) { return net::parse_address(text).value(); }

bool same(const SocksAddress& a, const SocksAddress& b) {
    return a.host_name == b.host_name && a.endpoint == b.endpoint;
}

Bytes domain_request(std::uint8_t command, std::string_view name, std::uint16_t port) {
    Bytes bytes = {5, command, 0, 3, static_cast<std::uint8_t>(name.size())};
    bytes.insert(bytes.end(), name.begin(), name.end());
    bytes.push_back(static_cast<std::uint8_t>(port >> 8));
    bytes.push_back(static_cast<std::uint8_t>(port));
    return bytes;
}

// Every proper prefix of a whole message asks for more bytes.
template <typename Parse>
void expect_every_prefix_would_block(const Bytes& message, Parse parse) {
    for (std::size_t length = 0; length < message.size(); ++length) {
        EXPECT_EQ(error_of(parse(std::span(message).first(length))), Errc::would_block)
            << "prefix of " << length << " bytes";
    }
}

// ---- captures from curl 7.88.1 against a listener on 127.0.0.1 ------------------------------

// curl --socks5-hostname 127.0.0.1:PORT http://example.com:80/
const Bytes curl_greeting = from_hex("05020001");
const Bytes curl_request_example_com = from_hex("050100030b6578616d706c652e636f6d0050");
// curl --proxy socks5h://alice:s3cret@127.0.0.1:PORT http://example.com:80/
const Bytes curl_greeting_with_credentials = from_hex("0503000102");
const Bytes curl_user_password = from_hex("0105616c69636506733363726574");
// curl --socks5 127.0.0.1:PORT http://192.0.2.10:8080/ and http://[2001:db8::7]:443/
const Bytes curl_request_ipv4 = from_hex("05010001c000020a1f90");
const Bytes curl_request_ipv6 = from_hex("0501000420010db800000000000000000000000701bb");

TEST(Socks5Greeting, CurlNoAuthGreeting) {
    const auto parsed = parse_greeting(curl_greeting);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().consumed, 4u);
    const auto offered = parsed.value().message.offered();
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0], AuthMethod::no_auth);
    EXPECT_EQ(offered[1], AuthMethod::gssapi);
    EXPECT_EQ(pick_method(parsed.value().message, {.no_auth = true}), AuthMethod::no_auth);
    EXPECT_EQ(pick_method(parsed.value().message, {.user_password = true}),
              AuthMethod::no_acceptable);
    EXPECT_EQ(pick_method(parsed.value().message, {}), AuthMethod::no_acceptable);
}

TEST(Socks5Greeting, CredentialsArePreferredWhenBothSidesOfferThem) {
    const auto parsed = parse_greeting(curl_greeting_with_credentials);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().consumed, 5u);
    const Greeting& greeting = parsed.value().message;
    EXPECT_EQ(pick_method(greeting, {.no_auth = true, .user_password = true}),
              AuthMethod::user_password);
    EXPECT_EQ(pick_method(greeting, {.no_auth = true}), AuthMethod::no_auth);
    EXPECT_EQ(pick_method(greeting, {.user_password = true}), AuthMethod::user_password);
    // A client offering only user/password to a no-auth server gets nothing acceptable.
    const auto only_credentials = parse_greeting(Bytes{5, 1, 2});
    ASSERT_TRUE(only_credentials.ok());
    EXPECT_EQ(pick_method(only_credentials.value().message, {.no_auth = true}),
              AuthMethod::no_acceptable);
}

TEST(Socks5Greeting, MethodChoiceBytes) {
    std::array<std::uint8_t, 2> out{};
    ASSERT_EQ(encode_method_choice(AuthMethod::no_auth, out).value(), 2u);
    EXPECT_EQ(Bytes(out.begin(), out.end()), (Bytes{5, 0}));
    ASSERT_TRUE(encode_method_choice(AuthMethod::user_password, out).ok());
    EXPECT_EQ(Bytes(out.begin(), out.end()), (Bytes{5, 2}));
    ASSERT_TRUE(encode_method_choice(AuthMethod::no_acceptable, out).ok());
    EXPECT_EQ(Bytes(out.begin(), out.end()), (Bytes{5, 0xff}));
    std::array<std::uint8_t, 1> small{};
    EXPECT_EQ(error_of(encode_method_choice(AuthMethod::no_auth, small)), Errc::no_space);
}

TEST(Socks5Greeting, EveryTruncationWaitsForMoreBytes) {
    expect_every_prefix_would_block(curl_greeting, parse_greeting);
    expect_every_prefix_would_block(curl_greeting_with_credentials, parse_greeting);
}

TEST(Socks5Greeting, ConsumesOnlyItselfFromAStream) {
    const Bytes stream = concat(curl_greeting, curl_request_example_com);
    const auto greeting = parse_greeting(stream);
    ASSERT_TRUE(greeting.ok());
    ASSERT_EQ(greeting.value().consumed, curl_greeting.size());
    const auto request = parse_request(std::span(stream).subspan(greeting.value().consumed));
    ASSERT_TRUE(request.ok());
    EXPECT_EQ(request.value().consumed, curl_request_example_com.size());
}

TEST(Socks5Greeting, WrongVersionIsUnsupportedFromTheFirstByte) {
    EXPECT_EQ(error_of(parse_greeting(Bytes{4})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_greeting(Bytes{4, 1, 0})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_greeting(Bytes{0, 1, 0})), Errc::unsupported);
    // An HTTP request sent to the SOCKS port.
    EXPECT_EQ(error_of(parse_greeting(Bytes{'G', 'E', 'T', ' '})), Errc::unsupported);
}

TEST(Socks5Greeting, ZeroMethodsAreMalformed) {
    EXPECT_EQ(error_of(parse_greeting(Bytes{5, 0})), Errc::malformed);
    EXPECT_EQ(error_of(parse_greeting(Bytes{5, 0, 0, 0})), Errc::malformed);
}

TEST(Socks5Greeting, AllTwoHundredFiftyFiveMethodsRoundTrip) {
    std::vector<AuthMethod> methods;
    for (int i = 0; i < 255; ++i) methods.push_back(static_cast<AuthMethod>(254 - i));
    std::array<std::uint8_t, max_greeting_bytes> out{};
    const auto length = encode_greeting(methods, out);
    ASSERT_TRUE(length.ok());
    ASSERT_EQ(length.value(), max_greeting_bytes);
    const auto parsed = parse_greeting(out);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().consumed, max_greeting_bytes);
    const auto offered = parsed.value().message.offered();
    EXPECT_EQ(std::vector<AuthMethod>(offered.begin(), offered.end()), methods);
    EXPECT_EQ(pick_method(parsed.value().message, {.no_auth = true}), AuthMethod::no_auth);
    expect_every_prefix_would_block(Bytes(out.begin(), out.end()), parse_greeting);
}

TEST(Socks5Greeting, EncoderRefusesWhatTheParserWould) {
    std::array<std::uint8_t, 300> out{};
    EXPECT_EQ(error_of(encode_greeting({}, out)), Errc::invalid_argument);
    const std::vector<AuthMethod> too_many(256, AuthMethod::no_auth);
    EXPECT_EQ(error_of(encode_greeting(too_many, out)), Errc::invalid_argument);
    const std::array<AuthMethod, 2> two = {AuthMethod::no_auth, AuthMethod::user_password};
    EXPECT_EQ(error_of(encode_greeting(two, std::span(out).first(3))), Errc::no_space);
    ASSERT_EQ(encode_greeting(two, out).value(), 4u);
    EXPECT_EQ(Bytes(out.begin(), out.begin() + 4), (Bytes{5, 2, 0, 2}));
}

// ---- username/password (RFC 1929) -----------------------------------------------------------

TEST(Socks5UserPassword, CurlCredentials) {
    const auto parsed = parse_user_password(curl_user_password);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().consumed, curl_user_password.size());
    EXPECT_EQ(parsed.value().message.user, "alice");
    EXPECT_EQ(parsed.value().message.password, "s3cret");
    // Views into the buffer, not copies.
    EXPECT_EQ(static_cast<const void*>(parsed.value().message.user.data()),
              static_cast<const void*>(curl_user_password.data() + 2));
    expect_every_prefix_would_block(curl_user_password, parse_user_password);
}

TEST(Socks5UserPassword, RoundTripsTheLongestAndAnyBytes) {
    const std::string user(255, 'u');
    std::string password(255, '\0');
    for (std::size_t i = 0; i < password.size(); ++i) password[i] = static_cast<char>(i + 1);
    std::array<std::uint8_t, max_user_password_bytes> out{};
    const auto length = encode_user_password({user, password}, out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(length.value(), max_user_password_bytes);
    const auto parsed = parse_user_password(out);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().message.user, user);
    EXPECT_EQ(parsed.value().message.password, password);
    EXPECT_EQ(parsed.value().consumed, max_user_password_bytes);
}

TEST(Socks5UserPassword, RefusesWrongVersionAndEmptyFields) {
    EXPECT_EQ(error_of(parse_user_password(Bytes{5})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_user_password(Bytes{0, 1, 'a', 1, 'b'})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_user_password(Bytes{2, 1, 'a', 1, 'b'})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_user_password(Bytes{1, 0})), Errc::malformed);
    EXPECT_EQ(error_of(parse_user_password(Bytes{1, 0, 1, 'b'})), Errc::malformed);
    EXPECT_EQ(error_of(parse_user_password(Bytes{1, 1, 'a', 0})), Errc::malformed);
    std::array<std::uint8_t, 16> out{};
    EXPECT_EQ(error_of(encode_user_password({"", "x"}, out)), Errc::invalid_argument);
    EXPECT_EQ(error_of(encode_user_password({"x", ""}, out)), Errc::invalid_argument);
    const std::string too_long(256, 'x');
    EXPECT_EQ(error_of(encode_user_password({too_long, "x"}, out)), Errc::invalid_argument);
    EXPECT_EQ(error_of(encode_user_password({"ab", "cd"}, std::span(out).first(6))),
              Errc::no_space);
}

TEST(Socks5UserPassword, StatusBytes) {
    std::array<std::uint8_t, 2> out{};
    ASSERT_EQ(encode_auth_status(true, out).value(), 2u);
    EXPECT_EQ(Bytes(out.begin(), out.end()), (Bytes{1, 0}));
    ASSERT_TRUE(encode_auth_status(false, out).ok());
    EXPECT_EQ(Bytes(out.begin(), out.end()), (Bytes{1, 1}));
    std::array<std::uint8_t, 1> small{};
    EXPECT_EQ(error_of(encode_auth_status(true, small)), Errc::no_space);
}

// ---- requests -------------------------------------------------------------------------------

TEST(Socks5Request, CurlHostNameConnect) {
    const auto parsed = parse_request(curl_request_example_com);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().consumed, curl_request_example_com.size());
    const Request& request = parsed.value().message;
    EXPECT_EQ(request.command, Command::connect);
    EXPECT_EQ(request.destination.host_name.view(), "example.com");
    EXPECT_EQ(request.destination.endpoint.address.family, net::Family::none);
    EXPECT_EQ(request.destination.endpoint.port, 80);
    expect_every_prefix_would_block(curl_request_example_com, parse_request);
}

TEST(Socks5Request, CurlIpv4AndIpv6Connect) {
    const auto v4 = parse_request(curl_request_ipv4);
    ASSERT_TRUE(v4.ok());
    EXPECT_EQ(v4.value().consumed, 10u);
    EXPECT_TRUE(v4.value().message.destination.host_name.empty());
    EXPECT_EQ(v4.value().message.destination.endpoint,
              (net::Endpoint{net::IpAddress::v4(192, 0, 2, 10), 8080}));
    expect_every_prefix_would_block(curl_request_ipv4, parse_request);

    const auto v6 = parse_request(curl_request_ipv6);
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6.value().consumed, 22u);
    EXPECT_EQ(v6.value().message.destination.endpoint,
              (net::Endpoint{ip("2001:db8::7"), 443}));
    expect_every_prefix_would_block(curl_request_ipv6, parse_request);
}

TEST(Socks5Request, RoundTripsEveryCommandAndAddressType) {
    const SocksAddress destinations[] = {
        literal(net::IpAddress::v4(10, 1, 2, 3), 22),
        literal(ip("fd7a:7069:6e68::1"), 65535),
        host("printer.lan", 631),
        host("_sip._udp.Example.COM.", 5060),
        literal(net::IpAddress::v4(0, 0, 0, 0), 0),  // what UDP ASSOCIATE clients often send
    };
    for (const Command command : {Command::connect, Command::bind, Command::udp_associate}) {
        for (const SocksAddress& destination : destinations) {
            std::array<std::uint8_t, max_request_bytes> out{};
            const auto length = encode_request(command, destination, out);
            ASSERT_TRUE(length.ok());
            const Bytes bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length.value()));
            const auto parsed = parse_request(bytes);
            ASSERT_TRUE(parsed.ok());
            EXPECT_EQ(parsed.value().consumed, bytes.size());
            EXPECT_EQ(parsed.value().message.command, command);
            EXPECT_TRUE(same(parsed.value().message.destination, destination));
            expect_every_prefix_would_block(bytes, parse_request);
        }
    }
}

TEST(Socks5Request, EncodesTheCapturedBytesExactly) {
    std::array<std::uint8_t, max_request_bytes> out{};
    auto length = encode_request(Command::connect, host("example.com", 80), out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length.value())),
              curl_request_example_com);
    length = encode_request(Command::connect, literal(net::IpAddress::v4(192, 0, 2, 10), 8080), out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length.value())),
              curl_request_ipv4);
}

TEST(Socks5Request, UnknownCommandsAreUnsupportedAndAnsweredSo) {
    for (const std::uint8_t command : {0, 4, 0x7f, 0xff}) {
        Bytes bytes = curl_request_ipv4;
        bytes[1] = command;
        // Refused as soon as the command byte arrives.
        for (std::size_t length = 2; length <= bytes.size(); ++length) {
            const auto prefix = std::span(bytes).first(length);
            EXPECT_EQ(error_of(parse_request(prefix)), Errc::unsupported);
            EXPECT_EQ(reply_for_refused_request(prefix), ReplyCode::command_not_supported);
        }
    }
    std::array<std::uint8_t, max_request_bytes> out{};
    EXPECT_EQ(error_of(encode_request(static_cast<Command>(4), host("a", 1), out)),
              Errc::invalid_argument);
}

TEST(Socks5Request, UnknownAddressTypesAreUnsupportedAndAnsweredSo) {
    for (const std::uint8_t type : {0, 2, 5, 0xff}) {
        const Bytes bytes = {5, 1, 0, type, 1, 2, 3, 4, 0, 80};
        EXPECT_EQ(error_of(parse_request(bytes)), Errc::unsupported);
        EXPECT_EQ(error_of(parse_request(std::span(bytes).first(4))), Errc::unsupported);
        EXPECT_EQ(reply_for_refused_request(bytes), ReplyCode::address_type_not_supported);
    }
}

TEST(Socks5Request, WrongVersionOrReservedByteIsAGeneralFailure) {
    Bytes bytes = curl_request_ipv4;
    bytes[0] = 4;
    EXPECT_EQ(error_of(parse_request(bytes)), Errc::unsupported);
    EXPECT_EQ(error_of(parse_request(std::span(bytes).first(1))), Errc::unsupported);
    EXPECT_EQ(reply_for_refused_request(bytes), ReplyCode::general_failure);
    bytes = curl_request_ipv4;
    bytes[2] = 1;
    EXPECT_EQ(error_of(parse_request(bytes)), Errc::malformed);
    EXPECT_EQ(error_of(parse_request(std::span(bytes).first(3))), Errc::malformed);
    EXPECT_EQ(reply_for_refused_request(bytes), ReplyCode::general_failure);
    // RSV wrong and ATYP unknown: the reserved byte already broke the request.
    bytes[3] = 9;
    EXPECT_EQ(reply_for_refused_request(bytes), ReplyCode::general_failure);
    EXPECT_EQ(reply_for_refused_request(Bytes{}), ReplyCode::general_failure);
    EXPECT_EQ(reply_for_refused_request(Bytes{5}), ReplyCode::general_failure);
}

TEST(Socks5Request, ZeroLengthHostNameIsRefusedAtItsLengthByte) {
    EXPECT_EQ(error_of(parse_request(Bytes{5, 1, 0, 3, 0})), Errc::malformed);
    EXPECT_EQ(error_of(parse_request(Bytes{5, 1, 0, 3, 0, 0, 80})), Errc::malformed);
    EXPECT_EQ(reply_for_refused_request(Bytes{5, 1, 0, 3, 0}), ReplyCode::general_failure);
}

TEST(Socks5Request, OverlongHostNamesAreRefusedAtTheirLengthByte) {
    for (const std::uint8_t length : {254, 255}) {
        EXPECT_EQ(error_of(parse_request(Bytes{5, 1, 0, 3, length})), Errc::malformed);
        const Bytes whole = domain_request(1, std::string(length, 'a'), 80);
        EXPECT_EQ(error_of(parse_request(whole)), Errc::malformed);
    }
    // 253 bytes in labels of at most 63 is the longest name accepted.
    std::string longest;
    for (int i = 0; i < 4; ++i) longest += std::string(i < 3 ? 63 : 61, 'a' + i) + (i < 3 ? "." : "");
    ASSERT_EQ(longest.size(), 253u);
    const auto parsed = parse_request(domain_request(1, longest, 443));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().message.destination.host_name.view(), longest);
}

TEST(Socks5Request, HostNamesMustBePrintableAndDnsShaped) {
    const std::string label_64(64, 'x');
    const std::string label_63(63, 'x');
    for (const std::string_view bad :
         {std::string_view("exa mple.com"), std::string_view("a\0b", 3), std::string_view("tab\t"),
          std::string_view("new\nline"), std::string_view("del\x7f"), std::string_view("hi\x80"),
          std::string_view("a..b"), std::string_view(".a"), std::string_view("."),
          std::string_view("a.b.."), std::string_view(label_64)}) {
        EXPECT_FALSE(is_valid_host_name(bad)) << bad;
        EXPECT_EQ(error_of(parse_request(domain_request(1, bad, 80))), Errc::malformed) << bad;
        std::array<std::uint8_t, max_request_bytes> out{};
        SocksAddress address;
        ASSERT_TRUE(address.host_name.assign(bad).ok());
        EXPECT_EQ(error_of(encode_request(Command::connect, address, out)), Errc::invalid_argument);
    }
    for (const std::string_view good :
         {std::string_view("a"), std::string_view("example.com."), std::string_view("my_host.lan"),
          std::string_view("127.0.0.1"), std::string_view("[::1]"), std::string_view(label_63),
          std::string_view("xn--bcher-kva.example")}) {
        EXPECT_TRUE(is_valid_host_name(good)) << good;
        EXPECT_TRUE(parse_request(domain_request(1, good, 80)).ok()) << good;
    }
}

TEST(Socks5Request, EncoderNeedsRoom) {
    std::array<std::uint8_t, 9> out{};
    EXPECT_EQ(error_of(encode_request(Command::connect,
                                      literal(net::IpAddress::v4(1, 2, 3, 4), 5), out)),
              Errc::no_space);
    std::array<std::uint8_t, 10> exact{};
    EXPECT_TRUE(encode_request(Command::connect, literal(net::IpAddress::v4(1, 2, 3, 4), 5), exact)
                    .ok());
}

// ---- replies --------------------------------------------------------------------------------

TEST(Socks5Reply, EveryCodeWithAnIpv4BoundAddress) {
    const ReplyCode codes[] = {
        ReplyCode::succeeded,          ReplyCode::general_failure,
        ReplyCode::not_allowed,        ReplyCode::network_unreachable,
        ReplyCode::host_unreachable,   ReplyCode::connection_refused,
        ReplyCode::ttl_expired,        ReplyCode::command_not_supported,
        ReplyCode::address_type_not_supported,
    };
    std::uint8_t expected_code = 0;
    for (const ReplyCode code : codes) {
        std::array<std::uint8_t, max_reply_bytes> out{};
        const net::Endpoint bound{net::IpAddress::v4(127, 0, 0, 1), 8080};
        const auto length = encode_reply(code, bound, out);
        ASSERT_TRUE(length.ok());
        ASSERT_EQ(length.value(), 10u);
        EXPECT_EQ(Bytes(out.begin(), out.begin() + 10),
                  (Bytes{5, expected_code, 0, 1, 127, 0, 0, 1, 0x1f, 0x90}));
        const auto parsed = parse_reply(std::span(out).first(10));
        ASSERT_TRUE(parsed.ok());
        EXPECT_EQ(parsed.value().message.code, code);
        EXPECT_EQ(parsed.value().message.bound.endpoint, bound);
        EXPECT_EQ(parsed.value().consumed, 10u);
        EXPECT_STRNE(describe(code), "unknown reply");
        ++expected_code;
    }
    EXPECT_STREQ(describe(ReplyCode::connection_refused), "connection refused");
    EXPECT_STREQ(describe(static_cast<ReplyCode>(9)), "unknown reply");
}

TEST(Socks5Reply, Ipv6HostNameAndUnsetBoundAddresses) {
    std::array<std::uint8_t, max_reply_bytes> out{};
    auto length = encode_reply(ReplyCode::succeeded, net::Endpoint{ip("2001:db8::1"), 1080}, out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length.value())),
              from_hex("0500000420010db8000000000000000000000001" "0438"));
    // A failure carries no address: Family::none goes out as 0.0.0.0:0.
    length = encode_reply(ReplyCode::host_unreachable, net::Endpoint{}, out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length.value())),
              (Bytes{5, 4, 0, 1, 0, 0, 0, 0, 0, 0}));
    length = encode_reply(ReplyCode::succeeded, host("gw.example", 443), out);
    ASSERT_TRUE(length.ok());
    const auto parsed = parse_reply(std::span(out).first(length.value()));
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(same(parsed.value().message.bound, host("gw.example", 443)));
    EXPECT_EQ(error_of(encode_reply(ReplyCode::succeeded, host("bad name", 1), out)),
              Errc::invalid_argument);
    std::array<std::uint8_t, 21> short_out{};
    EXPECT_EQ(error_of(encode_reply(ReplyCode::succeeded, net::Endpoint{ip("::1"), 1}, short_out)),
              Errc::no_space);
}

TEST(Socks5Reply, ParserWaitsAndRefusesLikeTheRequestParser) {
    const Bytes reply = {5, 0, 0, 1, 10, 0, 0, 1, 0, 80};
    expect_every_prefix_would_block(reply, parse_reply);
    EXPECT_EQ(error_of(parse_reply(Bytes{4, 0, 0, 1})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_reply(Bytes{5, 0, 1, 1})), Errc::malformed);
    EXPECT_EQ(error_of(parse_reply(Bytes{5, 0, 0, 7})), Errc::unsupported);
    // A newer server's code gets through.
    const auto parsed = parse_reply(Bytes{5, 0x42, 0, 1, 10, 0, 0, 1, 0, 80});
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(static_cast<std::uint8_t>(parsed.value().message.code), 0x42);
}

TEST(Socks5Reply, ErrorsMapToReplyCodes) {
    EXPECT_EQ(reply_for_error(Errc::permission), ReplyCode::not_allowed);
    EXPECT_EQ(reply_for_error(Errc::refused), ReplyCode::connection_refused);
    EXPECT_EQ(reply_for_error(Errc::unreachable), ReplyCode::host_unreachable);
    EXPECT_EQ(reply_for_error(Errc::timed_out), ReplyCode::host_unreachable);
    EXPECT_EQ(reply_for_error(Errc::not_found), ReplyCode::host_unreachable);
    EXPECT_EQ(reply_for_error(Errc::io), ReplyCode::general_failure);
    EXPECT_EQ(reply_for_error(Errc::no_space), ReplyCode::general_failure);
}

// ---- UDP ASSOCIATE datagrams ----------------------------------------------------------------

TEST(Socks5Udp, RoundTripsEveryAddressType) {
    const Bytes payload = {'p', 'i', 'n', 'g'};
    const SocksAddress addresses[] = {
        literal(net::IpAddress::v4(192, 0, 2, 1), 53),
        literal(ip("2001:db8::53"), 5353),
        host("ntp.lan", 123),
    };
    for (const SocksAddress& address : addresses) {
        std::array<std::uint8_t, max_udp_header_bytes + 4> out{};
        const auto length = encode_udp_datagram(address, payload, out);
        ASSERT_TRUE(length.ok());
        const auto parsed = parse_udp_datagram(std::span(out).first(length.value()));
        ASSERT_TRUE(parsed.ok());
        EXPECT_TRUE(same(parsed.value().address, address));
        EXPECT_EQ(Bytes(parsed.value().payload.begin(), parsed.value().payload.end()), payload);
        EXPECT_EQ(parsed.value().header_bytes + payload.size(), length.value());
        EXPECT_EQ(parsed.value().payload.data(), out.data() + parsed.value().header_bytes);
    }
}

TEST(Socks5Udp, ExactBytesAndAnEmptyPayload) {
    const Bytes datagram = {0, 0, 0, 1, 8, 8, 4, 4, 0, 53};
    const auto parsed = parse_udp_datagram(datagram);
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(parsed.value().payload.empty());
    EXPECT_EQ(parsed.value().address.endpoint,
              (net::Endpoint{net::IpAddress::v4(8, 8, 4, 4), 53}));
    std::array<std::uint8_t, 10> out{};
    ASSERT_EQ(encode_udp_datagram(parsed.value().address, {}, out).value(), 10u);
    EXPECT_EQ(Bytes(out.begin(), out.end()), datagram);
}

TEST(Socks5Udp, FragmentsAreUnsupported) {
    for (const std::uint8_t fragment : {1, 0x7f, 0x80, 0xff}) {
        const Bytes datagram = {0, 0, fragment, 1, 8, 8, 4, 4, 0, 53, 'x'};
        EXPECT_EQ(error_of(parse_udp_datagram(datagram)), Errc::unsupported);
    }
}

TEST(Socks5Udp, ShortBrokenOrUnknownDatagramsAreRefused) {
    const Bytes datagram = {0, 0, 0, 3, 3, 'a', '.', 'b', 0x12, 0x34};
    ASSERT_TRUE(parse_udp_datagram(datagram).ok());
    // A datagram is whole: every cut is malformed, never would_block.
    for (std::size_t length = 0; length < datagram.size(); ++length) {
        EXPECT_EQ(error_of(parse_udp_datagram(std::span(datagram).first(length))), Errc::malformed)
            << length;
    }
    EXPECT_EQ(error_of(parse_udp_datagram(Bytes{0, 1, 0, 1, 1, 2, 3, 4, 0, 1})), Errc::malformed);
    EXPECT_EQ(error_of(parse_udp_datagram(Bytes{1, 0, 0, 1, 1, 2, 3, 4, 0, 1})), Errc::malformed);
    EXPECT_EQ(error_of(parse_udp_datagram(Bytes{0, 0, 0, 2, 1, 2, 3, 4, 0, 1})), Errc::unsupported);
    EXPECT_EQ(error_of(parse_udp_datagram(Bytes{0, 0, 0, 3, 0, 0, 1})), Errc::malformed);
    EXPECT_EQ(error_of(parse_udp_datagram(Bytes{0, 0, 0, 3, 1, ' ', 0, 1})), Errc::malformed);
}

TEST(Socks5Udp, EncoderNeedsRoomForHeaderAndPayload) {
    const Bytes payload(100, 0xab);
    std::array<std::uint8_t, 109> out{};
    EXPECT_EQ(error_of(encode_udp_datagram(literal(net::IpAddress::v4(1, 2, 3, 4), 9), payload, out)),
              Errc::no_space);
    std::array<std::uint8_t, 110> exact{};
    EXPECT_TRUE(encode_udp_datagram(literal(net::IpAddress::v4(1, 2, 3, 4), 9), payload, exact).ok());
    std::array<std::uint8_t, 4> tiny{};
    EXPECT_EQ(error_of(encode_udp_datagram(literal(net::IpAddress::v4(1, 2, 3, 4), 9), {}, tiny)),
              Errc::no_space);
    EXPECT_EQ(error_of(encode_udp_datagram(host("a..b", 9), {}, exact)), Errc::invalid_argument);
}

// ---- a whole conversation from one buffer, as a server reads it ------------------------------

TEST(Socks5Conversation, CurlWithCredentialsParsedInSequence) {
    const Bytes stream = concat(concat(curl_greeting_with_credentials, curl_user_password),
                                curl_request_example_com);
    std::span<const std::uint8_t> rest = stream;
    const auto greeting = parse_greeting(rest);
    ASSERT_TRUE(greeting.ok());
    ASSERT_EQ(pick_method(greeting.value().message, {.no_auth = false, .user_password = true}),
              AuthMethod::user_password);
    rest = rest.subspan(greeting.value().consumed);
    const auto credentials = parse_user_password(rest);
    ASSERT_TRUE(credentials.ok());
    EXPECT_EQ(credentials.value().message.user, "alice");
    rest = rest.subspan(credentials.value().consumed);
    const auto request = parse_request(rest);
    ASSERT_TRUE(request.ok());
    EXPECT_EQ(request.value().consumed, rest.size());
    EXPECT_EQ(request.value().message.destination.host_name.view(), "example.com");
}

}  // namespace
}  // namespace pinhole::proxy
