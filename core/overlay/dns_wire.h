// DNS messages (RFC 1035; AAAA RFC 3596; SRV RFC 2782) for the names an agent answers on its
// overlay address (DESIGN §1) and for the client side that asks them. Pure formats: no sockets,
// no state, nothing allocated; every name and list has a capacity fixed here.
//
// The responder answers standard queries (opcode QUERY, one question) about A, AAAA and SRV;
// its answers are owned by the question's name (a compression pointer to it), carry one TTL
// given by the caller, and are all sent or none: when they do not fit the size limit (512 for
// UDP, RFC 1035 §4.2.1) the response carries the question alone with TC set, and the client asks
// again over TCP (RFC 2181 §9: a partial RRset must not be taken for the whole). It does not
// speak EDNS: an OPT record in a query is read (edns_payload_bytes) but no OPT is answered, which
// RFC 6891 §7 lets a client read as "no EDNS here".
//
// Names are kept in their wire form, uncompressed, with the case they arrived in (a resolver
// checks its question comes back letter for letter); they compare case-insensitively. Parsing
// follows compression pointers only backwards, each strictly before the last one's target (so
// no chain can loop) and never into the header, at most max_dns_compression_hops of them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/net/address.h"
#include "core/util/fixed_vector.h"
#include "core/util/result.h"

namespace pinhole::overlay {

inline constexpr std::uint16_t dns_port = 53;
inline constexpr std::size_t dns_header_bytes = 12;
inline constexpr std::size_t max_dns_name_bytes = 255;       // wire form, root byte included
inline constexpr std::size_t max_dns_label_bytes = 63;
inline constexpr std::size_t max_dns_name_text_bytes = 254;  // 253 characters and a NUL
inline constexpr std::size_t max_udp_dns_bytes = 512;        // without EDNS
inline constexpr std::size_t max_tcp_dns_bytes = 65535;
inline constexpr std::size_t dns_tcp_length_bytes = 2;
inline constexpr std::size_t max_dns_compression_hops = 64;
// Records a query may carry in its additional section (an OPT, a TSIG...): read, then ignored.
inline constexpr std::size_t max_dns_query_additional = 4;
// What parse_response keeps of an answer; records past these are ignored.
inline constexpr std::size_t max_dns_addresses = 8;
inline constexpr std::size_t max_dns_srv_records = 4;
inline constexpr std::uint32_t max_dns_ttl = 0x7fffffff;     // RFC 2181 §8
inline constexpr std::uint16_t dns_class_in = 1;

// Record types by number; any other number may appear in a question or a skipped record.
enum class DnsType : std::uint16_t { a = 1, cname = 5, aaaa = 28, srv = 33, opt = 41, any = 255 };

enum class DnsRcode : std::uint8_t {
    noerror = 0,
    formerr = 1,
    servfail = 2,
    nxdomain = 3,
    notimp = 4,
    refused = 5,
};

// A name in wire form: length-prefixed labels, then the root's zero byte.
struct DnsName {
    std::array<std::uint8_t, max_dns_name_bytes> wire{};
    std::size_t length = 0;  // 0 before a name is set; the root alone is {0}, length 1

    [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept {
        return {wire.data(), length};
    }
};

struct DnsQuestion {
    DnsName name;
    DnsType type = DnsType::a;
    std::uint16_t qclass = dns_class_in;
};

struct DnsQuery {
    std::uint16_t id = 0;
    bool recursion_desired = false;
    DnsQuestion question;
    std::uint16_t edns_payload_bytes = 0;  // an OPT record's UDP size; 0 without one
};

struct SrvRecord {
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    std::uint16_t port = 0;
    DnsName target;  // sent uncompressed, as RFC 2782 asks
};

// One answer the responder gives about the question's name.
struct DnsRecord {
    DnsType type = DnsType::a;  // a, aaaa or srv
    net::IpAddress address;     // a: IPv4, aaaa: IPv6
    SrvRecord srv;              // srv
};

struct DnsResponse {
    DnsRcode rcode = DnsRcode::noerror;
    bool authoritative = false;  // AA: the agent's own names
    std::uint32_t ttl = 0;       // every answer's, 0..max_dns_ttl
    std::span<const DnsRecord> answers;
};

// What the client takes from a response: the records of the asked type owned by the asked name,
// or by a name a CNAME chain from it leads to, in the order sent.
struct DnsAnswer {
    DnsRcode rcode = DnsRcode::noerror;
    bool truncated = false;  // TC: nothing was read past the question; ask again over TCP
    bool authoritative = false;
    FixedVector<net::IpAddress, max_dns_addresses> addresses;  // a, aaaa
    FixedVector<SrvRecord, max_dns_srv_records> services;     // srv
    std::uint32_t min_ttl = 0;  // over the records kept and the CNAMEs followed; 0 if none
};

// ---- names ----------------------------------------------------------------------------------

// "example.com", "example.com." or "." for the root. Errc::malformed for an empty label, a
// label over 63 bytes, a name over 253 characters (trailing dot aside), a byte outside 0x21..0x7e.
[[nodiscard]] Result<DnsName> dns_name_from_text(std::string_view text) noexcept;
// Writes the name without a trailing dot ("." for the root) and a NUL, returns its length
// without the NUL. Errc::unsupported for a label holding '.' or a byte outside 0x21..0x7e (no
// plain text says it); Errc::no_space when `out` is too small (max_dns_name_text_bytes fits);
// Errc::invalid_argument for a name never set.
[[nodiscard]] Result<std::size_t> dns_name_to_text(const DnsName& name, std::span<char> out) noexcept;
// Equal ignoring ASCII case.
[[nodiscard]] bool dns_names_equal(const DnsName& a, const DnsName& b) noexcept;
// `name` is `zone` or below it ("web.router" is in "router"), label by label, ignoring case.
[[nodiscard]] bool dns_name_in_zone(const DnsName& name, const DnsName& zone) noexcept;

// ---- responder ------------------------------------------------------------------------------

// A standard query: QR clear, opcode QUERY, exactly one question, no answer or authority
// records, at most max_dns_query_additional additional ones, nothing after the last record.
// Errc::unsupported for another opcode; Errc::malformed for anything else refused.
[[nodiscard]] Result<DnsQuery> parse_query(std::span<const std::uint8_t> message) noexcept;
// For a message parse_query refused, the RCODE to answer with: nothing for a message shorter
// than a header or with QR set (answering a response could loop between two servers), notimp
// for another opcode, formerr for the rest.
[[nodiscard]] std::optional<DnsRcode> refusal_rcode(std::span<const std::uint8_t> message) noexcept;
// That answer: the query's ID, opcode and RD echoed, QR and RA set, no records, `rcode`.
// Errc::invalid_argument for a query shorter than a header.
[[nodiscard]] Result<std::size_t> encode_refusal(std::span<const std::uint8_t> query, DnsRcode rcode,
                                                 std::span<std::uint8_t> out) noexcept;

// The response to `query`: its ID, question (as asked, case included) and RD echoed, QR and RA
// set, AA as `response` says, the answers, or TC and none when they would take the message past
// min(size_limit, out.size()). Errc::no_space when even the question does not fit;
// Errc::invalid_argument for answers with an RCODE other than noerror, an A record without an
// IPv4 address, an AAAA without an IPv6 one, an SRV without a target, another type, a TTL over
// max_dns_ttl or more than 65535 answers.
[[nodiscard]] Result<std::size_t> encode_response(const DnsQuery& query, const DnsResponse& response,
                                                  std::size_t size_limit,
                                                  std::span<std::uint8_t> out) noexcept;

// ---- TCP (RFC 1035 §4.2.2): each message follows its length as a u16 BE ----------------------

// The length of the next message once its prefix is buffered; the caller waits for
// dns_tcp_length_bytes + that many bytes. Errc::would_block with fewer than 2 bytes,
// Errc::malformed for a length shorter than a header (0 included).
[[nodiscard]] Result<std::size_t> next_dns_tcp_message_bytes(
    std::span<const std::uint8_t> buffered) noexcept;
// Writes the prefix for a message of `message_bytes` (dns_header_bytes..max_tcp_dns_bytes, else
// Errc::invalid_argument); the message itself goes right after it.
[[nodiscard]] Result<std::size_t> encode_dns_tcp_length(std::size_t message_bytes,
                                                        std::span<std::uint8_t> out) noexcept;

// ---- client ---------------------------------------------------------------------------------

// A standard query with one question; RD as asked. Errc::invalid_argument for a name never set.
[[nodiscard]] Result<std::size_t> encode_query(std::uint16_t id, const DnsQuestion& question,
                                               bool recursion_desired,
                                               std::span<std::uint8_t> out) noexcept;
// The answer to the query with `id` and `asked`. Errc::not_found for a message that is not
// that answer (another ID, another question: keep waiting); Errc::malformed for a message that
// is not a well-formed response (QR clear, another opcode, a record cut short, an A record
// whose data is not 4 bytes...). A response with an error RCODE and no question is accepted as
// the server's refusal. Records are read only from a NOERROR response without TC (an error's
// or a cut answer's records are not to be trusted); authority and additional records are not
// read; records of other types or classes, or owned by other names, are skipped.
[[nodiscard]] Result<DnsAnswer> parse_response(std::span<const std::uint8_t> message,
                                               std::uint16_t id, const DnsQuestion& asked) noexcept;

// A short English phrase for logs ("no such name"); "unknown rcode" for codes not listed.
[[nodiscard]] const char* describe(DnsRcode rcode) noexcept;

}  // namespace pinhole::overlay
