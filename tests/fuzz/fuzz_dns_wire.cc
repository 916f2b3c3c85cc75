// Any bytes given to the DNS parsers: nothing crashes, every refusal is one of the documented
// errors and gets the documented answer; a parsed query re-encodes to one that parses the same,
// and the response built for it parses back to the answers put in; a parsed response re-encodes
// to one that parses to the same records; names that have a text form survive it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/overlay/dns_wire.h"

namespace {

using namespace pinhole::overlay;
using pinhole::Errc;
using Bytes = std::span<const std::uint8_t>;

bool identical(const DnsName& a, const DnsName& b) {
    return a.length == b.length && std::equal(a.wire.begin(), a.wire.begin() + a.length, b.wire.begin());
}

void check_name_text(const DnsName& name) {
    std::array<char, max_dns_name_text_bytes> text{};
    const auto length = dns_name_to_text(name, text);
    if (!length.ok()) {
        if (length.error() != Errc::unsupported) __builtin_trap();
        return;
    }
    const auto again = dns_name_from_text({text.data(), length.value()});
    if (!again.ok() || !identical(again.value(), name)) __builtin_trap();
    if (!dns_name_in_zone(name, name) || !dns_names_equal(name, again.value())) __builtin_trap();
}

void check_refusal(Bytes bytes, Errc error) {
    const auto rcode = refusal_rcode(bytes);
    if (error == Errc::unsupported && rcode != DnsRcode::notimp) __builtin_trap();
    if (error != Errc::unsupported && error != Errc::malformed) __builtin_trap();
    if (error == Errc::malformed && rcode == DnsRcode::notimp) __builtin_trap();
    if (!rcode) return;
    std::array<std::uint8_t, dns_header_bytes> out{};
    const auto length = encode_refusal(bytes, *rcode, out);
    if (!length.ok()) __builtin_trap();
    const std::uint16_t id = static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
    const auto answer = parse_response(out, id, DnsQuestion{});
    // Another opcode is echoed, which a client reading QUERY responses refuses.
    if (*rcode == DnsRcode::formerr && (!answer.ok() || answer.value().rcode != *rcode)) {
        __builtin_trap();
    }
}

// The answers the responder would give: one record of the asked type, if it is one it knows.
std::size_t answers_for(const DnsQuestion& question, std::array<DnsRecord, 1>& records) {
    DnsRecord& record = records[0];
    record.type = question.type;
    switch (question.type) {
        case DnsType::a: record.address = pinhole::net::IpAddress::v4(192, 0, 2, 1); return 1;
        case DnsType::aaaa: record.address = pinhole::net::parse_address("2001:db8::1").value(); return 1;
        case DnsType::srv: record.srv = {1, 2, 3, question.name}; return 1;
        default: return 0;
    }
}

void check_response_to(const DnsQuery& query) {
    std::array<DnsRecord, 1> records{};
    const std::size_t count = answers_for(query.question, records);
    const DnsResponse response{.rcode = DnsRcode::noerror, .authoritative = true, .ttl = 60,
                               .answers = std::span(records).first(count)};
    std::array<std::uint8_t, max_udp_dns_bytes> out{};
    const auto length = encode_response(query, response, max_udp_dns_bytes, out);
    if (!length.ok()) __builtin_trap();
    const auto answer = parse_response(std::span(out).first(length.value()), query.id, query.question);
    if (!answer.ok() || answer.value().rcode != DnsRcode::noerror) __builtin_trap();
    if (answer.value().truncated) return;
    const std::size_t kept = answer.value().addresses.size() + answer.value().services.size();
    if (kept != count || (count == 1 && answer.value().min_ttl != 60)) __builtin_trap();
}

void check_query(Bytes bytes) {
    const auto query = parse_query(bytes);
    if (!query.ok()) return check_refusal(bytes, query.error());
    check_name_text(query.value().question.name);
    std::array<std::uint8_t, dns_header_bytes + max_dns_name_bytes + 4> out{};
    const auto length = encode_query(query.value().id, query.value().question,
                                     query.value().recursion_desired, out);
    if (!length.ok()) __builtin_trap();
    const auto again = parse_query(std::span(out).first(length.value()));
    if (!again.ok() || again.value().id != query.value().id ||
        again.value().recursion_desired != query.value().recursion_desired ||
        !identical(again.value().question.name, query.value().question.name) ||
        again.value().question.type != query.value().question.type ||
        again.value().question.qclass != query.value().question.qclass) {
        __builtin_trap();
    }
    check_response_to(query.value());
}

// Writes a parsed answer back as the responder would and checks it reads the same.
void check_reencoded(const DnsAnswer& answer, std::uint16_t id, const DnsQuestion& asked) {
    std::array<DnsRecord, max_dns_addresses + max_dns_srv_records> records{};
    std::size_t count = 0;
    for (const auto& address : answer.addresses) {
        records[count].type = address.is_v4() ? DnsType::a : DnsType::aaaa;
        records[count++].address = address;
    }
    for (const SrvRecord& srv : answer.services) {
        records[count].type = DnsType::srv;
        records[count++].srv = srv;
    }
    DnsQuery query;
    query.id = id;
    query.question = asked;
    const DnsResponse response{.rcode = answer.rcode, .authoritative = answer.authoritative,
                               .ttl = answer.min_ttl, .answers = std::span(records).first(count)};
    std::array<std::uint8_t, 8192> out{};
    const auto length = encode_response(query, response, out.size(), out);
    if (!length.ok()) __builtin_trap();
    const auto again = parse_response(std::span(out).first(length.value()), id, asked);
    if (!again.ok() || again.value().truncated || again.value().rcode != answer.rcode ||
        again.value().addresses.size() != answer.addresses.size() ||
        again.value().services.size() != answer.services.size()) {
        __builtin_trap();
    }
    for (std::size_t i = 0; i < answer.addresses.size(); ++i) {
        if (!(again.value().addresses[i] == answer.addresses[i])) __builtin_trap();
    }
    for (std::size_t i = 0; i < answer.services.size(); ++i) {
        const SrvRecord& a = again.value().services[i];
        const SrvRecord& b = answer.services[i];
        if (a.priority != b.priority || a.weight != b.weight || a.port != b.port ||
            !identical(a.target, b.target)) {
            __builtin_trap();
        }
    }
}

// The response is read as the answer to "x.test" of the type its last byte picks, so the
// fuzzer can reach the records behind a short question.
void check_response(Bytes bytes) {
    if (bytes.size() < dns_header_bytes + 1) return;
    static constexpr DnsType types[] = {DnsType::a, DnsType::aaaa, DnsType::srv, DnsType::cname};
    DnsQuestion asked;
    asked.name = dns_name_from_text("x.test").value();
    asked.type = types[bytes[bytes.size() - 1] % 4];
    const std::uint16_t id = static_cast<std::uint16_t>(bytes[0] << 8 | bytes[1]);
    const auto answer = parse_response(bytes, id, asked);
    if (!answer.ok()) {
        if (answer.error() != Errc::malformed && answer.error() != Errc::not_found) __builtin_trap();
        return;
    }
    for (const SrvRecord& srv : answer.value().services) check_name_text(srv.target);
    if (answer.value().truncated) return;
    const bool has_records = !answer.value().addresses.empty() || !answer.value().services.empty();
    // Only NOERROR carries answers; an error RCODE without a question is a refusal.
    if (has_records && answer.value().rcode != DnsRcode::noerror) __builtin_trap();
    check_reencoded(answer.value(), id, asked);
}

void check_tcp_length(Bytes bytes) {
    const auto length = next_dns_tcp_message_bytes(bytes);
    if (!length.ok()) {
        if (length.error() != (bytes.size() < 2 ? Errc::would_block : Errc::malformed)) __builtin_trap();
        return;
    }
    std::array<std::uint8_t, 2> out{};
    if (!encode_dns_tcp_length(length.value(), out).ok()) __builtin_trap();
    if (out[0] != bytes[0] || out[1] != bytes[1]) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes bytes(data, size);
    check_query(bytes);
    check_response(bytes);
    check_tcp_length(bytes);
    return 0;
}
