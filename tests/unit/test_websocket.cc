// core/relay/websocket: the relay channel's WebSocket handshake (both sides) and framing.
#include "core/relay/websocket.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fakes.h"

namespace pinhole::relay::ws {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }
std::string text_of(std::span<const std::uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

// RFC 6455 §1.3's example key and its accept.
constexpr std::string_view rfc_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string response_with(std::string_view headers) {
    return "HTTP/1.1 101 Switching Protocols\r\n" + std::string(headers) + "\r\n";
}
const std::string good_response =
    response_with("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + std::string(rfc_accept) + "\r\n");

std::string request_with(std::string_view line, std::string_view headers) {
    return std::string(line) + "\r\n" + std::string(headers) + "\r\n";
}
const std::string good_headers = "Host: gw.example.net\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: " + std::string(rfc_key) + "\r\nSec-WebSocket-Version: 13\r\n";
const std::string good_request = request_with("GET /pinhole HTTP/1.1", good_headers);

Result<std::size_t> parse_response(const std::string& text, ResponseInfo& info) {
    const Bytes bytes = bytes_of(text);
    return parse_upgrade_response(bytes, rfc_accept, info);
}

Result<std::size_t> parse_request(const std::string& text, RequestInfo& info) {
    const Bytes bytes = bytes_of(text);
    return parse_upgrade_request(bytes, default_path, info);
}

// A frame as a peer would send it: FIN and opcode in the first byte, the length in its
// shortest form (or `length_form` 126/127), masked with `mask` when given.
Bytes frame(std::uint8_t first, const Bytes& payload, const Mask* mask = nullptr, int length_form = 0) {
    Bytes out{first};
    const std::uint8_t mask_bit = mask != nullptr ? 0x80 : 0;
    const std::size_t size = payload.size();
    if (length_form == 0 && size < 126) {
        out.push_back(static_cast<std::uint8_t>(mask_bit | size));
    } else if (length_form == 126 || (length_form == 0 && size <= 0xffff)) {
        out.push_back(mask_bit | 126);
        out.push_back(static_cast<std::uint8_t>(size >> 8));
        out.push_back(static_cast<std::uint8_t>(size));
    } else {
        out.push_back(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(std::uint64_t{size} >> shift));
    }
    if (mask != nullptr) out.insert(out.end(), mask->begin(), mask->end());
    const std::size_t start = out.size();
    out.insert(out.end(), payload.begin(), payload.end());
    if (mask != nullptr) apply_mask(std::span(out).subspan(start), *mask, 0);
    return out;
}

constexpr Mask test_mask{0x37, 0xfa, 0x21, 0x3d};

Bytes counting(std::size_t size, std::uint8_t first = 0) {
    Bytes bytes(size);
    for (std::size_t i = 0; i < size; i++) bytes[i] = static_cast<std::uint8_t>(first + i * 7);
    return bytes;
}

// Decodes `wire` whole; the payload, or the error.
Result<Bytes> decode_all(Decoder& decoder, Bytes wire) {
    const Result<std::size_t> got = decoder.decode(wire);
    if (!got.ok()) return got.error();
    wire.resize(got.value());
    return wire;
}

Failure refusal_of(Role role, const Bytes& wire) {
    Decoder decoder(role);
    const Result<Bytes> got = decode_all(decoder, wire);
    EXPECT_FALSE(got.ok());
    if (!got.ok()) {
        EXPECT_EQ(got.error(), Errc::malformed);
    }
    return decoder.failure();
}

// ---- handshake ----------------------------------------------------------------------------

TEST(WebSocketHandshake, AcceptOfTheRfcExample) {
    std::array<char, accept_chars + 1> accept{};
    ASSERT_TRUE(accept_for_key(rfc_key, accept).ok());
    EXPECT_EQ(std::string_view(accept.data()), rfc_accept);
    std::array<char, accept_chars> too_small{};
    EXPECT_EQ(accept_for_key(rfc_key, too_small).error(), Errc::invalid_argument);
}

TEST(WebSocketHandshake, ClientKeyIsSixteenRandomBytesAndItsAccept) {
    fakes::CountingRandom random;
    ClientKey key;
    ASSERT_TRUE(make_client_key(random, key).ok());
    EXPECT_EQ(key.key_text(), "AQIDBAUGBwgJCgsMDQ4PEA==");  // bytes 1..16
    std::array<char, accept_chars + 1> accept{};
    ASSERT_TRUE(accept_for_key(key.key_text(), accept).ok());
    EXPECT_EQ(key.accept_text(), std::string_view(accept.data()));
    ClientKey next;
    ASSERT_TRUE(make_client_key(random, next).ok());
    EXPECT_NE(next.key_text(), key.key_text());
}

TEST(WebSocketHandshake, RequestAsTheServerReadsIt) {
    std::array<std::uint8_t, 512> out{};
    const Result<std::size_t> length = encode_upgrade_request("gw.example.net", "/pinhole", rfc_key, out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(text_of(std::span(out.data(), length.value())), good_request);
    RequestInfo info;
    const Result<std::size_t> head = parse_upgrade_request(std::span(out.data(), length.value()), default_path, info);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head.value(), length.value());
    EXPECT_EQ(info.key_text(), rfc_key);
    std::array<std::uint8_t, 60> small{};
    EXPECT_EQ(encode_upgrade_request("gw.example.net", "/pinhole", rfc_key, small).error(), Errc::no_space);
}

TEST(WebSocketHandshake, ResponseAsTheClientReadsIt) {
    std::array<std::uint8_t, 512> out{};
    const Result<std::size_t> length = encode_upgrade_response(rfc_key, out);
    ASSERT_TRUE(length.ok());
    ResponseInfo info;
    const Result<std::size_t> head = parse_upgrade_response(std::span(out.data(), length.value()), rfc_accept, info);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head.value(), length.value());
    EXPECT_EQ(info.status, 101);
}

TEST(WebSocketHandshake, FramesAfterTheHeadAreLeftToTheCaller) {
    ResponseInfo info;
    const Result<std::size_t> head = parse_response(good_response + "\x82\x01x", info);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head.value(), good_response.size());
}

TEST(WebSocketHandshake, ResponseAsNginxWritesIt) {
    ResponseInfo info;
    const std::string nginx = response_with("Server: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
                                            "Connection: upgrade\r\nupgrade: WebSocket\r\n"
                                            "sec-websocket-accept:" + std::string(rfc_accept) + "  \r\n");
    EXPECT_TRUE(parse_response(nginx, info).ok());
}

TEST(WebSocketHandshake, EveryTruncatedResponseWaits) {
    for (std::size_t size = 0; size < good_response.size(); size++) {
        ResponseInfo info;
        EXPECT_EQ(parse_response(good_response.substr(0, size), info).error(), Errc::would_block) << size;
    }
}

TEST(WebSocketHandshake, EveryTruncatedRequestWaits) {
    for (std::size_t size = 0; size < good_request.size(); size++) {
        RequestInfo info;
        EXPECT_EQ(parse_request(good_request.substr(0, size), info).error(), Errc::would_block) << size;
    }
}

struct BadResponse {
    std::string text;
    Failure failure;
    std::uint16_t status;
};

TEST(WebSocketHandshake, MalformedResponsesAreRefusedWithTheirReason) {
    const std::string accept = "Sec-WebSocket-Accept: " + std::string(rfc_accept) + "\r\n";
    const std::string both = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    const std::vector<BadResponse> cases = {
        {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", Failure::not_switching_protocols, 404},
        {"HTTP/1.1 502 Bad Gateway\r\n\r\n", Failure::not_switching_protocols, 502},
        {"HTTP/1.1 200\r\n\r\n", Failure::not_switching_protocols, 200},
        {"HTTP/1.1 101\r\n" + both + accept + "\r\n", Failure::none, 101},  // no reason phrase: fine
        {"HTTP/2 101 Switching Protocols\r\n" + both + accept + "\r\n", Failure::bad_status_line, 0},
        {"HTTP/1.1 1O1 Switching Protocols\r\n" + both + accept + "\r\n", Failure::bad_status_line, 0},
        {"HTTP/1.1 1011 Switching\r\n" + both + accept + "\r\n", Failure::bad_status_line, 0},
        {"http/1.1 101 Switching Protocols\r\n" + both + accept + "\r\n", Failure::bad_status_line, 0},
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", Failure::bad_status_line, 0},
        {"\r\n\r\n", Failure::bad_status_line, 0},
        {response_with("Connection: Upgrade\r\n" + accept), Failure::no_upgrade_websocket, 101},
        {response_with("Upgrade: h2c\r\nConnection: Upgrade\r\n" + accept), Failure::no_upgrade_websocket, 101},
        {response_with("Upgrade: websocket\r\n" + accept), Failure::no_connection_upgrade, 101},
        {response_with("Upgrade: websocket\r\nConnection: close\r\n" + accept), Failure::no_connection_upgrade, 101},
        {response_with(both), Failure::no_accept, 101},
        {response_with(both + accept + accept), Failure::no_accept, 101},
        {response_with(both + "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"), Failure::wrong_accept, 101},
        {response_with(both + "Sec-WebSocket-Accept: " + std::string(rfc_accept.substr(1)) + "\r\n"), Failure::wrong_accept, 101},
        {response_with(both + accept + "Sec-WebSocket-Extensions: permessage-deflate\r\n"), Failure::unasked_extension, 101},
        {response_with(both + accept + "Sec-WebSocket-Protocol: chat\r\n"), Failure::unasked_extension, 101},
        {response_with(both + accept + "No colon here\r\n"), Failure::malformed_head, 101},
        {response_with(both + accept + ": empty name\r\n"), Failure::malformed_head, 101},
        {response_with(both + accept + " folded: line\r\n"), Failure::malformed_head, 101},
        {response_with(both + accept + "Bad Name: x\r\n"), Failure::malformed_head, 101},
        {response_with(both + accept + "X-Nul: a" + std::string(1, '\0') + "b\r\n"), Failure::malformed_head, 101},
        {response_with(both + accept + "X-Lf: a\nb\r\n"), Failure::malformed_head, 101},
    };
    for (const BadResponse& bad : cases) {
        ResponseInfo info;
        const Result<std::size_t> head = parse_response(bad.text, info);
        EXPECT_EQ(head.ok(), bad.failure == Failure::none) << bad.text;
        EXPECT_EQ(info.failure, bad.failure) << bad.text;
        EXPECT_EQ(info.status, bad.status) << bad.text;
        if (bad.failure != Failure::none) {
            EXPECT_EQ(head.error(), Errc::malformed);
            EXPECT_STRNE(describe(info.failure), "?");
        }
    }
}

TEST(WebSocketHandshake, OversizedHeadsAreRefused) {
    const std::string padding = "X-Padding: " + std::string(max_head_bytes, 'a') + "\r\n";
    ResponseInfo response;
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\n" + padding, response).error(), Errc::malformed);
    EXPECT_EQ(response.failure, Failure::head_too_large);
    RequestInfo request;
    EXPECT_EQ(parse_request("GET /pinhole HTTP/1.1\r\n" + padding, request).error(), Errc::malformed);
    EXPECT_EQ(request.failure, Failure::head_too_large);
    EXPECT_EQ(request.status, 400);
    // The empty line just past the limit does not count; just inside it does.
    std::string head = "GET /pinhole HTTP/1.1\r\n" + good_headers;
    const std::string filler = "X-F: ";
    head += filler + std::string(max_head_bytes - head.size() - filler.size() - 4, 'b') + "\r\n\r\n";
    ASSERT_EQ(head.size(), max_head_bytes);
    EXPECT_TRUE(parse_request(head, request).ok());
    head.insert(head.size() - 4, "b");
    EXPECT_EQ(parse_request(head, request).error(), Errc::malformed);
    EXPECT_EQ(request.failure, Failure::head_too_large);
}

struct BadRequest {
    std::string text;
    Failure failure;
    std::uint16_t status;
};

TEST(WebSocketHandshake, MalformedRequestsGetTheirAnswer) {
    const std::string key = "Sec-WebSocket-Key: " + std::string(rfc_key) + "\r\n";
    const std::string host = "Host: gw\r\n";
    const std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    const std::string version = "Sec-WebSocket-Version: 13\r\n";
    const std::vector<BadRequest> cases = {
        {request_with("GET /pinhole?x=1 HTTP/1.1", good_headers), Failure::none, 0},
        {request_with("GET /pinhole HTTP/1.1", "Connection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n" + host + key + version), Failure::none, 0},
        {request_with("POST /pinhole HTTP/1.1", good_headers), Failure::bad_request_line, 400},
        {request_with("GET /pinhole HTTP/1.0", good_headers), Failure::bad_request_line, 400},
        {request_with("GET /pinhole", good_headers), Failure::bad_request_line, 400},
        {request_with("GET pinhole HTTP/1.1", good_headers), Failure::bad_request_line, 400},
        {request_with("GET  HTTP/1.1", good_headers), Failure::bad_request_line, 400},
        {request_with("GET /pin hole HTTP/1.1", good_headers), Failure::bad_request_line, 400},
        {request_with("GET / HTTP/1.1", good_headers), Failure::wrong_path, 404},
        {request_with("GET /pinhole/ HTTP/1.1", good_headers), Failure::wrong_path, 404},
        {request_with("GET /other HTTP/1.1", good_headers), Failure::wrong_path, 404},
        {request_with("GET /pinhole HTTP/1.1", upgrade + key + version), Failure::no_host, 400},
        {request_with("GET /pinhole HTTP/1.1", host + host + upgrade + key + version), Failure::no_host, 400},
        {request_with("GET /pinhole HTTP/1.1", host + "Connection: Upgrade\r\n" + key + version), Failure::no_upgrade_websocket, 426},
        {request_with("GET /pinhole HTTP/1.1", host + "Upgrade: websocket\r\nConnection: close\r\n" + key + version), Failure::no_connection_upgrade, 426},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + key), Failure::bad_websocket_version, 426},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + key + "Sec-WebSocket-Version: 8\r\n"), Failure::bad_websocket_version, 426},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + version), Failure::bad_key, 400},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + version + key + key), Failure::bad_key, 400},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + version + "Sec-WebSocket-Key: c2hvcnQ=\r\n"), Failure::bad_key, 400},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + version + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=!\r\n"), Failure::bad_key, 400},
        {request_with("GET /pinhole HTTP/1.1", host + upgrade + version + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"), Failure::bad_key, 400},
        {request_with("GET /pinhole HTTP/1.1", good_headers + "Broken\r\n"), Failure::malformed_head, 400},
        {request_with("GET /pinhole HTTP/1.1", good_headers + "\tfolded\r\n"), Failure::malformed_head, 400},
        {"\r\n\r\n", Failure::bad_request_line, 400},
    };
    for (const BadRequest& bad : cases) {
        RequestInfo info;
        const Result<std::size_t> head = parse_request(bad.text, info);
        EXPECT_EQ(head.ok(), bad.failure == Failure::none) << bad.text;
        EXPECT_EQ(info.failure, bad.failure) << bad.text;
        EXPECT_EQ(info.status, bad.status) << bad.text;
    }
}

TEST(WebSocketHandshake, RefusalsNameTheirReason) {
    std::array<std::uint8_t, 512> out{};
    Result<std::size_t> length = encode_refusal(404, "an upgrade for another path", out);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(text_of(std::span(out.data(), length.value())),
              "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 28\r\n\r\n"
              "an upgrade for another path\n");
    length = encode_refusal(426, "x", out);
    ASSERT_TRUE(length.ok());
    const std::string text = text_of(std::span(out.data(), length.value()));
    EXPECT_NE(text.find("HTTP/1.1 426 Upgrade Required\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
    // What the node reads of it.
    ResponseInfo info;
    EXPECT_EQ(parse_upgrade_response(std::span(out.data(), length.value()), rfc_accept, info).error(), Errc::malformed);
    EXPECT_EQ(info.status, 426);
    std::array<std::uint8_t, 40> small{};
    EXPECT_EQ(encode_refusal(400, "x", small).error(), Errc::no_space);
}

// ---- frames -------------------------------------------------------------------------------

TEST(WebSocketFrames, HeadersInEachLengthForm) {
    std::array<std::uint8_t, max_frame_header_bytes> out{};
    const struct {
        std::uint64_t length;
        bool masked;
        Bytes expected;
    } cases[] = {
        {0, false, {0x82, 0x00}},
        {125, false, {0x82, 125}},
        {126, false, {0x82, 126, 0x00, 126}},
        {65535, false, {0x82, 126, 0xff, 0xff}},
        {65536, false, {0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
        {5, true, {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
        {300, true, {0x82, 0xfe, 0x01, 0x2c, 0x37, 0xfa, 0x21, 0x3d}},
    };
    for (const auto& c : cases) {
        const Result<std::size_t> length = encode_frame_header(Opcode::binary, c.length, c.masked ? &test_mask : nullptr, out);
        ASSERT_TRUE(length.ok());
        EXPECT_EQ(length.value(), frame_header_bytes(c.length, c.masked));
        EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length.value())), c.expected) << c.length;
    }
    std::array<std::uint8_t, 3> small{};
    EXPECT_EQ(encode_frame_header(Opcode::binary, 200, nullptr, small).error(), Errc::no_space);
}

TEST(WebSocketFrames, TheRfcExamples) {
    // RFC 6455 §5.7: "Hello" unmasked (from a server), masked (from a client), a ping.
    Decoder client(Role::client);
    Result<Bytes> got = decode_all(client, {0x89, 0x05, 'H', 'e', 'l', 'l', 'o'});
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got.value().empty());
    ASSERT_TRUE(client.ping_pending());
    EXPECT_EQ(text_of(client.ping_payload()), "Hello");
    Decoder server(Role::server);
    got = decode_all(server, {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(text_of(got.value()), "Hello");
}

TEST(WebSocketFrames, PayloadsOfBothDirectionsInEveryLengthForm) {
    for (const std::size_t size : {0, 1, 125, 126, 127, 1500, 65535, 65536, 70000}) {
        const Bytes payload = counting(size, 3);
        for (const int form : {0, 126, 127}) {
            if (form == 126 && size > 0xffff) continue;
            Decoder client(Role::client);
            Result<Bytes> got = decode_all(client, frame(0x82, payload, nullptr, form));
            ASSERT_TRUE(got.ok()) << size;
            EXPECT_EQ(got.value(), payload) << size;
            Decoder server(Role::server);
            got = decode_all(server, frame(0x82, payload, &test_mask, form));
            ASSERT_TRUE(got.ok()) << size;
            EXPECT_EQ(got.value(), payload) << size;
        }
    }
}

// A stream of data and control frames, as a server would send it to a node.
Bytes mixed_stream(const Mask* mask, Bytes& payload) {
    const Bytes a = counting(300, 1);
    const Bytes b = counting(20, 50);
    const Bytes c = counting(1000, 9);
    Bytes wire = frame(0x82, a, mask);
    const Bytes ping = frame(0x89, bytes_of("are you there"), mask);
    const Bytes pong = frame(0x8a, bytes_of("unasked"), mask);
    const Bytes start = frame(0x02, b, mask);         // a fragmented message...
    const Bytes middle = frame(0x00, Bytes{}, mask);  // ... an empty continuation ...
    const Bytes end = frame(0x80, c, mask);           // ... and its last piece
    for (const Bytes* part : {&ping, &start, &pong, &middle, &ping, &end}) wire.insert(wire.end(), part->begin(), part->end());
    payload = a;
    payload.insert(payload.end(), b.begin(), b.end());
    payload.insert(payload.end(), c.begin(), c.end());
    return wire;
}

TEST(WebSocketFrames, FragmentsAndControlFramesInBetween) {
    for (const Role role : {Role::client, Role::server}) {
        Bytes payload;
        const Bytes wire = mixed_stream(role == Role::server ? &test_mask : nullptr, payload);
        Decoder decoder(role);
        const Result<Bytes> got = decode_all(decoder, wire);
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(got.value(), payload);
        EXPECT_TRUE(decoder.ping_pending());
        EXPECT_EQ(text_of(decoder.ping_payload()), "are you there");
        EXPECT_FALSE(decoder.closed());
    }
}

TEST(WebSocketFrames, TruncationAtEveryByteChangesNothing) {
    for (const Role role : {Role::client, Role::server}) {
        Bytes payload;
        const Bytes wire = mixed_stream(role == Role::server ? &test_mask : nullptr, payload);
        for (std::size_t cut = 0; cut <= wire.size(); cut++) {
            Decoder decoder(role);
            Result<Bytes> first = decode_all(decoder, Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(cut)));
            Result<Bytes> second = decode_all(decoder, Bytes(wire.begin() + static_cast<std::ptrdiff_t>(cut), wire.end()));
            ASSERT_TRUE(first.ok() && second.ok()) << cut;
            Bytes joined = first.value();
            joined.insert(joined.end(), second.value().begin(), second.value().end());
            ASSERT_EQ(joined, payload) << cut;
        }
    }
}

TEST(WebSocketFrames, OneByteAtATime) {
    Bytes payload;
    const Bytes wire = mixed_stream(&test_mask, payload);
    Decoder decoder(Role::server);
    Bytes joined;
    for (const std::uint8_t byte : wire) {
        const Result<Bytes> got = decode_all(decoder, Bytes{byte});
        ASSERT_TRUE(got.ok());
        joined.insert(joined.end(), got.value().begin(), got.value().end());
    }
    EXPECT_EQ(joined, payload);
}

TEST(WebSocketFrames, CloseEndsTheStream) {
    Decoder decoder(Role::client);
    Bytes wire = frame(0x82, bytes_of("before"));
    const Bytes close = frame(0x88, Bytes{0x03, 0xe9, 'b', 'y', 'e'});  // 1001 "bye"
    wire.insert(wire.end(), close.begin(), close.end());
    const Bytes after = frame(0x82, bytes_of("after"));
    wire.insert(wire.end(), after.begin(), after.end());
    const Result<Bytes> got = decode_all(decoder, wire);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(text_of(got.value()), "before");
    EXPECT_TRUE(decoder.closed());
    EXPECT_EQ(decoder.close_code(), 1001);
    Bytes more = after;
    EXPECT_EQ(decoder.decode(more).error(), Errc::closed);
    Decoder empty(Role::server);
    ASSERT_TRUE(decode_all(empty, frame(0x88, Bytes{}, &test_mask)).ok());
    EXPECT_TRUE(empty.closed());
    EXPECT_EQ(empty.close_code(), 0);
    decoder.reset();
    EXPECT_FALSE(decoder.closed());
    EXPECT_TRUE(decode_all(decoder, after).ok());
}

TEST(WebSocketFrames, MalformedFramesAreRefusedWithTheirReason) {
    const Bytes small = bytes_of("abc");
    EXPECT_EQ(refusal_of(Role::client, frame(0x82, small, &test_mask)), Failure::masked_server_frame);
    EXPECT_EQ(refusal_of(Role::server, frame(0x82, small)), Failure::unmasked_client_frame);
    EXPECT_EQ(refusal_of(Role::client, frame(0x81, small)), Failure::text_frame);
    EXPECT_EQ(refusal_of(Role::client, frame(0xc2, small)), Failure::reserved_bits);
    EXPECT_EQ(refusal_of(Role::client, frame(0x92, small)), Failure::reserved_bits);
    EXPECT_EQ(refusal_of(Role::client, frame(0xa2, small)), Failure::reserved_bits);
    for (const std::uint8_t opcode : {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf}) {
        EXPECT_EQ(refusal_of(Role::client, frame(static_cast<std::uint8_t>(0x80 | opcode), small)), Failure::unknown_opcode);
    }
    EXPECT_EQ(refusal_of(Role::client, frame(0x80, small)), Failure::unexpected_continuation);
    Bytes twice = frame(0x02, small);
    const Bytes again = frame(0x82, small);
    twice.insert(twice.end(), again.begin(), again.end());
    EXPECT_EQ(refusal_of(Role::client, twice), Failure::unfinished_message);
    EXPECT_EQ(refusal_of(Role::client, frame(0x09, small)), Failure::fragmented_control);
    EXPECT_EQ(refusal_of(Role::client, frame(0x89, counting(126))), Failure::control_too_long);
    EXPECT_EQ(refusal_of(Role::server, frame(0x8a, counting(126), &test_mask)), Failure::control_too_long);
    EXPECT_EQ(refusal_of(Role::client, frame(0x88, Bytes{0x03})), Failure::bad_close_payload);
    EXPECT_EQ(refusal_of(Role::client, Bytes{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}), Failure::length_too_large);
    EXPECT_EQ(refusal_of(Role::client, Bytes{0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 1}), Failure::length_too_large);
    EXPECT_EQ(refusal_of(Role::client, Bytes{0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
              Failure::length_too_large);
    // Up to the limit is a frame like any other (its header alone here).
    Decoder at_limit(Role::client);
    EXPECT_TRUE(decode_all(at_limit, Bytes{0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0}).ok());
}

TEST(WebSocketFrames, ARefusedStreamStaysRefused) {
    Decoder decoder(Role::server);
    EXPECT_FALSE(decode_all(decoder, frame(0x82, bytes_of("x"))).ok());
    EXPECT_EQ(decoder.failure(), Failure::unmasked_client_frame);
    Bytes good = frame(0x82, bytes_of("x"), &test_mask);
    EXPECT_EQ(decoder.decode(good).error(), Errc::malformed);
    EXPECT_STRNE(describe(decoder.failure()), "?");
}

TEST(WebSocketFrames, MaskingIsItsOwnInverseAtAnyOffset) {
    Bytes data = counting(37);
    const Bytes original = data;
    apply_mask(std::span(data).first(10), test_mask, 0);
    apply_mask(std::span(data).subspan(10), test_mask, 10);
    EXPECT_NE(data, original);
    Bytes whole = original;
    apply_mask(whole, test_mask, 0);
    EXPECT_EQ(data, whole);
    apply_mask(data, test_mask, 0);
    EXPECT_EQ(data, original);
}

}  // namespace
}  // namespace pinhole::relay::ws
