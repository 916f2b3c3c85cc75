#include "core/overlay/dns_wire.h"

#include <algorithm>

#include "core/util/endian.h"

namespace pinhole::overlay {
namespace {

constexpr std::uint16_t qr_flag = 0x8000;
constexpr std::uint16_t aa_flag = 0x0400;
constexpr std::uint16_t tc_flag = 0x0200;
constexpr std::uint16_t rd_flag = 0x0100;
constexpr std::uint16_t ra_flag = 0x0080;
constexpr unsigned opcode_shift = 11;
constexpr std::uint16_t nibble_mask = 0xf;
constexpr std::uint8_t pointer_tag = 0xc0;
constexpr std::uint16_t question_pointer = 0xc000 | dns_header_bytes;
constexpr std::size_t question_tail_bytes = 4;   // QTYPE, QCLASS
constexpr std::size_t record_fixed_bytes = 10;   // TYPE, CLASS, TTL, RDLENGTH
constexpr std::size_t srv_fixed_bytes = 6;       // priority, weight, port
constexpr std::size_t ipv4_bytes = 4;
constexpr std::size_t ipv6_bytes = 16;
constexpr std::size_t max_name_text_chars = max_dns_name_text_bytes - 1;

struct Header {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::uint16_t questions = 0;
    std::uint16_t answers = 0;
    std::uint16_t authorities = 0;
    std::uint16_t additionals = 0;
};

// The caller checked the message holds a header.
Header read_header(std::span<const std::uint8_t> message) noexcept {
    Header header;
    header.id = load_be16(message);
    header.flags = load_be16(message.subspan(2));
    header.questions = load_be16(message.subspan(4));
    header.answers = load_be16(message.subspan(6));
    header.authorities = load_be16(message.subspan(8));
    header.additionals = load_be16(message.subspan(10));
    return header;
}

std::uint16_t opcode_of(std::uint16_t flags) noexcept {
    return static_cast<std::uint16_t>(flags >> opcode_shift & nibble_mask);
}

char lower(std::uint8_t byte) noexcept {
    return byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte - 'A' + 'a') : static_cast<char>(byte);
}

bool is_text_byte(std::uint8_t byte) noexcept { return byte >= 0x21 && byte <= 0x7e; }

// Reads the name at `offset` into `name` and returns the offset just past where it is written
// (past its first pointer when compressed). Bounded: each round adds a label (at most 127 fit)
// or follows a pointer (at most max_dns_compression_hops).
Result<std::size_t> read_name(std::span<const std::uint8_t> message, std::size_t offset,
                              DnsName& name) noexcept {
    name.length = 0;
    std::size_t at = offset;
    std::size_t end = 0;           // set at the first pointer or the root byte
    std::size_t pointer_limit = offset;  // targets must lie strictly before this
    std::size_t hops = 0;
    for (std::size_t round = 0; round <= max_dns_name_bytes + max_dns_compression_hops; ++round) {
        if (at >= message.size()) return Errc::malformed;
        const std::uint8_t length = message[at];
        if ((length & pointer_tag) == pointer_tag) {
            if (at + 1 >= message.size()) return Errc::malformed;
            const std::size_t target = static_cast<std::size_t>(length & 0x3f) << 8 | message[at + 1];
            if (end == 0) end = at + 2;
            if (target >= pointer_limit || target < dns_header_bytes) return Errc::malformed;
            if (++hops > max_dns_compression_hops) return Errc::malformed;
            pointer_limit = target;
            at = target;
            continue;
        }
        if ((length & pointer_tag) != 0) return Errc::malformed;  // 0x40, 0x80: no such labels
        if (length == 0) {
            // The label check below kept room for this byte.
            name.wire[name.length++] = 0;
            return end == 0 ? at + 1 : end;
        }
        // Room for the label and the root byte still to come.
        if (name.length + 1 + length + 1 > max_dns_name_bytes) return Errc::malformed;
        if (at + 1 + length > message.size()) return Errc::malformed;
        std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(at), 1 + length,
                    name.wire.begin() + static_cast<std::ptrdiff_t>(name.length));
        name.length += 1 + length;
        at += 1 + length;
    }
    return Errc::malformed;  // unreachable: the bounds above end the loop first
}

// A resource record's header and where its data lies in the message.
struct RecordHead {
    DnsName owner;
    std::uint16_t type = 0;
    std::uint16_t rclass = 0;
    std::uint32_t ttl = 0;
    std::size_t data_offset = 0;
    std::size_t data_bytes = 0;
};

Result<RecordHead> read_record(std::span<const std::uint8_t> message, std::size_t offset) noexcept {
    RecordHead record;
    const Result<std::size_t> after_name = read_name(message, offset, record.owner);
    if (!after_name.ok()) return after_name.error();
    const std::size_t at = after_name.value();
    if (message.size() - at < record_fixed_bytes) return Errc::malformed;
    record.type = load_be16(message.subspan(at));
    record.rclass = load_be16(message.subspan(at + 2));
    record.ttl = load_be32(message.subspan(at + 4));
    record.data_bytes = load_be16(message.subspan(at + 8));
    record.data_offset = at + record_fixed_bytes;
    if (message.size() - record.data_offset < record.data_bytes) return Errc::malformed;
    return record;
}

std::size_t record_end(const RecordHead& record) noexcept {
    return record.data_offset + record.data_bytes;
}

// The question at the header's end; returns the offset after it.
Result<std::size_t> read_question(std::span<const std::uint8_t> message, DnsQuestion& question) noexcept {
    const Result<std::size_t> after_name = read_name(message, dns_header_bytes, question.name);
    if (!after_name.ok()) return after_name.error();
    const std::size_t at = after_name.value();
    if (message.size() - at < question_tail_bytes) return Errc::malformed;
    question.type = static_cast<DnsType>(load_be16(message.subspan(at)));
    question.qclass = load_be16(message.subspan(at + 2));
    return at + question_tail_bytes;
}

// Reads a query's additional records, noting an OPT's payload size; returns the offset after them.
Result<std::size_t> read_query_additionals(std::span<const std::uint8_t> message, std::size_t at,
                                           std::uint16_t count, DnsQuery& query) noexcept {
    bool seen_opt = false;
    for (std::uint16_t i = 0; i < count; ++i) {
        const Result<RecordHead> record = read_record(message, at);
        if (!record.ok()) return record.error();
        if (record.value().type == static_cast<std::uint16_t>(DnsType::opt)) {
            // RFC 6891 §6.1.1: one OPT, owned by the root.
            if (seen_opt || record.value().owner.length != 1) return Errc::malformed;
            seen_opt = true;
            query.edns_payload_bytes = record.value().rclass;
        }
        at = record_end(record.value());
    }
    return at;
}

// Appends to a fixed buffer and remembers whether anything did not fit.
class ByteWriter {
public:
    explicit ByteWriter(std::span<std::uint8_t> out) noexcept : out_(out) {}

    void u16(std::uint16_t value) noexcept {
        std::uint8_t field[2];
        store_be16(field, value);
        bytes(field);
    }
    void u32(std::uint32_t value) noexcept {
        std::uint8_t field[4];
        store_be32(field, value);
        bytes(field);
    }
    void bytes(std::span<const std::uint8_t> data) noexcept {
        if (data.size() > out_.size() - length_) {
            overflow_ = true;
            return;
        }
        std::copy(data.begin(), data.end(), out_.begin() + static_cast<std::ptrdiff_t>(length_));
        length_ += data.size();
    }
    [[nodiscard]] Result<std::size_t> finish() const noexcept {
        if (overflow_) return Errc::no_space;
        return length_;
    }

private:
    std::span<std::uint8_t> out_;
    std::size_t length_ = 0;
    bool overflow_ = false;
};

void write_header(ByteWriter& writer, const Header& header) noexcept {
    writer.u16(header.id);
    writer.u16(header.flags);
    writer.u16(header.questions);
    writer.u16(header.answers);
    writer.u16(header.authorities);
    writer.u16(header.additionals);
}

void write_question(ByteWriter& writer, const DnsQuestion& question) noexcept {
    writer.bytes(question.name.bytes());
    writer.u16(static_cast<std::uint16_t>(question.type));
    writer.u16(question.qclass);
}

std::size_t record_data_bytes(const DnsRecord& record) noexcept {
    switch (record.type) {
        case DnsType::a: return ipv4_bytes;
        case DnsType::aaaa: return ipv6_bytes;
        default: return srv_fixed_bytes + record.srv.target.length;
    }
}

bool is_valid_record(const DnsRecord& record) noexcept {
    switch (record.type) {
        case DnsType::a: return record.address.is_v4();
        case DnsType::aaaa: return record.address.is_v6();
        case DnsType::srv: return record.srv.target.length > 0;
        default: return false;
    }
}

bool is_valid_response(const DnsQuery& query, const DnsResponse& response) noexcept {
    if (query.question.name.length == 0 || response.ttl > max_dns_ttl) return false;
    if (static_cast<std::uint8_t>(response.rcode) > nibble_mask) return false;
    if (response.answers.size() > 0xffff) return false;
    if (!response.answers.empty() && response.rcode != DnsRcode::noerror) return false;
    return std::all_of(response.answers.begin(), response.answers.end(), is_valid_record);
}

void write_answer(ByteWriter& writer, const DnsRecord& record, std::uint32_t ttl) noexcept {
    writer.u16(question_pointer);
    writer.u16(static_cast<std::uint16_t>(record.type));
    writer.u16(dns_class_in);
    writer.u32(ttl);
    writer.u16(static_cast<std::uint16_t>(record_data_bytes(record)));
    if (record.type == DnsType::a) {
        writer.bytes(std::span(record.address.bytes).first(ipv4_bytes));
    } else if (record.type == DnsType::aaaa) {
        writer.bytes(record.address.bytes);
    } else {
        writer.u16(record.srv.priority);
        writer.u16(record.srv.weight);
        writer.u16(record.srv.port);
        writer.bytes(record.srv.target.bytes());
    }
}

std::uint32_t usable_ttl(std::uint32_t ttl) noexcept {
    return ttl > max_dns_ttl ? 0 : ttl;  // RFC 2181 §8: a set top bit reads as zero
}

// The name in a CNAME's or an SRV's data after `fixed_bytes`; it must end where the data does.
Result<DnsName> read_target(std::span<const std::uint8_t> message, const RecordHead& record,
                            std::size_t fixed_bytes) noexcept {
    if (record.data_bytes < fixed_bytes) return Errc::malformed;
    DnsName target;
    const Result<std::size_t> end = read_name(message, record.data_offset + fixed_bytes, target);
    if (!end.ok() || end.value() != record_end(record)) return Errc::malformed;
    return target;
}

Result<net::IpAddress> read_address(std::span<const std::uint8_t> data, DnsType type) noexcept {
    if (data.size() != (type == DnsType::a ? ipv4_bytes : ipv6_bytes)) return Errc::malformed;
    if (type == DnsType::a) return net::IpAddress::v4(data[0], data[1], data[2], data[3]);
    return net::IpAddress::v6(data.first<ipv6_bytes>());
}

// Takes one answer record into `answer` if it is of the asked type and owned by `current`, and
// follows a CNAME owned by `current` by moving `current` to its target. `kept` says whether
// the record counted (its TTL then bounds the answer's). Past the lists' capacity, records
// count but are not stored, as documented.
Status take_answer(std::span<const std::uint8_t> message, const RecordHead& record,
                   DnsType asked, DnsName& current, DnsAnswer& answer, bool& kept) noexcept {
    kept = false;
    if (record.rclass != dns_class_in || !dns_names_equal(record.owner, current)) return {};
    const std::span<const std::uint8_t> data = message.subspan(record.data_offset, record.data_bytes);
    const auto type = static_cast<DnsType>(record.type);
    if (type == DnsType::cname) {
        const Result<DnsName> target = read_target(message, record, 0);
        if (!target.ok()) return target.error();
        current = target.value();
    } else if (type == DnsType::srv && asked == DnsType::srv) {
        SrvRecord srv;
        const Result<DnsName> target = read_target(message, record, srv_fixed_bytes);
        if (!target.ok()) return target.error();
        srv.priority = load_be16(data);
        srv.weight = load_be16(data.subspan(2));
        srv.port = load_be16(data.subspan(4));
        srv.target = target.value();
        (void)answer.services.push_back(srv);
    } else if (type == asked && (type == DnsType::a || type == DnsType::aaaa)) {
        const Result<net::IpAddress> address = read_address(data, type);
        if (!address.ok()) return address.error();
        (void)answer.addresses.push_back(address.value());
    } else {
        return {};  // another type: skipped
    }
    kept = true;
    return {};
}

// Reads `count` answer records from `at` into `answer`.
Status read_answers(std::span<const std::uint8_t> message, std::size_t at, std::uint16_t count,
                    const DnsQuestion& asked, DnsAnswer& answer) noexcept {
    DnsName current = asked.name;
    bool any_kept = false;
    for (std::uint16_t i = 0; i < count; ++i) {
        const Result<RecordHead> record = read_record(message, at);
        if (!record.ok()) return record.error();
        bool kept = false;
        const Status taken = take_answer(message, record.value(), asked.type, current, answer, kept);
        if (!taken.ok()) return taken;
        if (kept) {
            const std::uint32_t ttl = usable_ttl(record.value().ttl);
            answer.min_ttl = any_kept ? std::min(answer.min_ttl, ttl) : ttl;
            any_kept = true;
        }
        at = record_end(record.value());
    }
    return {};
}

}  // namespace

// ---- names ----------------------------------------------------------------------------------

Result<DnsName> dns_name_from_text(std::string_view text) noexcept {
    DnsName name;
    if (text == ".") {
        name.length = 1;
        return name;
    }
    if (!text.empty() && text.back() == '.') text = {text.data(), text.size() - 1};
    if (text.empty() || text.size() > max_name_text_chars) return Errc::malformed;
    std::size_t label_start = 0;  // where the current label's length byte goes
    name.length = 1;
    for (const char c : text) {
        const auto byte = static_cast<std::uint8_t>(c);
        if (!is_text_byte(byte)) return Errc::malformed;
        if (c == '.') {
            if (name.length == label_start + 1) return Errc::malformed;  // an empty label
            label_start = name.length;
            ++name.length;
            continue;
        }
        if (name.length - label_start > max_dns_label_bytes) return Errc::malformed;
        name.wire[name.length++] = byte;
        name.wire[label_start] = static_cast<std::uint8_t>(name.length - label_start - 1);
    }
    if (name.length == label_start + 1) return Errc::malformed;  // "a..": an empty last label
    name.wire[name.length++] = 0;
    return name;
}

Result<std::size_t> dns_name_to_text(const DnsName& name, std::span<char> out) noexcept {
    if (name.length == 0) return Errc::invalid_argument;
    std::size_t written = 0;
    std::size_t at = 0;
    // Bounded: each label takes at least one byte of the name.
    while (at < name.length && name.wire[at] != 0) {
        const std::size_t label = name.wire[at];
        if (at + 1 + label >= name.length) return Errc::invalid_argument;  // not a wire name
        if (written > 0) {
            if (written >= out.size()) return Errc::no_space;
            out[written++] = '.';
        }
        for (std::size_t i = 1; i <= label; ++i) {
            const std::uint8_t byte = name.wire[at + i];
            if (!is_text_byte(byte) || byte == '.') return Errc::unsupported;
            if (written >= out.size()) return Errc::no_space;
            out[written++] = static_cast<char>(byte);
        }
        at += 1 + label;
    }
    if (written == 0) {
        if (out.empty()) return Errc::no_space;
        out[written++] = '.';
    }
    if (written >= out.size()) return Errc::no_space;
    out[written] = '\0';
    return written;
}

bool dns_names_equal(const DnsName& a, const DnsName& b) noexcept {
    if (a.length != b.length) return false;
    // Length bytes are at most 63, below 'A', so lowering them changes nothing.
    for (std::size_t i = 0; i < a.length; ++i) {
        if (lower(a.wire[i]) != lower(b.wire[i])) return false;
    }
    return true;
}

bool dns_name_in_zone(const DnsName& name, const DnsName& zone) noexcept {
    if (zone.length == 0 || name.length < zone.length) return false;
    std::size_t at = 0;
    // Bounded: each round moves past one label of `name`.
    while (at < name.length && name.length - at > zone.length) {
        if (name.wire[at] == 0) return false;
        at += 1 + name.wire[at];
    }
    if (at > name.length || name.length - at != zone.length) return false;  // starts mid-label
    for (std::size_t i = 0; i < zone.length; ++i) {
        if (lower(name.wire[at + i]) != lower(zone.wire[i])) return false;
    }
    return true;
}

// ---- responder ------------------------------------------------------------------------------

Result<DnsQuery> parse_query(std::span<const std::uint8_t> message) noexcept {
    if (message.size() < dns_header_bytes) return Errc::malformed;
    const Header header = read_header(message);
    if ((header.flags & qr_flag) != 0) return Errc::malformed;
    if (opcode_of(header.flags) != 0) return Errc::unsupported;
    if (header.questions != 1 || header.answers != 0 || header.authorities != 0 ||
        header.additionals > max_dns_query_additional) {
        return Errc::malformed;
    }
    DnsQuery query;
    query.id = header.id;
    query.recursion_desired = (header.flags & rd_flag) != 0;
    const Result<std::size_t> after_question = read_question(message, query.question);
    if (!after_question.ok()) return after_question.error();
    const Result<std::size_t> end =
        read_query_additionals(message, after_question.value(), header.additionals, query);
    if (!end.ok()) return end.error();
    if (end.value() != message.size()) return Errc::malformed;  // bytes after the last record
    return query;
}

std::optional<DnsRcode> refusal_rcode(std::span<const std::uint8_t> message) noexcept {
    if (message.size() < dns_header_bytes) return std::nullopt;
    const std::uint16_t flags = load_be16(message.subspan(2));
    if ((flags & qr_flag) != 0) return std::nullopt;
    if (opcode_of(flags) != 0) return DnsRcode::notimp;
    return DnsRcode::formerr;
}

Result<std::size_t> encode_refusal(std::span<const std::uint8_t> query, DnsRcode rcode,
                                   std::span<std::uint8_t> out) noexcept {
    if (query.size() < dns_header_bytes) return Errc::invalid_argument;
    if (static_cast<std::uint8_t>(rcode) > nibble_mask) return Errc::invalid_argument;
    const Header asked = read_header(query);
    Header header;
    header.id = asked.id;
    header.flags = static_cast<std::uint16_t>(qr_flag | (asked.flags & (nibble_mask << opcode_shift)) |
                                              (asked.flags & rd_flag) | ra_flag |
                                              static_cast<std::uint16_t>(rcode));
    ByteWriter writer(out);
    write_header(writer, header);
    return writer.finish();
}

Result<std::size_t> encode_response(const DnsQuery& query, const DnsResponse& response,
                                    std::size_t size_limit, std::span<std::uint8_t> out) noexcept {
    if (!is_valid_response(query, response)) return Errc::invalid_argument;
    const std::size_t limit = std::min({size_limit, out.size(), max_tcp_dns_bytes});
    const std::size_t question_end =
        dns_header_bytes + query.question.name.length + question_tail_bytes;
    if (question_end > limit) return Errc::no_space;
    std::size_t answer_bytes = 0;
    for (const DnsRecord& record : response.answers) {
        answer_bytes += 2 + record_fixed_bytes + record_data_bytes(record);
    }
    const bool truncated = answer_bytes > limit - question_end;
    Header header;
    header.id = query.id;
    header.flags = static_cast<std::uint16_t>(
        qr_flag | ra_flag | (response.authoritative ? aa_flag : 0) | (truncated ? tc_flag : 0) |
        (query.recursion_desired ? rd_flag : 0) | static_cast<std::uint16_t>(response.rcode));
    header.questions = 1;
    header.answers = truncated ? 0 : static_cast<std::uint16_t>(response.answers.size());
    ByteWriter writer(out.first(limit));
    write_header(writer, header);
    write_question(writer, query.question);
    if (!truncated) {
        for (const DnsRecord& record : response.answers) write_answer(writer, record, response.ttl);
    }
    return writer.finish();
}

// ---- TCP ------------------------------------------------------------------------------------

Result<std::size_t> next_dns_tcp_message_bytes(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.size() < dns_tcp_length_bytes) return Errc::would_block;
    const std::size_t message_bytes = load_be16(buffered);
    if (message_bytes < dns_header_bytes) return Errc::malformed;
    return message_bytes;
}

Result<std::size_t> encode_dns_tcp_length(std::size_t message_bytes,
                                          std::span<std::uint8_t> out) noexcept {
    if (message_bytes < dns_header_bytes || message_bytes > max_tcp_dns_bytes) {
        return Errc::invalid_argument;
    }
    if (out.size() < dns_tcp_length_bytes) return Errc::no_space;
    store_be16(out, static_cast<std::uint16_t>(message_bytes));
    return dns_tcp_length_bytes;
}

// ---- client ---------------------------------------------------------------------------------

Result<std::size_t> encode_query(std::uint16_t id, const DnsQuestion& question,
                                 bool recursion_desired, std::span<std::uint8_t> out) noexcept {
    if (question.name.length == 0) return Errc::invalid_argument;
    Header header;
    header.id = id;
    header.flags = recursion_desired ? rd_flag : 0;
    header.questions = 1;
    ByteWriter writer(out);
    write_header(writer, header);
    write_question(writer, question);
    return writer.finish();
}

Result<DnsAnswer> parse_response(std::span<const std::uint8_t> message, std::uint16_t id,
                                 const DnsQuestion& asked) noexcept {
    if (message.size() < dns_header_bytes) return Errc::malformed;
    const Header header = read_header(message);
    if (header.id != id) return Errc::not_found;
    if ((header.flags & qr_flag) == 0 || opcode_of(header.flags) != 0) return Errc::malformed;
    DnsAnswer answer;
    answer.rcode = static_cast<DnsRcode>(header.flags & nibble_mask);
    answer.truncated = (header.flags & tc_flag) != 0;
    answer.authoritative = (header.flags & aa_flag) != 0;
    // A server refusing a query it could not read may leave the question out.
    if (header.questions == 0 && answer.rcode != DnsRcode::noerror) return answer;
    if (header.questions != 1) return Errc::malformed;
    DnsQuestion question;
    const Result<std::size_t> after_question = read_question(message, question);
    if (!after_question.ok()) return after_question.error();
    if (!dns_names_equal(question.name, asked.name) || question.type != asked.type ||
        question.qclass != asked.qclass) {
        return Errc::not_found;
    }
    // A truncated answer is asked again over TCP; an error's records are no answer to trust.
    if (answer.truncated || answer.rcode != DnsRcode::noerror) return answer;
    const Status read = read_answers(message, after_question.value(), header.answers, asked, answer);
    if (!read.ok()) return read.error();
    return answer;
}

const char* describe(DnsRcode rcode) noexcept {
    switch (rcode) {
        case DnsRcode::noerror: return "no error";
        case DnsRcode::formerr: return "format error";
        case DnsRcode::servfail: return "server failure";
        case DnsRcode::nxdomain: return "no such name";
        case DnsRcode::notimp: return "not implemented";
        case DnsRcode::refused: return "refused";
    }
    return "unknown rcode";
}

}  // namespace pinhole::overlay
