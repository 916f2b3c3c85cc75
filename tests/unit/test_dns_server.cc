// Names at the agent (core/overlay/dns_server.h, dns_client.h): the server played by hand-made
// IPv6 UDP and TCP packets from a peer, with a fake resolver; the client against hand-made
// answers; and both in one stack, the client's queries looped back through the peer's netif.
#include "core/overlay/dns_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/keys/keys.h"
#include "core/overlay/dns_client.h"
#include "tests/unit/fakes.h"
#include "tests/unit/packets.h"

namespace pinhole::overlay {
namespace {

using namespace packets;

constexpr PeerId peer_id = 4;
constexpr std::uint8_t protocol_udp = 17;
constexpr std::size_t udp_checksum_offset = 6;

struct SentPacket {
    PeerId peer;
    std::vector<std::uint8_t> bytes;
};

class CapturingOutput final : public OverlayOutput {
public:
    void send_packet(PeerId peer, std::span<const std::uint8_t> ip_packet) noexcept override {
        sent.push_back({peer, {ip_packet.begin(), ip_packet.end()}});
    }
    std::vector<SentPacket> sent;
};

class FakeResolver final : public port::Resolver {
public:
    struct Request {
        port::ResolveId id;
        std::string host;
        net::Family family;
        port::ResolveEvents* events;
        bool open;
    };
    Result<port::ResolveId> resolve(std::string_view host, net::Family family,
                                    port::ResolveEvents& events) noexcept override {
        const auto open = std::count_if(requests.begin(), requests.end(), [](const Request& r) { return r.open; });
        if (static_cast<std::size_t>(open) >= capacity) return Errc::no_space;
        const auto id = static_cast<port::ResolveId>(requests.size());
        requests.push_back({id, std::string(host), family, &events, true});
        return id;
    }
    void cancel(port::ResolveId id) noexcept override {
        requests.at(id).open = false;
        cancelled++;
    }
    void answer(std::size_t index, Errc result, const std::vector<net::IpAddress>& addresses) {
        Request& request = requests.at(index);
        ASSERT_TRUE(request.open);
        request.open = false;
        request.events->on_resolved(request.id, result, addresses);
    }
    std::vector<Request> requests;
    std::size_t capacity = 64;
    int cancelled = 0;
};

struct Services final : DirectoryPolicy {
    void published_services(PeerId peer, ServiceList& out) noexcept override {
        if (peer != peer_id) return;
        for (const PublishedService& service : list) (void)out.push_back(service);
    }
    ServiceList list;
};

struct Names final : NamePolicy {
    bool may_resolve(PeerId peer) noexcept override { return resolve && peer == peer_id; }
    bool remembers(PeerId, std::string_view name) noexcept override {
        return name.size() > 4 && name.substr(name.size() - 4) == ".lan";
    }
    bool resolve = true;
};

struct LogLines final : port::LogSink {
    void write(port::LogLevel, std::string_view line) noexcept override { lines.emplace_back(line); }
    std::vector<std::string> lines;
};

crypto::X25519Key public_key_of(std::uint8_t seed) {
    crypto::X25519Key private_key{};
    private_key.fill(seed);
    const Result<keys::KeyPair> pair = keys::key_pair_from_private(private_key);
    EXPECT_TRUE(pair.ok());
    return pair.value().public_key;
}

net::IpAddress address(const char* text) {
    const Result<net::IpAddress> parsed = net::parse_address(text);
    EXPECT_TRUE(parsed.ok()) << text;
    return parsed.value();
}

DnsQuestion question(const char* name, DnsType type) {
    DnsQuestion asked;
    asked.name = dns_name_from_text(name).value();
    asked.type = type;
    return asked;
}

std::vector<std::uint8_t> query_bytes(std::uint16_t id, const DnsQuestion& asked) {
    std::vector<std::uint8_t> message(512);
    message.resize(encode_query(id, asked, true, message).value());
    return message;
}

std::vector<std::uint8_t> udp_datagram(std::uint16_t source_port, std::uint16_t destination_port,
                                       const std::vector<std::uint8_t>& payload) {
    std::vector<std::uint8_t> datagram(8, 0);
    const std::size_t length = 8 + payload.size();
    datagram[0] = static_cast<std::uint8_t>(source_port >> 8);
    datagram[1] = static_cast<std::uint8_t>(source_port);
    datagram[2] = static_cast<std::uint8_t>(destination_port >> 8);
    datagram[3] = static_cast<std::uint8_t>(destination_port);
    datagram[4] = static_cast<std::uint8_t>(length >> 8);
    datagram[5] = static_cast<std::uint8_t>(length);
    datagram.insert(datagram.end(), payload.begin(), payload.end());
    return datagram;
}

bool is_udp(const SentPacket& packet) { return packet.bytes.size() >= 48 && packet.bytes[6] == protocol_udp; }
std::vector<std::uint8_t> udp_payload(const SentPacket& packet) { return {packet.bytes.begin() + 48, packet.bytes.end()}; }

// A node (fd7a:... from key 1, and 10.77.0.1) with one peer (key 2) and the DNS server.
class DnsServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        fakes::initialise_lwip_once();
        stack_.emplace(output_, public_key_of(1));
        ASSERT_TRUE(stack_->add_address(address("10.77.0.1")).ok());
        ASSERT_TRUE(stack_->add_peer(peer_id, 1420, peer_key_, {}).ok());
        ASSERT_TRUE(services_.list.push_back({config::Name{}, 8080}).ok());
        ASSERT_TRUE(services_.list[0].name.assign("web").ok());
        server_.emplace(*stack_, services_, names_, DnsServer::Ports{resolver_, clock_}, logger_);
    }
    void TearDown() override {
        server_.reset();
        stack_.reset();
    }

    net::IpAddress node() const { return stack_->overlay_address(); }
    net::IpAddress peer() const { return keys::overlay_address(peer_key_); }

    // Sends `message` over UDP from the peer; returns the answers the node sent back.
    std::vector<std::vector<std::uint8_t>> ask_udp(const std::vector<std::uint8_t>& message,
                                                   std::uint16_t from_port = 40000) {
        stack_->deliver(peer_id, ipv6_packet(peer(), node(), protocol_udp, udp_datagram(from_port, dns_port, message),
                                             udp_checksum_offset));
        return take_udp();
    }
    std::vector<std::vector<std::uint8_t>> take_udp() {
        std::vector<std::vector<std::uint8_t>> answers;
        for (const SentPacket& packet : output_.sent) {
            EXPECT_EQ(packet.peer, peer_id);
            if (is_udp(packet)) answers.push_back(udp_payload(packet));
        }
        output_.sent.clear();
        return answers;
    }
    DnsAnswer answer_to(const std::vector<std::uint8_t>& message, std::uint16_t id, const DnsQuestion& asked) {
        const Result<DnsAnswer> answer = parse_response(message, id, asked);
        EXPECT_TRUE(answer.ok());
        return answer.ok() ? answer.value() : DnsAnswer{};
    }
    static DnsRcode rcode_of(const std::vector<std::uint8_t>& message) {
        return static_cast<DnsRcode>(message.at(3) & 0x0f);
    }

    CapturingOutput output_;
    const crypto::X25519Key peer_key_ = public_key_of(2);
    std::optional<OverlayStack> stack_;
    Services services_;
    Names names_;
    FakeResolver resolver_;
    fakes::FakeClock clock_;
    LogLines log_;
    Logger logger_{log_, port::LogLevel::info};
    std::optional<DnsServer> server_;
};

TEST_F(DnsServerTest, PublishesAServiceAsSrvAaaaAndAToAPeerAllowedIt) {
    const DnsQuestion srv = question("Web.Router", DnsType::srv);
    auto answers = ask_udp(query_bytes(1, srv));
    ASSERT_EQ(answers.size(), 1u);
    DnsAnswer answer = answer_to(answers[0], 1, srv);
    EXPECT_EQ(answer.rcode, DnsRcode::noerror);
    EXPECT_TRUE(answer.authoritative);
    ASSERT_EQ(answer.services.size(), 1u);
    EXPECT_EQ(answer.services[0].port, 8080);
    EXPECT_TRUE(dns_names_equal(answer.services[0].target, srv.name));
    EXPECT_EQ(answer.min_ttl, 60u);

    const DnsQuestion aaaa = question("web.router", DnsType::aaaa);
    answers = ask_udp(query_bytes(2, aaaa));
    ASSERT_EQ(answers.size(), 1u);
    answer = answer_to(answers[0], 2, aaaa);
    ASSERT_EQ(answer.addresses.size(), 1u);
    EXPECT_EQ(answer.addresses[0], node());

    const DnsQuestion a = question("web.router", DnsType::a);
    answer = answer_to(ask_udp(query_bytes(3, a)).at(0), 3, a);
    ASSERT_EQ(answer.addresses.size(), 1u);
    EXPECT_EQ(answer.addresses[0], address("10.77.0.1"));

    // Another type of the node's own name: an empty answer, not an error.
    const DnsQuestion txt = question("web.router", static_cast<DnsType>(16));
    const auto empty = ask_udp(query_bytes(4, txt));
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_EQ(rcode_of(empty[0]), DnsRcode::noerror);
    EXPECT_EQ(server_->counters().answered_own, 4u);
    EXPECT_TRUE(resolver_.requests.empty());
}

TEST_F(DnsServerTest, ServicesThePeerMayNotReachAreNotTheNodesNames) {
    names_.resolve = false;
    const DnsQuestion secret = question("secret.router", DnsType::srv);
    const auto answers = ask_udp(query_bytes(7, secret));
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(rcode_of(answers[0]), DnsRcode::refused);  // and this peer resolves nothing else
    // Three labels are not <service>.<agent> either.
    const auto deeper = ask_udp(query_bytes(8, question("web.router.lan", DnsType::aaaa)));
    EXPECT_EQ(rcode_of(deeper.at(0)), DnsRcode::refused);
    EXPECT_EQ(server_->counters().refused, 2u);
}

TEST_F(DnsServerTest, ResolvesOtherNamesWithTheFixedTtlAndRemembersThemForDomainRules) {
    const DnsQuestion a = question("Printer.LAN", DnsType::a);
    EXPECT_TRUE(ask_udp(query_bytes(10, a)).empty());
    ASSERT_EQ(resolver_.requests.size(), 1u);
    EXPECT_EQ(resolver_.requests[0].host, "Printer.LAN");
    EXPECT_EQ(resolver_.requests[0].family, net::Family::none);
    EXPECT_EQ(server_->pending(), 1u);
    clock_.monotonic = 1000;
    resolver_.answer(0, Errc::ok, {address("2001:db8::10"), address("::ffff:192.168.1.10"), address("192.168.1.11")});
    const auto answers = take_udp();
    ASSERT_EQ(answers.size(), 1u);
    const DnsAnswer answer = answer_to(answers[0], 10, a);
    EXPECT_FALSE(answer.authoritative);
    ASSERT_EQ(answer.addresses.size(), 2u);  // only A records, the mapped one unmapped
    EXPECT_EQ(answer.addresses[0], address("192.168.1.10"));
    EXPECT_EQ(answer.addresses[1], address("192.168.1.11"));
    EXPECT_EQ(answer.min_ttl, 60u);

    config::AllowRule rule;
    rule.kind = config::AllowKind::domain;
    ASSERT_TRUE(rule.domain.assign("printer.lan").ok());
    const acl::ResolvedNames& remembered = server_->resolved_names();
    EXPECT_TRUE(remembered.resolved_to(peer_id, rule, address("192.168.1.10"), 1000));
    EXPECT_TRUE(remembered.resolved_to(peer_id, rule, address("192.168.1.11"), 60'999));
    EXPECT_FALSE(remembered.resolved_to(peer_id, rule, address("192.168.1.11"), 61'000));  // the TTL passed
    EXPECT_FALSE(remembered.resolved_to(peer_id, rule, address("2001:db8::10"), 1000));  // never told
    EXPECT_FALSE(remembered.resolved_to(peer_id + 1, rule, address("192.168.1.10"), 1000));
    ASSERT_FALSE(log_.lines.empty());
    EXPECT_NE(log_.lines.back().find("printer.lan -> 192.168.1.10"), std::string::npos) << log_.lines.back();

    // A name no domain rule wants is answered, not remembered.
    const DnsQuestion other = question("example.com", DnsType::aaaa);
    EXPECT_TRUE(ask_udp(query_bytes(11, other)).empty());
    resolver_.answer(1, Errc::ok, {address("2001:db8::99")});
    EXPECT_EQ(answer_to(take_udp().at(0), 11, other).addresses.size(), 1u);
    EXPECT_EQ(remembered.live(1000), 1u);
    EXPECT_EQ(server_->counters().names_remembered, 1u);
}

TEST_F(DnsServerTest, AnswersNoSuchNameFailuresAndEmptyFamilies) {
    const DnsQuestion aaaa = question("printer.lan", DnsType::aaaa);
    EXPECT_TRUE(ask_udp(query_bytes(20, aaaa)).empty());
    resolver_.answer(0, Errc::ok, {address("192.168.1.10")});  // IPv4 only
    auto answers = take_udp();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(rcode_of(answers[0]), DnsRcode::noerror);
    EXPECT_TRUE(answer_to(answers[0], 20, aaaa).addresses.empty());
    EXPECT_EQ(server_->resolved_names().live(0), 0u);

    EXPECT_TRUE(ask_udp(query_bytes(21, question("nothing.lan", DnsType::a))).empty());
    resolver_.answer(1, Errc::not_found, {});
    EXPECT_EQ(rcode_of(take_udp().at(0)), DnsRcode::nxdomain);

    EXPECT_TRUE(ask_udp(query_bytes(22, question("broken.lan", DnsType::a))).empty());
    resolver_.answer(2, Errc::io, {});
    EXPECT_EQ(rcode_of(take_udp().at(0)), DnsRcode::servfail);
    EXPECT_EQ(server_->counters().nxdomain, 1u);
    EXPECT_EQ(server_->counters().servfail, 1u);
    EXPECT_EQ(server_->pending(), 0u);
}

TEST_F(DnsServerTest, RefusesWhatIsNotAStandardQueryAndCountsIt) {
    const std::vector<std::uint8_t> valid = query_bytes(30, question("printer.lan", DnsType::a));
    std::vector<std::uint8_t> two_questions = valid;
    two_questions[5] = 2;
    EXPECT_EQ(rcode_of(ask_udp(two_questions).at(0)), DnsRcode::formerr);
    std::vector<std::uint8_t> cut = valid;
    cut.resize(cut.size() - 3);
    EXPECT_EQ(rcode_of(ask_udp(cut).at(0)), DnsRcode::formerr);
    std::vector<std::uint8_t> status = valid;
    status[2] = static_cast<std::uint8_t>(status[2] | (2 << 3));  // opcode STATUS
    EXPECT_EQ(rcode_of(ask_udp(status).at(0)), DnsRcode::notimp);
    std::vector<std::uint8_t> response = valid;
    response[2] |= 0x80;  // QR: never answered (two servers could loop)
    EXPECT_TRUE(ask_udp(response).empty());
    EXPECT_TRUE(ask_udp(std::vector<std::uint8_t>(5, 0)).empty());
    DnsQuestion chaos = question("version.bind", static_cast<DnsType>(16));
    chaos.qclass = 3;
    EXPECT_EQ(rcode_of(ask_udp(query_bytes(31, chaos)).at(0)), DnsRcode::notimp);
    EXPECT_EQ(rcode_of(ask_udp(query_bytes(32, question("printer.lan", static_cast<DnsType>(15)))).at(0)),
              DnsRcode::notimp);  // MX: only A and AAAA are looked up
    EXPECT_EQ(rcode_of(ask_udp(query_bytes(33, question("web.router", DnsType::any))).at(0)), DnsRcode::noerror);
    EXPECT_EQ(rcode_of(ask_udp(query_bytes(34, question(".", DnsType::a))).at(0)), DnsRcode::refused);
    std::vector<std::uint8_t> oversized = valid;
    oversized.resize(600, 0);  // longer than any query: answered from the header
    EXPECT_EQ(rcode_of(ask_udp(oversized).at(0)), DnsRcode::formerr);

    const DnsServerCounters& counters = server_->counters();
    EXPECT_EQ(counters.formerr, 3u);
    EXPECT_EQ(counters.notimp, 3u);
    EXPECT_EQ(counters.refused, 1u);
    EXPECT_EQ(counters.dropped, 2u);
    EXPECT_TRUE(resolver_.requests.empty());
}

TEST_F(DnsServerTest, BoundsResolutionsInFlightDropsRetriesAndTimesOut) {
    for (std::size_t i = 0; i < max_dns_pending; ++i) {
        const std::string name = "host" + std::to_string(i) + ".lan";
        EXPECT_TRUE(ask_udp(query_bytes(static_cast<std::uint16_t>(100 + i), question(name.c_str(), DnsType::a))).empty());
    }
    EXPECT_EQ(server_->pending(), max_dns_pending);
    // A retry of a question still resolving: dropped, it is answered once.
    EXPECT_TRUE(ask_udp(query_bytes(100, question("host0.lan", DnsType::a))).empty());
    EXPECT_EQ(server_->counters().duplicates, 1u);
    // No room: SERVFAIL at once.
    EXPECT_EQ(rcode_of(ask_udp(query_bytes(99, question("more.lan", DnsType::a))).at(0)), DnsRcode::servfail);
    EXPECT_EQ(server_->counters().busy, 1u);

    clock_.monotonic = DnsSettings{}.resolve_timeout_ms - 1;
    server_->tick();
    EXPECT_TRUE(take_udp().empty());
    clock_.monotonic = DnsSettings{}.resolve_timeout_ms;
    server_->tick();
    const auto answers = take_udp();
    EXPECT_EQ(answers.size(), max_dns_pending);
    for (const auto& answer : answers) EXPECT_EQ(rcode_of(answer), DnsRcode::servfail);
    EXPECT_EQ(resolver_.cancelled, static_cast<int>(max_dns_pending));
    EXPECT_EQ(server_->counters().resolver_timeouts, max_dns_pending);
    EXPECT_EQ(server_->pending(), 0u);

    // The resolver's own limit (shared with the exit) is SERVFAIL too.
    resolver_.capacity = 0;
    EXPECT_EQ(rcode_of(ask_udp(query_bytes(98, question("full.lan", DnsType::a))).at(0)), DnsRcode::servfail);
}

// ---- TCP ----------------------------------------------------------------------------------------

class DnsServerTcpTest : public DnsServerTest {
protected:
    // The handshake from `port`; returns the server's next sequence number.
    std::uint32_t connect(std::uint16_t port) {
        port_ = port;
        sequence_ = 5000;
        send(tcp_syn, "");
        const auto syn_ack = find(tcp_syn | tcp_ack);
        EXPECT_TRUE(syn_ack.has_value());
        server_sequence_ = syn_ack ? syn_ack->sequence + 1 : 0;
        sequence_++;
        send(tcp_ack, "");
        return server_sequence_;
    }
    void send(std::uint8_t flags, const std::string& payload) {
        stack_->deliver(peer_id, ipv6_packet(peer(), node(), 6,
                                             tcp_segment(dns_port, sequence_, server_sequence_, flags, payload, port_), 16));
        sequence_ += static_cast<std::uint32_t>(payload.size());
    }
    std::optional<TcpView> find(std::uint8_t flags) {
        for (const SentPacket& packet : output_.sent) {
            if (!is_ipv6_tcp(packet.bytes)) continue;
            const TcpView view = parse_tcp(packet.bytes);
            if (view.destination_port == port_ && (view.flags & flags) == flags) return view;
        }
        return std::nullopt;
    }
    // The bytes the server sent on this connection, acknowledged as they come.
    std::string received() {
        std::string bytes;
        for (const SentPacket& packet : output_.sent) {
            if (!is_ipv6_tcp(packet.bytes)) continue;
            const TcpView view = parse_tcp(packet.bytes);
            if (view.destination_port != port_ || view.payload.empty()) continue;
            bytes += view.payload;
            server_sequence_ = view.sequence + static_cast<std::uint32_t>(view.payload.size());
        }
        output_.sent.clear();
        if (!bytes.empty()) send(tcp_ack, "");  // what it sends then is read next time
        return bytes;
    }
    static std::string framed(const std::vector<std::uint8_t>& message) {
        std::string bytes(2, '\0');
        bytes[0] = static_cast<char>(message.size() >> 8);
        bytes[1] = static_cast<char>(message.size());
        bytes.append(message.begin(), message.end());
        return bytes;
    }
    // Splits length-prefixed messages.
    static std::vector<std::vector<std::uint8_t>> messages(const std::string& bytes) {
        std::vector<std::vector<std::uint8_t>> out;
        std::size_t at = 0;
        while (at + 2 <= bytes.size()) {
            const std::size_t length = static_cast<std::uint8_t>(bytes[at]) << 8 | static_cast<std::uint8_t>(bytes[at + 1]);
            if (at + 2 + length > bytes.size()) break;
            out.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(at + 2),
                             bytes.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
            at += 2 + length;
        }
        EXPECT_EQ(at, bytes.size());
        return out;
    }

    std::uint16_t port_ = 0;
    std::uint32_t sequence_ = 0;
    std::uint32_t server_sequence_ = 0;
};

TEST_F(DnsServerTcpTest, AnswersPipelinedQueriesInOrder) {
    connect(41000);
    EXPECT_EQ(server_->tcp_connections(), 1u);
    const DnsQuestion printer = question("printer.lan", DnsType::a);
    const DnsQuestion web = question("web.router", DnsType::srv);
    // Both in one segment: the second waits for the first, which resolves.
    send(tcp_psh_ack, framed(query_bytes(50, printer)) + framed(query_bytes(51, web)));
    EXPECT_TRUE(received().empty());
    // Another delivery while the first query resolves: it waits its turn.
    send(tcp_psh_ack, framed(query_bytes(53, web)));
    EXPECT_TRUE(received().empty());
    ASSERT_EQ(resolver_.requests.size(), 1u);
    resolver_.answer(0, Errc::ok, {address("192.168.1.10")});
    const auto answers = messages(received());
    ASSERT_EQ(answers.size(), 3u);
    const DnsAnswer first = answer_to(answers[0], 50, printer);
    ASSERT_EQ(first.addresses.size(), 1u);
    EXPECT_EQ(first.addresses[0], address("192.168.1.10"));
    const DnsAnswer second = answer_to(answers[1], 51, web);
    ASSERT_EQ(second.services.size(), 1u);
    EXPECT_EQ(second.services[0].port, 8080);
    EXPECT_EQ(answer_to(answers[2], 53, web).services.size(), 1u);
    EXPECT_EQ(server_->counters().queries_tcp, 3u);

    // A query split across segments is answered once whole.
    const std::string split = framed(query_bytes(52, web));
    send(tcp_psh_ack, split.substr(0, 5));
    EXPECT_TRUE(received().empty());
    send(tcp_psh_ack, split.substr(5));
    EXPECT_EQ(messages(received()).size(), 1u);

    // FIN: the server closes too.
    send(tcp_fin | tcp_ack, "");
    EXPECT_TRUE(find(tcp_fin).has_value());
    EXPECT_EQ(server_->tcp_connections(), 0u);
}

TEST_F(DnsServerTcpTest, HoldsWhatArrivesWhileAQueryResolvesAndAnswersItAllInOrder) {
    connect(41003);
    const DnsQuestion printer = question("printer.lan", DnsType::a);
    const DnsQuestion web = question("web.router", DnsType::srv);
    // A query that resolves, then 3.3 KB of queries in segments of at most 36 (1.2 KB): more
    // than the buffer holds while the first waits (the rest waits in lwIP).
    constexpr std::uint16_t count = 100;
    std::vector<std::string> segments{framed(query_bytes(999, printer))};
    for (std::uint16_t i = 0; i < count; ++i) {
        if (i % 36 == 0 && i != 0) segments.emplace_back();
        segments.back() += framed(query_bytes(static_cast<std::uint16_t>(1000 + i), web));
    }
    for (const std::string& segment : segments) send(tcp_psh_ack, segment);
    EXPECT_TRUE(received().empty());
    resolver_.answer(0, Errc::ok, {address("192.168.1.10")});
    std::string bytes;  // answers may straddle segments: read them all, then split
    for (int round = 0; round < 40; ++round) bytes += received();
    const auto answers = messages(bytes);
    ASSERT_EQ(answers.size(), count + 1u);
    EXPECT_EQ(answer_to(answers[0], 999, printer).addresses.size(), 1u);
    for (std::uint16_t i = 0; i < count; ++i) {
        EXPECT_EQ(answer_to(answers[i + 1u], static_cast<std::uint16_t>(1000 + i), web).services.size(), 1u) << i;
    }
}

TEST_F(DnsServerTcpTest, ResetsALengthShorterThanAHeader) {
    connect(41001);
    send(tcp_psh_ack, std::string("\x00\x05hello", 7));
    EXPECT_TRUE(find(tcp_rst).has_value());
    EXPECT_EQ(server_->counters().tcp_malformed, 1u);
    EXPECT_EQ(server_->tcp_connections(), 0u);
}

TEST_F(DnsServerTcpTest, AConnectionWaitingForItsAnswerOutlivesItsFin) {
    connect(41002);
    const DnsQuestion printer = question("printer.lan", DnsType::a);
    send(tcp_psh_ack, framed(query_bytes(60, printer)));
    send(tcp_fin | tcp_ack, "");
    EXPECT_EQ(server_->tcp_connections(), 1u);
    resolver_.answer(0, Errc::not_found, {});
    EXPECT_TRUE(find(tcp_fin).has_value());
    const std::string bytes = received();
    const auto answers = messages(bytes);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(rcode_of(answers[0]), DnsRcode::nxdomain);
    EXPECT_EQ(server_->tcp_connections(), 0u);
}

TEST_F(DnsServerTcpTest, LimitsConnectionsAndClosesIdleOnes) {
    for (std::size_t i = 0; i < max_dns_tcp_connections; ++i) connect(static_cast<std::uint16_t>(42000 + i));
    output_.sent.clear();
    EXPECT_EQ(server_->tcp_connections(), max_dns_tcp_connections);
    connect(43000);
    EXPECT_TRUE(find(tcp_rst).has_value());
    EXPECT_EQ(server_->counters().tcp_refused, 1u);
    EXPECT_EQ(server_->tcp_connections(), max_dns_tcp_connections);

    clock_.monotonic = DnsSettings{}.tcp_idle_timeout_ms;
    server_->tick();
    EXPECT_EQ(server_->tcp_connections(), 0u);
    EXPECT_EQ(server_->counters().tcp_idle_closed, max_dns_tcp_connections);
}

// ---- the client ---------------------------------------------------------------------------------

struct HostAnswers final : DnsClientEvents {
    void on_host_resolved(std::uint32_t lookup, Errc result, std::span<const net::IpAddress> addresses,
                          std::uint32_t ttl_s) noexcept override {
        answers.push_back({lookup, result, {addresses.begin(), addresses.end()}, ttl_s});
    }
    struct Answer {
        std::uint32_t lookup;
        Errc result;
        std::vector<net::IpAddress> addresses;
        std::uint32_t ttl_s;
    };
    std::vector<Answer> answers;
};

class DnsClientTest : public DnsServerTest {
protected:
    void SetUp() override {
        DnsServerTest::SetUp();
        server_.reset();  // these tests answer by hand
        client_.emplace(*stack_, clock_);
    }
    void TearDown() override {
        client_.reset();
        DnsServerTest::TearDown();
    }
    // The one query the client sent: its ID, question and source port.
    struct Sent {
        DnsQuery query;
        std::uint16_t source_port = 0;
    };
    Sent sent_query() {
        EXPECT_EQ(output_.sent.size(), 1u);
        Sent sent;
        if (output_.sent.empty()) return sent;
        const SentPacket packet = output_.sent.back();
        output_.sent.clear();
        EXPECT_TRUE(is_udp(packet));
        EXPECT_EQ(be16(packet.bytes, 42), dns_port);
        EXPECT_EQ(std::memcmp(&packet.bytes[24], peer().bytes.data(), 16), 0);
        sent.source_port = be16(packet.bytes, 40);
        const std::vector<std::uint8_t> message = udp_payload(packet);
        sent.query = parse_query(message).value();
        return sent;
    }
    void reply(const Sent& sent, DnsRcode rcode, const std::vector<DnsRecord>& records,
               const net::IpAddress& from = net::IpAddress{}, std::uint16_t from_port = dns_port) {
        DnsResponse response;
        response.rcode = rcode;
        response.ttl = 45;
        response.answers = records;
        std::vector<std::uint8_t> message(512);
        message.resize(encode_response(sent.query, response, 512, message).value());
        const net::IpAddress source = from.family == net::Family::none ? peer() : from;
        stack_->deliver(peer_id, ipv6_packet(source, node(), protocol_udp,
                                             udp_datagram(from_port, sent.source_port, message), udp_checksum_offset));
    }
    static DnsRecord record(const net::IpAddress& address) {
        DnsRecord found;
        found.type = address.is_v4() ? DnsType::a : DnsType::aaaa;
        found.address = address;
        return found;
    }

    HostAnswers events_;
    std::optional<DnsClient> client_;
};

TEST_F(DnsClientTest, AsksAaaaThenAAndGivesTheAddressesWithTheirTtl) {
    const std::uint32_t lookup = client_->resolve_host(peer_id, peer(), "printer.lan", events_).value();
    const Sent aaaa = sent_query();
    EXPECT_EQ(aaaa.query.question.type, DnsType::aaaa);
    EXPECT_TRUE(aaaa.query.recursion_desired);
    reply(aaaa, DnsRcode::noerror, {});
    const Sent a = sent_query();
    EXPECT_EQ(a.query.question.type, DnsType::a);
    EXPECT_NE(a.query.id, aaaa.query.id);
    reply(aaaa, DnsRcode::noerror, {record(address("192.168.1.99"))});  // late, to the first question
    EXPECT_TRUE(events_.answers.empty());
    reply(a, DnsRcode::noerror, {record(address("192.168.1.10")), record(address("192.168.1.11"))});
    ASSERT_EQ(events_.answers.size(), 1u);
    EXPECT_EQ(events_.answers[0].lookup, lookup);
    EXPECT_EQ(events_.answers[0].result, Errc::ok);
    EXPECT_EQ(events_.answers[0].addresses,
              (std::vector<net::IpAddress>{address("192.168.1.10"), address("192.168.1.11")}));
    EXPECT_EQ(events_.answers[0].ttl_s, 45u);
    EXPECT_EQ(client_->counters().replies_unexpected, 1u);
}

TEST_F(DnsClientTest, ReportsTheAgentsRefusalsAndIgnoresStrangers) {
    (void)client_->resolve_host(peer_id, peer(), "nothing.lan", events_).value();
    const Sent first = sent_query();
    reply(first, DnsRcode::noerror, {record(address("2001:db8::1"))}, address("fd00::1"));  // another address
    reply(first, DnsRcode::noerror, {record(address("2001:db8::1"))}, peer(), 5353);        // another port
    EXPECT_TRUE(events_.answers.empty());
    EXPECT_EQ(client_->counters().replies_unexpected, 2u);
    reply(first, DnsRcode::nxdomain, {});  // no such name: A is not asked
    ASSERT_EQ(events_.answers.size(), 1u);
    EXPECT_EQ(events_.answers[0].result, Errc::not_found);
    EXPECT_TRUE(output_.sent.empty());

    (void)client_->resolve_host(peer_id, peer(), "secret.lan", events_).value();
    reply(sent_query(), DnsRcode::refused, {});
    (void)client_->resolve_host(peer_id, peer(), "broken.lan", events_).value();
    reply(sent_query(), DnsRcode::servfail, {});
    ASSERT_EQ(events_.answers.size(), 3u);
    EXPECT_EQ(events_.answers[1].result, Errc::refused);
    EXPECT_EQ(events_.answers[2].result, Errc::io);

    EXPECT_EQ(client_->resolve_host(peer_id, peer(), "bad..name", events_).error(), Errc::invalid_argument);
    EXPECT_EQ(client_->resolve_host(peer_id, peer(), ".", events_).error(), Errc::invalid_argument);
    EXPECT_EQ(client_->resolve_host(99, peer(), "printer.lan", events_).error(), Errc::not_found);
}

TEST_F(DnsClientTest, RetriesThenTimesOutAndBoundsLookups) {
    const std::uint32_t lookup = client_->resolve_host(peer_id, peer(), "slow.lan", events_).value();
    const Sent first = sent_query();
    for (int attempt = 1; attempt < DnsClient::max_attempts; ++attempt) {
        clock_.monotonic += DnsClient::retry_interval_ms;
        client_->tick();
        EXPECT_EQ(sent_query().query.id, first.query.id);  // the same question again
    }
    clock_.monotonic += DnsClient::retry_interval_ms;
    client_->tick();
    ASSERT_EQ(events_.answers.size(), 1u);
    EXPECT_EQ(events_.answers[0].lookup, lookup);
    EXPECT_EQ(events_.answers[0].result, Errc::timed_out);

    output_.sent.clear();
    std::vector<std::uint32_t> lookups;
    for (std::size_t i = 0; i < DnsClient::max_lookups; ++i) {
        lookups.push_back(client_->resolve_host(peer_id, peer(), "many.lan", events_).value());
    }
    EXPECT_EQ(client_->resolve_host(peer_id, peer(), "many.lan", events_).error(), Errc::no_space);
    client_->cancel(lookups[0]);
    EXPECT_TRUE(client_->resolve_host(peer_id, peer(), "many.lan", events_).ok());
}

// ---- both in one stack: the client's datagrams looped back through the peer's netif ------------

TEST_F(DnsServerTest, AClientResolvesThroughTheServerAndTheNameIsRemembered) {
    DnsClient client(*stack_, clock_);
    HostAnswers events;
    // The "agent" is this node itself: its own address, through the peer's netif.
    (void)client.resolve_host(peer_id, node(), "printer.lan", events).value();
    const auto loop = [&] {
        for (int round = 0; round < 8 && !output_.sent.empty(); ++round) {
            const std::vector<SentPacket> sent = std::move(output_.sent);
            output_.sent.clear();
            for (const SentPacket& packet : sent) stack_->deliver(packet.peer, packet.bytes);
        }
    };
    loop();
    ASSERT_EQ(resolver_.requests.size(), 1u);
    resolver_.answer(0, Errc::ok, {address("192.168.1.10")});
    loop();  // AAAA: empty, so the client asks A
    ASSERT_EQ(resolver_.requests.size(), 2u);
    resolver_.answer(1, Errc::ok, {address("192.168.1.10")});
    loop();
    ASSERT_EQ(events.answers.size(), 1u);
    EXPECT_EQ(events.answers[0].result, Errc::ok);
    EXPECT_EQ(events.answers[0].addresses, std::vector<net::IpAddress>{address("192.168.1.10")});
    EXPECT_EQ(events.answers[0].ttl_s, 60u);
    config::AllowRule rule;
    rule.kind = config::AllowKind::domain;
    rule.any_subdomain = true;
    ASSERT_TRUE(rule.domain.assign("lan").ok());
    EXPECT_TRUE(server_->resolved_names().resolved_to(peer_id, rule, address("192.168.1.10"), 0));
}

}  // namespace
}  // namespace pinhole::overlay
