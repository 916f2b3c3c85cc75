#include "core/overlay/dns_wire.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinhole::overlay {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(std::string_view hex) {
    Bytes bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        bytes.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return bytes;
}

template <typename T>
Errc error_of(const Result<T>& result) {
    return result.ok() ? Errc::ok : result.error();
}

DnsName name(std::string_view text) { return dns_name_from_text(text).value(); }

std::string text_of(const DnsName& dns_name) {
    std::array<char, max_dns_name_text_bytes> out{};
    const auto length = dns_name_to_text(dns_name, out);
    return length.ok() ? std::string(out.data(), length.value()) : std::string("<error>");
}

DnsQuestion question(std::string_view text, DnsType type) {
    DnsQuestion asked;
    asked.name = name(text);
    asked.type = type;
    return asked;
}

void put16(Bytes& bytes, std::uint16_t value) {
    bytes.push_back(static_cast<std::uint8_t>(value >> 8));
    bytes.push_back(static_cast<std::uint8_t>(value));
}

void put32(Bytes& bytes, std::uint32_t value) {
    put16(bytes, static_cast<std::uint16_t>(value >> 16));
    put16(bytes, static_cast<std::uint16_t>(value));
}

void put_name(Bytes& bytes, std::string_view text) {
    const DnsName wire = name(text);
    bytes.insert(bytes.end(), wire.wire.begin(), wire.wire.begin() + static_cast<std::ptrdiff_t>(wire.length));
}

Bytes header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
             std::uint16_t ns = 0, std::uint16_t ar = 0) {
    Bytes bytes;
    for (const std::uint16_t field : {id, flags, qd, an, ns, ar}) put16(bytes, field);
    return bytes;
}

// A query as a client writes it: header, one question, nothing else.
Bytes query_bytes(std::uint16_t id, std::uint16_t flags, std::string_view qname, std::uint16_t type) {
    Bytes bytes = header(id, flags, 1, 0);
    put_name(bytes, qname);
    put16(bytes, type);
    put16(bytes, dns_class_in);
    return bytes;
}

// A record's type, class, TTL and data after an owner already written.
void put_record_tail(Bytes& bytes, std::uint16_t type, std::uint32_t ttl, const Bytes& data) {
    put16(bytes, type);
    put16(bytes, dns_class_in);
    put32(bytes, ttl);
    put16(bytes, static_cast<std::uint16_t>(data.size()));
    bytes.insert(bytes.end(), data.begin(), data.end());
}

Bytes to_bytes(std::span<const std::uint8_t> span) { return Bytes(span.begin(), span.end()); }

// ---- captures from dig 9.18 (bind9-dnsutils, bookworm) against a listener on 127.0.0.1 -------

// dig -p PORT @127.0.0.1 example.com A: RD and AD set, EDNS(0) with a 1232-byte payload and a
// client cookie.
const Bytes dig_query_a = from_hex(
    "af7f01200001000000000001076578616d706c6503636f6d00000100010000"
    "2904d000000000000c000a00085860d330b9af2086");
// dig ... example.com A +noedns
const Bytes dig_query_a_noedns = from_hex("f49801200001000000000000076578616d706c6503636f6d0000010001");
// dig ... _http._tcp.Example.COM SRV +noedns: the case as typed.
const Bytes dig_query_srv = from_hex(
    "50db01200001000000000000055f68747470045f746370074578616d706c6503434f4d0000210001");

// ---- names ----------------------------------------------------------------------------------

TEST(DnsNames, TextRoundTrips) {
    EXPECT_EQ(to_bytes(name("example.com").bytes()), from_hex("076578616d706c6503636f6d00"));
    EXPECT_EQ(text_of(name("example.com")), "example.com");
    EXPECT_EQ(text_of(name("example.com.")), "example.com");
    EXPECT_EQ(name(".").length, 1u);
    EXPECT_EQ(text_of(name(".")), ".");
    EXPECT_EQ(text_of(name("_sip._udp.Router")), "_sip._udp.Router");
    const std::string label_63(63, 'q');
    EXPECT_EQ(text_of(name(label_63 + ".x")), label_63 + ".x");
}

TEST(DnsNames, TextRefusals) {
    const std::string label_64(64, 'q');
    std::string longest;  // 253 characters: 255 bytes on the wire
    for (int i = 0; i < 4; ++i) longest += std::string(i < 3 ? 63 : 61, 'a') + (i < 3 ? "." : "");
    ASSERT_EQ(longest.size(), 253u);
    ASSERT_TRUE(dns_name_from_text(longest).ok());
    EXPECT_EQ(dns_name_from_text(longest).value().length, 255u);
    EXPECT_TRUE(dns_name_from_text(longest + ".").ok());
    for (const std::string& bad :
         {std::string(""), std::string(".."), std::string("a..b"), std::string(".a"),
          std::string("a b"), std::string("a\tb"), std::string("\x80"), label_64, longest + "a",
          longest + "a."}) {
        EXPECT_EQ(error_of(dns_name_from_text(bad)), Errc::malformed) << bad;
    }
}

TEST(DnsNames, TextWriterRefusals) {
    std::array<char, max_dns_name_text_bytes> out{};
    EXPECT_EQ(error_of(dns_name_to_text(DnsName{}, out)), Errc::invalid_argument);
    DnsName dotted;  // a label holding '.' has no plain-text spelling
    dotted.wire = {3, 'a', '.', 'b', 0};
    dotted.length = 5;
    EXPECT_EQ(error_of(dns_name_to_text(dotted, out)), Errc::unsupported);
    DnsName binary;
    binary.wire = {2, 'a', 0, 0};
    binary.length = 4;
    EXPECT_EQ(error_of(dns_name_to_text(binary, out)), Errc::unsupported);
    DnsName broken;  // a label longer than the name
    broken.wire = {9, 'a', 0};
    broken.length = 3;
    EXPECT_EQ(error_of(dns_name_to_text(broken, out)), Errc::invalid_argument);
    std::array<char, 11> small{};  // "example.com" needs 12 with its NUL
    EXPECT_EQ(error_of(dns_name_to_text(name("example.com"), small)), Errc::no_space);
    std::array<char, 12> exact{};
    EXPECT_EQ(dns_name_to_text(name("example.com"), exact).value(), 11u);
    EXPECT_EQ(error_of(dns_name_to_text(name("."), std::span(out).first(1))), Errc::no_space);
}

TEST(DnsNames, CompareIgnoringCaseAndZones) {
    EXPECT_TRUE(dns_names_equal(name("Example.COM"), name("example.com")));
    EXPECT_FALSE(dns_names_equal(name("example.co"), name("example.com")));
    EXPECT_FALSE(dns_names_equal(name("a.bc"), name("ab.c")));
    EXPECT_TRUE(dns_name_in_zone(name("web.Router"), name("router")));
    EXPECT_TRUE(dns_name_in_zone(name("router"), name("ROUTER")));
    EXPECT_TRUE(dns_name_in_zone(name("a.b.router"), name("b.router")));
    EXPECT_TRUE(dns_name_in_zone(name("anything.at.all"), name(".")));
    EXPECT_FALSE(dns_name_in_zone(name("xrouter"), name("router")));
    EXPECT_FALSE(dns_name_in_zone(name("x.xrouter"), name("router")));
    EXPECT_FALSE(dns_name_in_zone(name("router"), name("web.router")));
    EXPECT_FALSE(dns_name_in_zone(name("web.router"), DnsName{}));
}

// ---- parsing queries ------------------------------------------------------------------------

TEST(DnsQuery, DigQueryWithEdns) {
    const auto parsed = parse_query(dig_query_a);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed.value().id, 0xaf7f);
    EXPECT_TRUE(parsed.value().recursion_desired);
    EXPECT_EQ(text_of(parsed.value().question.name), "example.com");
    EXPECT_EQ(parsed.value().question.type, DnsType::a);
    EXPECT_EQ(parsed.value().question.qclass, dns_class_in);
    EXPECT_EQ(parsed.value().edns_payload_bytes, 1232);
}

TEST(DnsQuery, DigQueriesWithoutEdnsKeepTheirCase) {
    const auto a = parse_query(dig_query_a_noedns);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value().id, 0xf498);
    EXPECT_EQ(a.value().edns_payload_bytes, 0);
    const auto srv = parse_query(dig_query_srv);
    ASSERT_TRUE(srv.ok());
    EXPECT_EQ(srv.value().question.type, DnsType::srv);
    EXPECT_EQ(text_of(srv.value().question.name), "_http._tcp.Example.COM");
    EXPECT_TRUE(dns_names_equal(srv.value().question.name, name("_http._tcp.example.com")));
}

TEST(DnsQuery, OtherTypesAndClassesParseForTheCallerToJudge) {
    Bytes bytes = query_bytes(7, 0, "version.bind", 16);
    bytes[bytes.size() - 1] = 3;  // CH
    const auto parsed = parse_query(bytes);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(static_cast<std::uint16_t>(parsed.value().question.type), 16);
    EXPECT_EQ(parsed.value().question.qclass, 3);
    EXPECT_FALSE(parsed.value().recursion_desired);
}

TEST(DnsQuery, ShortMessagesAndResponsesAreNotAnswered) {
    for (std::size_t length = 0; length < dns_header_bytes; ++length) {
        const auto prefix = std::span(dig_query_a_noedns).first(length);
        EXPECT_EQ(error_of(parse_query(prefix)), Errc::malformed);
        EXPECT_FALSE(refusal_rcode(prefix).has_value());
    }
    Bytes response = dig_query_a_noedns;
    response[2] |= 0x80;  // QR
    EXPECT_EQ(error_of(parse_query(response)), Errc::malformed);
    EXPECT_FALSE(refusal_rcode(response).has_value());
}

TEST(DnsQuery, OtherOpcodesAreNotImplemented) {
    for (const std::uint8_t opcode : {1, 2, 4, 5, 15}) {  // IQUERY, STATUS, NOTIFY, UPDATE...
        Bytes bytes = dig_query_a_noedns;
        bytes[2] = static_cast<std::uint8_t>(bytes[2] | opcode << 3);
        EXPECT_EQ(error_of(parse_query(bytes)), Errc::unsupported);
        EXPECT_EQ(refusal_rcode(bytes), DnsRcode::notimp);
    }
}

TEST(DnsQuery, QuestionCountsOtherThanOneAreFormatErrors) {
    for (const std::uint16_t count : {0, 2, 0xffff}) {
        Bytes bytes = dig_query_a_noedns;
        bytes[4] = static_cast<std::uint8_t>(count >> 8);
        bytes[5] = static_cast<std::uint8_t>(count);
        EXPECT_EQ(error_of(parse_query(bytes)), Errc::malformed) << count;
        EXPECT_EQ(refusal_rcode(bytes), DnsRcode::formerr);
    }
    // Two whole questions are still two.
    Bytes two = header(1, 0, 2, 0);
    for (int i = 0; i < 2; ++i) {
        put_name(two, "a.example");
        put16(two, 1);
        put16(two, 1);
    }
    EXPECT_EQ(error_of(parse_query(two)), Errc::malformed);
}

TEST(DnsQuery, AnswerAuthorityAndTooManyAdditionalRecordsAreFormatErrors) {
    for (const std::size_t count_at : {7u, 9u}) {  // ANCOUNT, NSCOUNT
        Bytes bytes = dig_query_a_noedns;
        bytes[count_at] = 1;
        EXPECT_EQ(error_of(parse_query(bytes)), Errc::malformed);
        EXPECT_EQ(refusal_rcode(bytes), DnsRcode::formerr);
    }
    Bytes bytes = dig_query_a_noedns;
    bytes[11] = static_cast<std::uint8_t>(max_dns_query_additional + 1);
    EXPECT_EQ(error_of(parse_query(bytes)), Errc::malformed);
}

TEST(DnsQuery, EveryTruncationAndTrailingBytesAreFormatErrors) {
    for (const Bytes& whole : {dig_query_a, dig_query_a_noedns, dig_query_srv}) {
        for (std::size_t length = dns_header_bytes; length < whole.size(); ++length) {
            const auto prefix = std::span(whole).first(length);
            EXPECT_EQ(error_of(parse_query(prefix)), Errc::malformed) << length;
            EXPECT_EQ(refusal_rcode(prefix), DnsRcode::formerr);
        }
        Bytes longer = whole;
        longer.push_back(0);
        EXPECT_EQ(error_of(parse_query(longer)), Errc::malformed);
    }
}

TEST(DnsQuery, TwoOptRecordsOrAnOptNotAtTheRootAreFormatErrors) {
    const Bytes opt = from_hex("0000290200000000000000");  // root, OPT, 512, no options
    Bytes two = dig_query_a_noedns;
    two[11] = 2;
    two.insert(two.end(), opt.begin(), opt.end());
    two.insert(two.end(), opt.begin(), opt.end());
    EXPECT_EQ(error_of(parse_query(two)), Errc::malformed);
    Bytes owned = dig_query_a_noedns;
    owned[11] = 1;
    owned.insert(owned.end(), {0xc0, 0x0c});  // owned by the question's name
    owned.insert(owned.end(), opt.begin() + 1, opt.end());
    EXPECT_EQ(error_of(parse_query(owned)), Errc::malformed);
    Bytes one = dig_query_a_noedns;
    one[11] = 1;
    one.insert(one.end(), opt.begin(), opt.end());
    ASSERT_TRUE(parse_query(one).ok());
    EXPECT_EQ(parse_query(one).value().edns_payload_bytes, 512);
}

TEST(DnsQuery, LabelsOver63AndNamesOver255AreFormatErrors) {
    // Length bytes 0x40..0xbf are the extended label types RFC 6891 retired: malformed.
    for (const std::uint8_t length : {64, 0x7f, 0x80, 0xbf}) {
        Bytes bytes = header(1, 0, 1, 0);
        bytes.push_back(length);
        bytes.insert(bytes.end(), length & 0x3f, 'a');
        bytes.push_back(0);
        put16(bytes, 1);
        put16(bytes, 1);
        EXPECT_EQ(error_of(parse_query(bytes)), Errc::malformed) << int(length);
    }
    // Four labels of 63: 257 bytes on the wire. Three of 63 and one of 61: exactly 255.
    for (const std::size_t last : {63u, 61u}) {
        Bytes bytes = header(1, 0, 1, 0);
        for (int i = 0; i < 4; ++i) {
            const std::size_t length = i < 3 ? 63 : last;
            bytes.push_back(static_cast<std::uint8_t>(length));
            bytes.insert(bytes.end(), length, 'a');
        }
        bytes.push_back(0);
        put16(bytes, 1);
        put16(bytes, 1);
        EXPECT_EQ(parse_query(bytes).ok(), last == 61) << last;
    }
}

TEST(DnsQuery, CompressionInTheQuestionCanOnlyPointIntoTheHeaderOrItself) {
    // The question is the first name: any pointer in it points at itself, later or into the
    // header.
    for (const std::uint16_t pointer : {0xc00c, 0xc000, 0xc006, 0xc00e, 0xc0ff, 0xffff}) {
        Bytes bytes = header(1, 0, 1, 0);
        bytes.push_back(1);
        bytes.push_back('a');
        put16(bytes, pointer);
        put16(bytes, 1);
        put16(bytes, 1);
        EXPECT_EQ(error_of(parse_query(bytes)), Errc::malformed) << std::hex << pointer;
    }
}

// An additional record whose owner is a chain of `hops` pointers back to the question.
Bytes query_with_pointer_chain(std::size_t hops) {
    Bytes bytes = dig_query_a_noedns;
    bytes[11] = 2;
    // First record: type 99 whose data holds the chain; pointers inside data are not read.
    bytes.insert(bytes.end(), {0xc0, 0x0c});
    const std::size_t chain_links = hops - 1;
    Bytes chain;
    const std::size_t data_start = bytes.size() + 10;
    for (std::size_t i = 0; i < chain_links; ++i) {
        const std::uint16_t target = i == 0 ? 0x0c : static_cast<std::uint16_t>(data_start + 2 * (i - 1));
        put16(chain, static_cast<std::uint16_t>(0xc000 | target));
    }
    put_record_tail(bytes, 99, 0, chain);
    // Second record: its owner points at the last link.
    const std::uint16_t last = chain_links == 0 ? 0x0c : static_cast<std::uint16_t>(data_start + 2 * (chain_links - 1));
    put16(bytes, static_cast<std::uint16_t>(0xc000 | last));
    put_record_tail(bytes, 99, 0, {});
    return bytes;
}

TEST(DnsQuery, PointerChainsAreBoundedInHops) {
    EXPECT_TRUE(parse_query(query_with_pointer_chain(1)).ok());
    EXPECT_TRUE(parse_query(query_with_pointer_chain(max_dns_compression_hops)).ok());
    EXPECT_EQ(error_of(parse_query(query_with_pointer_chain(max_dns_compression_hops + 1))),
              Errc::malformed);
}

TEST(DnsQuery, PointerLoopsAndForwardPointersAreRefused) {
    // Record one's data: X = pointer to Y, Y = pointer to X; record two owned by X.
    Bytes loop = dig_query_a_noedns;
    loop[11] = 2;
    loop.insert(loop.end(), {0xc0, 0x0c});
    const std::uint16_t x = static_cast<std::uint16_t>(loop.size() + 10);
    Bytes data;
    put16(data, static_cast<std::uint16_t>(0xc000 | (x + 2)));
    put16(data, static_cast<std::uint16_t>(0xc000 | x));
    put_record_tail(loop, 99, 0, data);
    Bytes to_x = loop;
    put16(to_x, static_cast<std::uint16_t>(0xc000 | x));
    put_record_tail(to_x, 99, 0, {});
    EXPECT_EQ(error_of(parse_query(to_x)), Errc::malformed);
    Bytes to_y = loop;
    put16(to_y, static_cast<std::uint16_t>(0xc000 | (x + 2)));
    put_record_tail(to_y, 99, 0, {});
    EXPECT_EQ(error_of(parse_query(to_y)), Errc::malformed);
    // A name pointing at itself, and one pointing past the end.
    Bytes self = dig_query_a_noedns;
    self[11] = 1;
    put16(self, static_cast<std::uint16_t>(0xc000 | self.size()));
    put_record_tail(self, 99, 0, {});
    EXPECT_EQ(error_of(parse_query(self)), Errc::malformed);
    Bytes past_end = dig_query_a_noedns;
    past_end[11] = 1;
    put16(past_end, 0xc000 | 0x3fff);
    put_record_tail(past_end, 99, 0, {});
    EXPECT_EQ(error_of(parse_query(past_end)), Errc::malformed);
    // A pointer cut in half at the end of the message.
    Bytes half = dig_query_a_noedns;
    half[11] = 1;
    half.push_back(0xc0);
    EXPECT_EQ(error_of(parse_query(half)), Errc::malformed);
}

TEST(DnsQuery, AForwardPointerIsRefusedEvenToAWellFormedName) {
    // One additional record owned by a pointer to its own data, which holds the name "a".
    Bytes bytes = dig_query_a_noedns;
    bytes[11] = 1;
    const std::uint16_t data_at = static_cast<std::uint16_t>(bytes.size() + 2 + 10);
    put16(bytes, static_cast<std::uint16_t>(0xc000 | data_at));
    put_record_tail(bytes, 99, 0, {1, 'a', 0});
    EXPECT_EQ(error_of(parse_query(bytes)), Errc::malformed);
    // The same record owned by a backward pointer to the question parses.
    Bytes backward = dig_query_a_noedns;
    backward[11] = 1;
    put16(backward, 0xc00c);
    put_record_tail(backward, 99, 0, {1, 'a', 0});
    EXPECT_TRUE(parse_query(backward).ok());
}

TEST(DnsQuery, RefusalEchoesIdOpcodeAndRd) {
    std::array<std::uint8_t, dns_header_bytes> out{};
    ASSERT_EQ(encode_refusal(dig_query_a, DnsRcode::formerr, out).value(), dns_header_bytes);
    EXPECT_EQ(to_bytes(out), from_hex("af7f818100000000" "00000000"));
    Bytes notify = dig_query_a_noedns;
    notify[2] = 0x20;  // opcode 4, RD clear
    ASSERT_TRUE(encode_refusal(notify, DnsRcode::notimp, out).ok());
    EXPECT_EQ(to_bytes(out), from_hex("f498a08400000000" "00000000"));
    EXPECT_EQ(error_of(encode_refusal(std::span(notify).first(11), DnsRcode::formerr, out)),
              Errc::invalid_argument);
    EXPECT_EQ(error_of(encode_refusal(notify, DnsRcode::formerr, std::span(out).first(11))),
              Errc::no_space);
}

// ---- building responses ---------------------------------------------------------------------

DnsRecord a_record(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    DnsRecord record;
    record.type = DnsType::a;
    record.address = net::IpAddress::v4(a, b, c, d);
    return record;
}

DnsRecord aaaa_record(std::string_view text) {
    DnsRecord record;
    record.type = DnsType::aaaa;
    record.address = net::parse_address(text).value();
    return record;
}

DnsRecord srv_record(std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
                     std::string_view target) {
    DnsRecord record;
    record.type = DnsType::srv;
    record.srv = {priority, weight, port, name(target)};
    return record;
}

Bytes respond(const DnsQuery& query, const DnsResponse& response, std::size_t limit = max_udp_dns_bytes) {
    std::array<std::uint8_t, 1024> out{};
    const auto length = encode_response(query, response, limit, out);
    EXPECT_TRUE(length.ok());
    return length.ok() ? to_bytes(std::span(out).first(length.value())) : Bytes{};
}

TEST(DnsResponse, AnswersDigWithAnARecord) {
    const DnsQuery query = parse_query(dig_query_a_noedns).value();
    const DnsRecord answers[] = {a_record(192, 0, 2, 80)};
    const Bytes bytes = respond(query, {.rcode = DnsRcode::noerror, .authoritative = false,
                                        .ttl = 60, .answers = answers});
    // ID echoed; QR RD RA; the question letter for letter; the answer points at it.
    EXPECT_EQ(bytes, from_hex("f498818000010001000000000765" "78616d706c6503636f6d0000010001"
                              "c00c00010001" "0000003c0004c0000250"));
    const auto answer = parse_response(bytes, 0xf498, query.question);
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer.value().rcode, DnsRcode::noerror);
    EXPECT_FALSE(answer.value().authoritative);
    ASSERT_EQ(answer.value().addresses.size(), 1u);
    EXPECT_EQ(answer.value().addresses[0], net::IpAddress::v4(192, 0, 2, 80));
    EXPECT_EQ(answer.value().min_ttl, 60u);
}

TEST(DnsResponse, AuthoritativeAaaaAnswersWithoutRd) {
    Bytes query_wire = query_bytes(0x1234, 0, "Web.Router", static_cast<std::uint16_t>(DnsType::aaaa));
    const DnsQuery query = parse_query(query_wire).value();
    const DnsRecord answers[] = {aaaa_record("fd7a:7069:6e68::1"), aaaa_record("2001:db8::2")};
    const Bytes bytes = respond(query, {.rcode = DnsRcode::noerror, .authoritative = true,
                                        .ttl = 300, .answers = answers});
    EXPECT_EQ(bytes[2], 0x84);  // QR AA, RD clear as asked
    EXPECT_EQ(bytes[3], 0x80);  // RA, NOERROR
    // The question comes back as asked: "Web.Router", not lowercased.
    EXPECT_EQ(Bytes(bytes.begin() + 12, bytes.begin() + 24), from_hex("03576562" "06526f75746572" "00"));
    const auto answer = parse_response(bytes, 0x1234, question("web.router", DnsType::aaaa));
    ASSERT_TRUE(answer.ok());
    EXPECT_TRUE(answer.value().authoritative);
    ASSERT_EQ(answer.value().addresses.size(), 2u);
    EXPECT_EQ(answer.value().addresses[1], net::parse_address("2001:db8::2").value());
    EXPECT_EQ(answer.value().min_ttl, 300u);
}

TEST(DnsResponse, SrvAnswersForTheDigQuery) {
    const DnsQuery query = parse_query(dig_query_srv).value();
    const DnsRecord answers[] = {srv_record(10, 5, 8080, "router.pinhole"),
                                 srv_record(20, 0, 80, "backup.pinhole")};
    const Bytes bytes = respond(query, {.rcode = DnsRcode::noerror, .authoritative = true,
                                        .ttl = 30, .answers = answers});
    const auto answer = parse_response(bytes, 0x50db, query.question);
    ASSERT_TRUE(answer.ok());
    ASSERT_EQ(answer.value().services.size(), 2u);
    EXPECT_EQ(answer.value().services[0].priority, 10);
    EXPECT_EQ(answer.value().services[0].weight, 5);
    EXPECT_EQ(answer.value().services[0].port, 8080);
    EXPECT_EQ(text_of(answer.value().services[0].target), "router.pinhole");
    EXPECT_EQ(text_of(answer.value().services[1].target), "backup.pinhole");
    EXPECT_TRUE(answer.value().addresses.empty());
    // The target is written uncompressed (RFC 2782) right after priority, weight and port.
    const Bytes first_data = from_hex("000a00051f90" "06726f75746572" "0770696e686f6c65" "00");
    EXPECT_NE(std::search(bytes.begin(), bytes.end(), first_data.begin(), first_data.end()),
              bytes.end());
}

TEST(DnsResponse, EveryRcodeWithoutAnswers) {
    const DnsQuery query = parse_query(dig_query_a).value();
    for (const DnsRcode rcode : {DnsRcode::noerror, DnsRcode::formerr, DnsRcode::servfail,
                                 DnsRcode::nxdomain, DnsRcode::notimp, DnsRcode::refused}) {
        const Bytes bytes = respond(query, {.rcode = rcode, .answers = {}});
        ASSERT_EQ(bytes.size(), dns_header_bytes + 13 + 4);
        EXPECT_EQ(bytes[3], 0x80 | static_cast<std::uint8_t>(rcode));
        EXPECT_EQ(bytes[7], 0);  // ANCOUNT
        EXPECT_EQ(bytes[11], 0);  // no OPT answered: we do not speak EDNS
        const auto answer = parse_response(bytes, 0xaf7f, query.question);
        ASSERT_TRUE(answer.ok());
        EXPECT_EQ(answer.value().rcode, rcode);
        EXPECT_STRNE(describe(rcode), "unknown rcode");
    }
    EXPECT_STREQ(describe(DnsRcode::nxdomain), "no such name");
    EXPECT_STREQ(describe(static_cast<DnsRcode>(9)), "unknown rcode");
}

TEST(DnsResponse, AnswersThatDoNotFitSetTcAndAreLeftOut) {
    const DnsQuery query = parse_query(dig_query_a_noedns).value();
    // 12 + 17 + n * 16 bytes: 30 answers take 509 bytes, 31 take 525.
    std::vector<DnsRecord> answers;
    for (int i = 0; i < 31; ++i) answers.push_back(a_record(10, 0, 0, static_cast<std::uint8_t>(i)));
    const Bytes fits = respond(query, {.ttl = 5, .answers = std::span(answers).first(30)});
    EXPECT_EQ(fits.size(), 509u);
    EXPECT_EQ(fits[2] & 0x02, 0);
    const Bytes truncated = respond(query, {.ttl = 5, .answers = answers});
    EXPECT_EQ(truncated.size(), 29u);
    EXPECT_EQ(truncated[2] & 0x02, 0x02);
    EXPECT_EQ(truncated[7], 0);
    const auto answer = parse_response(truncated, 0xf498, query.question);
    ASSERT_TRUE(answer.ok());
    EXPECT_TRUE(answer.value().truncated);
    EXPECT_TRUE(answer.value().addresses.empty());
    // Over TCP the same answers fit; the client keeps the first max_dns_addresses.
    const Bytes over_tcp = respond(query, {.ttl = 5, .answers = answers}, max_tcp_dns_bytes);
    EXPECT_EQ(over_tcp.size(), 525u);
    const auto full = parse_response(over_tcp, 0xf498, query.question);
    ASSERT_TRUE(full.ok());
    EXPECT_FALSE(full.value().truncated);
    ASSERT_EQ(full.value().addresses.size(), max_dns_addresses);
    EXPECT_EQ(full.value().addresses[7], net::IpAddress::v4(10, 0, 0, 7));
    // A smaller buffer than the limit truncates the same way.
    std::array<std::uint8_t, 100> small{};
    const auto length = encode_response(query, {.ttl = 5, .answers = answers}, max_tcp_dns_bytes, small);
    ASSERT_TRUE(length.ok());
    EXPECT_EQ(length.value(), 29u);
}

TEST(DnsResponse, RefusesWhatItCannotSayOrFit) {
    const DnsQuery query = parse_query(dig_query_a_noedns).value();
    std::array<std::uint8_t, 512> out{};
    const auto error_for = [&](const DnsResponse& response) {
        return error_of(encode_response(query, response, max_udp_dns_bytes, out));
    };
    const DnsRecord v6_as_a[] = {[] {
        DnsRecord record = aaaa_record("::1");
        record.type = DnsType::a;
        return record;
    }()};
    EXPECT_EQ(error_for({.answers = v6_as_a}), Errc::invalid_argument);
    const DnsRecord v4_as_aaaa[] = {[] {
        DnsRecord record = a_record(1, 2, 3, 4);
        record.type = DnsType::aaaa;
        return record;
    }()};
    EXPECT_EQ(error_for({.answers = v4_as_aaaa}), Errc::invalid_argument);
    DnsRecord no_target;
    no_target.type = DnsType::srv;
    const DnsRecord no_target_list[] = {no_target};
    EXPECT_EQ(error_for({.answers = no_target_list}), Errc::invalid_argument);
    DnsRecord cname;
    cname.type = DnsType::cname;
    const DnsRecord cname_list[] = {cname};
    EXPECT_EQ(error_for({.answers = cname_list}), Errc::invalid_argument);
    const DnsRecord one[] = {a_record(1, 2, 3, 4)};
    EXPECT_EQ(error_for({.rcode = DnsRcode::nxdomain, .answers = one}), Errc::invalid_argument);
    EXPECT_EQ(error_for({.ttl = max_dns_ttl + 1, .answers = one}), Errc::invalid_argument);
    EXPECT_EQ(error_for({.rcode = static_cast<DnsRcode>(16), .answers = {}}), Errc::invalid_argument);
    EXPECT_TRUE(encode_response(query, {.ttl = max_dns_ttl, .answers = one}, 512, out).ok());
    // Even the question does not fit: 29 bytes.
    EXPECT_EQ(error_of(encode_response(query, {}, 28, out)), Errc::no_space);
    EXPECT_TRUE(encode_response(query, {}, 29, out).ok());
    EXPECT_EQ(error_of(encode_response(DnsQuery{}, {}, 512, out)), Errc::invalid_argument);
}

// ---- TCP framing ----------------------------------------------------------------------------

TEST(DnsTcp, LengthPrefix) {
    EXPECT_EQ(error_of(next_dns_tcp_message_bytes(Bytes{})), Errc::would_block);
    EXPECT_EQ(error_of(next_dns_tcp_message_bytes(Bytes{0})), Errc::would_block);
    EXPECT_EQ(error_of(next_dns_tcp_message_bytes(Bytes{0, 0})), Errc::malformed);
    EXPECT_EQ(error_of(next_dns_tcp_message_bytes(Bytes{0, 11})), Errc::malformed);
    EXPECT_EQ(next_dns_tcp_message_bytes(Bytes{0, 12}).value(), 12u);
    EXPECT_EQ(next_dns_tcp_message_bytes(Bytes{0xff, 0xff, 1}).value(), 65535u);
    std::array<std::uint8_t, 2> out{};
    ASSERT_EQ(encode_dns_tcp_length(512, out).value(), 2u);
    EXPECT_EQ(to_bytes(out), (Bytes{2, 0}));
    EXPECT_EQ(error_of(encode_dns_tcp_length(11, out)), Errc::invalid_argument);
    EXPECT_EQ(error_of(encode_dns_tcp_length(65536, out)), Errc::invalid_argument);
    EXPECT_EQ(error_of(encode_dns_tcp_length(12, std::span(out).first(1))), Errc::no_space);
}

TEST(DnsTcp, ResponseFramedInPlace) {
    const DnsQuery query = parse_query(dig_query_srv).value();
    const DnsRecord answers[] = {srv_record(0, 0, 22, "router")};
    std::array<std::uint8_t, 2 + 512> out{};
    const auto length =
        encode_response(query, {.answers = answers}, max_tcp_dns_bytes, std::span(out).subspan(2));
    ASSERT_TRUE(length.ok());
    ASSERT_TRUE(encode_dns_tcp_length(length.value(), out).ok());
    const auto framed = next_dns_tcp_message_bytes(out);
    ASSERT_TRUE(framed.ok());
    ASSERT_EQ(framed.value(), length.value());
    EXPECT_TRUE(parse_response(std::span(out).subspan(2, framed.value()), 0x50db, query.question).ok());
}

// ---- the client side ------------------------------------------------------------------------

TEST(DnsClient, QueryMatchesDigsBytesButForTheAdFlag) {
    std::array<std::uint8_t, 512> out{};
    const auto length = encode_query(0xf498, question("example.com", DnsType::a), true, out);
    ASSERT_TRUE(length.ok());
    Bytes expected = dig_query_a_noedns;
    expected[3] = 0x00;  // dig also sets AD (RFC 6840 §5.7); we ask for plain answers
    EXPECT_EQ(to_bytes(std::span(out).first(length.value())), expected);
    const auto parsed = parse_query(std::span(out).first(length.value()));
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(parsed.value().recursion_desired);
    EXPECT_EQ(error_of(encode_query(1, DnsQuestion{}, true, out)), Errc::invalid_argument);
    EXPECT_EQ(error_of(encode_query(1, question("example.com", DnsType::a), true,
                                    std::span(out).first(28))),
              Errc::no_space);
}

// A recursive resolver's answer for www.github.com A, built the way BIND and Unbound write
// them: a CNAME to github.com (its target compressed into the question), the A record owned by
// that target, an RRSIG for the A (skipped), an A record for another name (skipped), and an
// authority SOA that is never read.
Bytes cname_chain_response() {
    Bytes bytes = header(0x3456, 0x8180, 1, 4, 1, 0);
    put_name(bytes, "www.github.com");  // at 12; "github.com" at 16
    put16(bytes, 1);
    put16(bytes, 1);
    bytes.insert(bytes.end(), {0xc0, 0x0c});
    put_record_tail(bytes, static_cast<std::uint16_t>(DnsType::cname), 3600, {0xc0, 0x10});
    bytes.insert(bytes.end(), {0xc0, 0x10});
    put_record_tail(bytes, 1, 60, {140, 82, 121, 4});
    bytes.insert(bytes.end(), {0xc0, 0x10});
    put_record_tail(bytes, 46, 60, Bytes(20, 0x77));  // RRSIG
    put_name(bytes, "evil.example");
    put_record_tail(bytes, 1, 60, {6, 6, 6, 6});
    bytes.insert(bytes.end(), {0xc0, 0x10});
    put_record_tail(bytes, 6, 900, Bytes(30, 0));  // SOA, not read
    return bytes;
}

TEST(DnsClient, FollowsCnamesAndSkipsWhatItDidNotAsk) {
    const Bytes bytes = cname_chain_response();
    const auto answer = parse_response(bytes, 0x3456, question("WWW.github.com", DnsType::a));
    ASSERT_TRUE(answer.ok());
    ASSERT_EQ(answer.value().addresses.size(), 1u);
    EXPECT_EQ(answer.value().addresses[0], net::IpAddress::v4(140, 82, 121, 4));
    EXPECT_EQ(answer.value().min_ttl, 60u);
}

TEST(DnsClient, EveryTruncatedRecordIsMalformed) {
    const Bytes bytes = cname_chain_response();
    const std::size_t answers_end = bytes.size() - (2 + 10 + 30);  // before the SOA
    for (std::size_t length = 0; length < answers_end; ++length) {
        EXPECT_EQ(error_of(parse_response(std::span(bytes).first(length), 0x3456,
                                          question("www.github.com", DnsType::a))),
                  Errc::malformed)
            << length;
    }
    // The authority section is not read, so cutting it costs nothing.
    EXPECT_TRUE(parse_response(std::span(bytes).first(answers_end), 0x3456,
                               question("www.github.com", DnsType::a))
                    .ok());
}

TEST(DnsClient, CnameLoopsEndWithTheRecords) {
    Bytes bytes = header(9, 0x8180, 1, 3);
    put_name(bytes, "a.test");  // at 12; "test" at 14
    put16(bytes, 1);
    put16(bytes, 1);
    bytes.insert(bytes.end(), {0xc0, 0x0c});
    Bytes to_b;
    put_name(to_b, "b.test");
    put_record_tail(bytes, 5, 10, to_b);
    put_name(bytes, "b.test");
    Bytes to_a;
    put_name(to_a, "a.test");
    put_record_tail(bytes, 5, 10, to_a);
    bytes.insert(bytes.end(), {0xc0, 0x0c});
    put_record_tail(bytes, 1, 10, {1, 1, 1, 1});
    const auto answer = parse_response(bytes, 9, question("a.test", DnsType::a));
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer.value().addresses.size(), 1u);  // a -> b -> a, then a's A record
}

TEST(DnsClient, NotOurAnswerIsNotFound) {
    const Bytes bytes = cname_chain_response();
    EXPECT_EQ(error_of(parse_response(bytes, 0x3457, question("www.github.com", DnsType::a))),
              Errc::not_found);
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, question("github.com", DnsType::a))),
              Errc::not_found);
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, question("www.github.com", DnsType::aaaa))),
              Errc::not_found);
    DnsQuestion chaos = question("www.github.com", DnsType::a);
    chaos.qclass = 3;
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, chaos)), Errc::not_found);
}

TEST(DnsClient, QueriesAndOtherOpcodesAreNotResponses) {
    Bytes bytes = cname_chain_response();
    bytes[2] &= 0x7f;  // QR clear
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, question("www.github.com", DnsType::a))),
              Errc::malformed);
    bytes = cname_chain_response();
    bytes[2] |= 0x10;  // opcode 2
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, question("www.github.com", DnsType::a))),
              Errc::malformed);
    bytes = cname_chain_response();
    bytes[5] = 2;  // QDCOUNT 2
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, question("www.github.com", DnsType::a))),
              Errc::malformed);
    bytes[5] = 0;  // no question with NOERROR: nothing to check it against
    EXPECT_EQ(error_of(parse_response(bytes, 0x3456, question("www.github.com", DnsType::a))),
              Errc::malformed);
}

TEST(DnsClient, RefusalsWithoutAQuestionAreAnswers) {
    std::array<std::uint8_t, dns_header_bytes> out{};
    ASSERT_TRUE(encode_refusal(dig_query_a, DnsRcode::formerr, out).ok());
    const auto answer = parse_response(out, 0xaf7f, question("example.com", DnsType::a));
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer.value().rcode, DnsRcode::formerr);
    EXPECT_TRUE(answer.value().addresses.empty());
}

// One answer record for "x.test" (question at 12) with the given type and data.
Bytes single_answer(std::uint16_t asked_type, std::uint16_t type, const Bytes& data,
                    std::uint32_t ttl = 100) {
    Bytes bytes = header(5, 0x8180, 1, 1);
    put_name(bytes, "x.test");
    put16(bytes, asked_type);
    put16(bytes, 1);
    bytes.insert(bytes.end(), {0xc0, 0x0c});
    put_record_tail(bytes, type, ttl, data);
    return bytes;
}

TEST(DnsClient, RecordDataOfTheWrongLengthIsMalformed) {
    const auto parse = [](const Bytes& bytes, DnsType type) {
        return error_of(parse_response(bytes, 5, question("x.test", type)));
    };
    EXPECT_EQ(parse(single_answer(1, 1, {1, 2, 3, 4}), DnsType::a), Errc::ok);
    EXPECT_EQ(parse(single_answer(1, 1, {1, 2, 3}), DnsType::a), Errc::malformed);
    EXPECT_EQ(parse(single_answer(1, 1, {1, 2, 3, 4, 5}), DnsType::a), Errc::malformed);
    EXPECT_EQ(parse(single_answer(28, 28, Bytes(16, 1)), DnsType::aaaa), Errc::ok);
    EXPECT_EQ(parse(single_answer(28, 28, Bytes(4, 1)), DnsType::aaaa), Errc::malformed);
    Bytes srv = {0, 1, 0, 2, 0, 3};
    put_name(srv, "t.test");
    EXPECT_EQ(parse(single_answer(33, 33, srv), DnsType::srv), Errc::ok);
    EXPECT_EQ(parse(single_answer(33, 33, Bytes(srv.begin(), srv.begin() + 5)), DnsType::srv),
              Errc::malformed);
    EXPECT_EQ(parse(single_answer(33, 33, Bytes(srv.begin(), srv.end() - 1)), DnsType::srv),
              Errc::malformed);
    Bytes srv_with_extra = srv;
    srv_with_extra.push_back(0);
    EXPECT_EQ(parse(single_answer(33, 33, srv_with_extra), DnsType::srv), Errc::malformed);
    // An SRV target compressed against the question (RFC 2782 says not to; servers do).
    const Bytes compressed = {0, 1, 0, 2, 0, 3, 0xc0, 0x0c};
    const auto answer = parse_response(single_answer(33, 33, compressed), 5, question("x.test", DnsType::srv));
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(text_of(answer.value().services[0].target), "x.test");
    // An A record answering an AAAA question, or an unknown type: skipped, not malformed.
    EXPECT_EQ(parse(single_answer(28, 1, {1, 2, 3}), DnsType::aaaa), Errc::ok);
    EXPECT_EQ(parse(single_answer(1, 99, {}), DnsType::a), Errc::ok);
}

TEST(DnsClient, RecordsOfAnErrorResponseAreNotTaken) {
    for (const std::uint8_t rcode : {2, 3, 5, 13}) {
        Bytes bytes = single_answer(1, 1, {1, 2, 3, 4});
        bytes[3] = static_cast<std::uint8_t>(0x80 | rcode);
        const auto answer = parse_response(bytes, 5, question("x.test", DnsType::a));
        ASSERT_TRUE(answer.ok());
        EXPECT_EQ(static_cast<std::uint8_t>(answer.value().rcode), rcode);
        EXPECT_TRUE(answer.value().addresses.empty());
    }
}

TEST(DnsClient, TtlsWithTheTopBitSetReadAsZero) {
    const auto answer = parse_response(single_answer(1, 1, {1, 2, 3, 4}, 0x80000000u), 5,
                                       question("x.test", DnsType::a));
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer.value().min_ttl, 0u);
}

TEST(DnsClient, ShortRecordHeadersAndOversizedLengthsAreMalformed) {
    Bytes bytes = single_answer(1, 1, {1, 2, 3, 4});
    bytes[bytes.size() - 5] = 5;  // RDLENGTH past the end
    EXPECT_EQ(error_of(parse_response(bytes, 5, question("x.test", DnsType::a))), Errc::malformed);
    bytes = single_answer(1, 1, {1, 2, 3, 4});
    bytes[7] = 2;  // ANCOUNT 2 with one record
    EXPECT_EQ(error_of(parse_response(bytes, 5, question("x.test", DnsType::a))), Errc::malformed);
}

}  // namespace
}  // namespace pinhole::overlay
