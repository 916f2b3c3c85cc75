#include "apps/node/control_protocol.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace pinhole::node {
namespace {

using namespace std::literals;

net::Endpoint endpoint(std::string_view text) {
    const auto parsed = net::parse_endpoint(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.ok() ? parsed.value() : net::Endpoint{};
}

Request request(std::string_view line) {
    const auto parsed = parse_request(line);
    EXPECT_TRUE(parsed.ok()) << line;
    return parsed.ok() ? parsed.value() : Request{};
}

std::string format(const Request& request) {
    std::array<char, control_line_max_bytes> out{};
    const auto length = format_request(request, out);
    if (!length.ok()) return std::string("error: ") + describe(length.error());
    return std::string(out.data(), length.value());
}

std::string format(ReplyCode code, std::string_view text) {
    std::array<char, control_line_max_bytes> out{};
    const auto length = format_reply(code, text, out);
    if (!length.ok()) return std::string("error: ") + describe(length.error());
    return std::string(out.data(), length.value());
}

bool request_malformed(std::string_view line) {
    const auto parsed = parse_request(line);
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

bool target_malformed(std::string_view text) {
    const auto parsed = parse_target(text);
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

bool listen_malformed(std::string_view text) {
    const auto parsed = parse_listen(text);
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

bool reply_malformed(std::string_view line) {
    const auto parsed = parse_reply(line);
    return !parsed.ok() && parsed.error() == Errc::malformed;
}

// Parses, formats and parses again: the same request, and the canonical line.
void expect_round_trip(std::string_view line, std::string_view canonical) {
    const Request first = request(line);
    const std::string written = format(first);
    EXPECT_EQ(written, std::string(canonical) + "\n") << line;
    EXPECT_EQ(request(std::string_view(written).substr(0, written.size() - 1)), first) << line;
}

TEST(ControlProtocol, ParsesEachCommand) {
    const Request status = request("pinhole/1 status");
    EXPECT_EQ(status.command, Command::status);
    EXPECT_EQ(request("pinhole/1 down").command, Command::down);

    const Request connect = request("pinhole/1 connect router ssh");
    EXPECT_EQ(connect.command, Command::connect);
    EXPECT_EQ(connect.agent.view(), "router");
    EXPECT_EQ(connect.target.kind, Target::Kind::service);
    EXPECT_EQ(connect.target.service.view(), "ssh");

    const Request forward = request("pinhole/1 forward pi-4 8080 [fd00::1]:80");
    EXPECT_EQ(forward.command, Command::forward);
    EXPECT_EQ(forward.agent.view(), "pi-4");
    EXPECT_EQ(forward.listen, endpoint("127.0.0.1:8080"));
    EXPECT_EQ(forward.target.kind, Target::Kind::address);
    EXPECT_EQ(forward.target.endpoint, endpoint("[fd00::1]:80"));
}

TEST(ControlProtocol, RequestsRoundTrip) {
    expect_round_trip("pinhole/1 status", "pinhole/1 status");
    expect_round_trip("pinhole/1 down", "pinhole/1 down");
    expect_round_trip("pinhole/1 connect router ssh", "pinhole/1 connect router ssh");
    expect_round_trip("pinhole/1 connect router 192.168.1.10:22",
                      "pinhole/1 connect router 192.168.1.10:22");
    expect_round_trip("pinhole/1 connect router [2001:DB8:0:0::1]:443",
                      "pinhole/1 connect router [2001:db8::1]:443");
    expect_round_trip("pinhole/1 connect router Printer.LAN:631",
                      "pinhole/1 connect router printer.lan:631");
    expect_round_trip("pinhole/1 forward router 0 web", "pinhole/1 forward router 127.0.0.1:0 web");
    expect_round_trip("pinhole/1 forward router 0.0.0.0:8080 nas.local:5000",
                      "pinhole/1 forward router 0.0.0.0:8080 nas.local:5000");
    expect_round_trip("pinhole/1 forward a [::1]:65535 10.0.0.1:1",
                      "pinhole/1 forward a [::1]:65535 10.0.0.1:1");
    expect_round_trip("pinhole/1 forward-udp router 5353 dns", "pinhole/1 forward-udp router 127.0.0.1:5353 dns");
    expect_round_trip("pinhole/1 forward-udp router 0 10.0.0.1:53", "pinhole/1 forward-udp router 127.0.0.1:0 10.0.0.1:53");
}

TEST(ControlProtocol, ParsesTargets) {
    const auto service = parse_target("web-ui");
    ASSERT_TRUE(service.ok());
    EXPECT_EQ(service.value().kind, Target::Kind::service);
    EXPECT_EQ(service.value().service.view(), "web-ui");

    const auto v4 = parse_target("10.0.0.5:22");
    ASSERT_TRUE(v4.ok());
    EXPECT_EQ(v4.value().kind, Target::Kind::address);
    EXPECT_EQ(v4.value().endpoint, endpoint("10.0.0.5:22"));

    const auto host = parse_target("My-Host.example.COM:8443");
    ASSERT_TRUE(host.ok());
    EXPECT_EQ(host.value().kind, Target::Kind::host);
    EXPECT_EQ(host.value().host.view(), "my-host.example.com");
    EXPECT_EQ(host.value().endpoint.port, 8443);
    EXPECT_EQ(host.value().endpoint.address.family, net::Family::none);

    EXPECT_TRUE(parse_target("localhost:80").ok());
    EXPECT_TRUE(parse_target("1host.example:80").ok());   // RFC 1123 allows a leading digit
    EXPECT_TRUE(parse_target("a.b.c9:80").ok());
}

TEST(ControlProtocol, AcceptsTheLongestHostName) {
    std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                       std::string(63, 'c') + "." + std::string(61, 'd');
    ASSERT_EQ(name.size(), 253u);
    EXPECT_TRUE(parse_target(name + ":1").ok());
    EXPECT_TRUE(target_malformed(name + "d:1"));                       // 254 characters
    EXPECT_TRUE(target_malformed(std::string(64, 'a') + ".example:1"));  // a 64-character label
    expect_round_trip("pinhole/1 connect r " + name + ":65535",
                      "pinhole/1 connect r " + name + ":65535");
}

TEST(ControlProtocol, RefusesMalformedTargets) {
    for (const std::string& text :
         {""s, ":"s, ":80"s, "host:"s, "Ssh"s, "1ssh"s, "ssh-"s, "ss_h"s, "s.h"s,
          std::string(32, 'a'),
          // ports
          "host:0"s, "host:65536"s, "host:99999"s, "host:080"s, "host:00"s, "host:+80"s,
          "host:-80"s, "host: 80"s, "host:8 0"s, "host:80a"s, "host:0x50"s, "host:123456"s,
          "10.0.0.1:0"s, "[::1]:0"s,
          // IPv6
          "::1:80"s, "2001:db8::1:80"s, "fd00::1"s, "[fd00::1]"s, "[fd00::1]80"s,
          "[fd00::1]:"s, "[fd00::1:80"s, "fd00::1]:80"s, "[10.0.0.1]:80"s, "[host]:80"s,
          "[fe80::1%eth0]:80"s, "[[::1]]:80"s, "[::1]:80:80"s,
          // host names
          "-host:80"s, "host-:80"s, "ho_st:80"s, "ho st:80"s, "host.:80"s, ".host:80"s,
          "a..b:80"s, "h\xc3\xa9:80"s, "host\0:80"s, "10.0.0.300:80"s, "10.0.0:80"s,
          "1.2.3.4.5:80"s, "example.123:80"s, "*.lan:80"s, "host/x:80"s}) {
        EXPECT_TRUE(target_malformed(text)) << '"' << text << '"';
    }
}

TEST(ControlProtocol, ParsesListenAddresses) {
    EXPECT_EQ(parse_listen("8080").value(), endpoint("127.0.0.1:8080"));
    EXPECT_EQ(parse_listen("0").value(), endpoint("127.0.0.1:0"));
    EXPECT_EQ(parse_listen("0.0.0.0:22").value(), endpoint("0.0.0.0:22"));
    EXPECT_EQ(parse_listen("[::]:65535").value(), endpoint("[::]:65535"));
    for (const std::string& text :
         {""s, "65536"s, "080"s, "00"s, "+80"s, "-1"s, "8080 "s, " 8080"s, "localhost:80"s,
          ":80"s, "1.2.3.4:"s, "1.2.3.4"s, "::1:80"s, "[::1]"s, "[1.2.3.4]:80"s,
          "1.2.3.4:080"s, "[::1]:65536"s, "http"s, "80\0"s}) {
        EXPECT_TRUE(listen_malformed(text)) << '"' << text << '"';
    }
}

TEST(ControlProtocol, RefusesMalformedRequests) {
    for (const std::string& line :
         {""s, " "s, "pinhole/1"s, "pinhole/1 "s, "pinhole/1 status "s, " pinhole/1 status"s,
          "pinhole/1  status"s, "pinhole/1\tstatus"s, "pinhole/1 status\r"s,
          "pinhole/1 status\n"s, "pinhole/1 status\0"s, "pinhole/1 status x"s,
          "pinhole/1 down now"s, "pinhole/2 status"s, "pinhole/10 status"s, "PINHOLE/1 status"s,
          "pinhole status"s, "pinhole/1 STATUS"s, "pinhole/1 restart"s, "pinhole/1 connect"s,
          "pinhole/1 connect router"s, "pinhole/1 connect router ssh extra"s,
          "pinhole/1 connect  router ssh"s, "pinhole/1 connect router  ssh"s,
          "pinhole/1 connect router ssh "s, "pinhole/1 connect Router ssh"s,
          "pinhole/1 connect 1router ssh"s, "pinhole/1 connect rou\x7fter ssh"s,
          "pinhole/1 connect router ::1:22"s, "pinhole/1 connect router host:0"s,
          "pinhole/1 connect router 10.0.0.300:22"s, "pinhole/1 forward router ssh"s,
          "pinhole/1 forward router 8080"s, "pinhole/1 forward router 65536 ssh"s,
          "pinhole/1 forward router localhost:80 ssh"s, "pinhole/1 forward router 8080 ssh x"s,
          "pinhole/1 forward router 8080 ::1:22"s,
          "pinhole/1 connect " + std::string(32, 'a') + " ssh",
          "pinhole/1 status" + std::string(600, ' ')}) {
        EXPECT_TRUE(request_malformed(line)) << '"' << line << '"';
    }
}

TEST(ControlProtocol, LongestRequestFitsAndOverlongLinesAreRefused) {
    const std::string agent(config::max_name_chars, 'a');
    const std::string host = std::string(63, 'h') + "." + std::string(63, 'o') + "." +
                             std::string(63, 's') + "." + std::string(61, 't');
    const std::string longest = "pinhole/1 forward " + agent +
                                " [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 " + host +
                                ":65535";
    EXPECT_LT(longest.size() + 1, control_line_max_bytes);
    expect_round_trip(longest, longest);
    // A line of control_line_max_bytes without its LF is one byte too long.
    EXPECT_TRUE(request_malformed("pinhole/1 status" + std::string(496, 'x')));
    EXPECT_TRUE(request_malformed(std::string(100000, 'a')));
}

TEST(ControlProtocol, FormatRefusesInvalidRequests) {
    Request bad_agent = request("pinhole/1 connect router ssh");
    ASSERT_TRUE(bad_agent.agent.assign("Router").ok());
    EXPECT_EQ(format(bad_agent), "error: " + std::string(describe(Errc::invalid_argument)));

    Request port_zero = request("pinhole/1 connect router 10.0.0.1:22");
    port_zero.target.endpoint.port = 0;
    EXPECT_EQ(format(port_zero), "error: " + std::string(describe(Errc::invalid_argument)));

    Request no_address = request("pinhole/1 forward router 80 ssh");
    no_address.listen = net::Endpoint{};
    EXPECT_EQ(format(no_address), "error: " + std::string(describe(Errc::invalid_argument)));

    Request bad_host = request("pinhole/1 connect router nas:80");
    ASSERT_TRUE(bad_host.target.host.assign("nas lan").ok());
    EXPECT_EQ(format(bad_host), "error: " + std::string(describe(Errc::invalid_argument)));

    Request bad_kind = request("pinhole/1 connect router ssh");
    bad_kind.target.kind = static_cast<Target::Kind>(9);
    EXPECT_EQ(format(bad_kind), "error: " + std::string(describe(Errc::invalid_argument)));

    Request bad_command = request("pinhole/1 status");
    bad_command.command = static_cast<Command>(9);
    EXPECT_EQ(format(bad_command), "error: " + std::string(describe(Errc::invalid_argument)));

    std::array<char, 17> small{};  // "pinhole/1 status\n" exactly
    EXPECT_EQ(format_request(request("pinhole/1 status"), small).value(), 17u);
    EXPECT_EQ(format_request(request("pinhole/1 connect router ssh"), small).error(),
              Errc::no_space);
}

TEST(ControlProtocol, ProxyRequests) {
    const Request open = request("pinhole/1 proxy router 1080");
    EXPECT_EQ(open.command, Command::proxy);
    EXPECT_EQ(open.agent.view(), "router");
    EXPECT_EQ(open.listen, endpoint("127.0.0.1:1080"));
    EXPECT_FALSE(open.auth.required);
    expect_round_trip("pinhole/1 proxy router 1080", "pinhole/1 proxy router 127.0.0.1:1080");

    // "alice" and "s3cret pass" in hex: any bytes may be in a SOCKS5 password, spaces too.
    const Request with_auth = request("pinhole/1 proxy router [::1]:0 auth=616c696365:733363726574207061737300");
    EXPECT_TRUE(with_auth.auth.required);
    EXPECT_EQ(with_auth.auth.user.view(), "alice");
    EXPECT_EQ(with_auth.auth.password.view(), "s3cret pass\0"sv);
    expect_round_trip("pinhole/1 proxy router [::1]:0 auth=616c696365:733363726574207061737300",
                      "pinhole/1 proxy router [::1]:0 auth=616c696365:733363726574207061737300");

    // The longest credentials still fit a line.
    Request longest = request("pinhole/1 proxy " + std::string(config::max_name_chars, 'a') +
                              " [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    longest.auth.required = true;
    ASSERT_TRUE(longest.auth.user.assign(std::string(max_proxy_user_bytes, 'u')).ok());
    ASSERT_TRUE(longest.auth.password.assign(std::string(max_proxy_password_bytes, 'p')).ok());
    const std::string line = format(longest);
    ASSERT_NE(line.rfind("error", 0), 0u) << line;
    EXPECT_EQ(request(std::string_view(line).substr(0, line.size() - 1)), longest);

    for (const std::string& bad :
         {"pinhole/1 proxy router"s, "pinhole/1 proxy router 1080 web"s, "pinhole/1 proxy router 1080 auth="s,
          "pinhole/1 proxy router 1080 auth=61"s, "pinhole/1 proxy router 1080 auth=:61"s,
          "pinhole/1 proxy router 1080 auth=61:"s, "pinhole/1 proxy router 1080 auth=6:61"s,
          "pinhole/1 proxy router 1080 auth=6G:61"s, "pinhole/1 proxy router 1080 auth=6A:61"s,
          "pinhole/1 proxy router 1080 auth=61:62 x"s, "pinhole/1 proxy router 1080 user=61:62"s,
          "pinhole/1 proxy router 1080 auth=" + std::string(2 * max_proxy_user_bytes + 2, '6') + ":61"}) {
        EXPECT_TRUE(request_malformed(bad)) << '"' << bad << '"';
    }
}

TEST(ControlProtocol, RepliesRoundTrip) {
    EXPECT_EQ(format(ReplyCode::ok, ""), "ok\n");
    EXPECT_EQ(format(ReplyCode::ok, "listening on 127.0.0.1:8080"), "ok listening on 127.0.0.1:8080\n");
    EXPECT_EQ(format(ReplyCode::info, "accepted 127.0.0.1:5555"), "info accepted 127.0.0.1:5555\n");
    EXPECT_EQ(format(ReplyCode::unknown_agent, "no peer named routr (did you mean router?)"),
              "error unknown_agent no peer named routr (did you mean router?)\n");
    EXPECT_EQ(format(ReplyCode::busy, ""), "error busy\n");
    for (auto value = static_cast<std::uint8_t>(ReplyCode::ok);
         value <= static_cast<std::uint8_t>(ReplyCode::internal); ++value) {
        const auto code = static_cast<ReplyCode>(value);
        for (const std::string_view text : {""sv, "x"sv, "  two  spaces "sv, "a: b [c] {d}"sv}) {
            const std::string line = format(code, text);
            ASSERT_EQ(line.back(), '\n');
            const auto parsed = parse_reply(std::string_view(line).substr(0, line.size() - 1));
            ASSERT_TRUE(parsed.ok()) << line;
            EXPECT_EQ(parsed.value().code, code);
            EXPECT_EQ(parsed.value().text, text);
        }
    }
}

TEST(ControlProtocol, NamesEveryReplyCode) {
    EXPECT_STREQ(reply_code_name(ReplyCode::ok), "ok");
    EXPECT_STREQ(reply_code_name(ReplyCode::bad_request), "bad_request");
    EXPECT_STREQ(reply_code_name(ReplyCode::timed_out), "timed_out");
    EXPECT_STREQ(reply_code_name(ReplyCode::internal), "internal");
    EXPECT_STREQ(reply_code_name(static_cast<ReplyCode>(200)), "?");
}

TEST(ControlProtocol, ParsesReplies) {
    const auto error = parse_reply("error timed_out no answer from router in 5 s");
    ASSERT_TRUE(error.ok());
    EXPECT_EQ(error.value().code, ReplyCode::timed_out);
    EXPECT_EQ(error.value().text, "no answer from router in 5 s");
    const auto ok = parse_reply("ok");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok.value().code, ReplyCode::ok);
    EXPECT_TRUE(ok.value().text.empty());
}

TEST(ControlProtocol, RefusesMalformedReplies) {
    for (const std::string& line :
         {""s, " "s, "ok "s, " ok"s, "OK"s, "okay"s, "ok\tx"s, "ok x\r"s, "ok x\n"s, "ok \0"s,
          "ok caf\xc3\xa9"s, "ok \x7f"s, "info "s, "error"s, "error "s, "error  busy"s,
          "error busy "s, "error ok"s, "error info x"s, "error nope x"s, "error Busy"s,
          "error busy\tx"s, "warning x"s, "ok " + std::string(509, 'x')}) {
        EXPECT_TRUE(reply_malformed(line)) << '"' << line << '"';
    }
    EXPECT_TRUE(parse_reply("ok " + std::string(508, 'x')).ok());  // 511: the longest
}

TEST(ControlProtocol, FormatReplyRefusesControlCharactersAndOverlongText) {
    for (const std::string& text : {"a\nerror internal forged"s, "a\rb"s, "a\0b"s, "\tx"s,
                                    "\x7f"s, "caf\xc3\xa9"s, std::string(509, 'x')}) {
        EXPECT_EQ(format(ReplyCode::ok, text),
                  "error: " + std::string(describe(Errc::invalid_argument)))
            << '"' << text << '"';
    }
    EXPECT_EQ(format(ReplyCode::ok, std::string(508, 'x')).size(), 512u);
    EXPECT_EQ(format(static_cast<ReplyCode>(200), "x"),
              "error: " + std::string(describe(Errc::invalid_argument)));
    std::array<char, 4> small{};
    EXPECT_EQ(format_reply(ReplyCode::ok, "x", small).error(), Errc::no_space);  // "ok x\n"
    EXPECT_EQ(format_reply(ReplyCode::ok, "", small).value(), 3u);
}

}  // namespace
}  // namespace pinhole::node
