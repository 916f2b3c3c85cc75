// The agent's DNS server (core/overlay/dns_server.h) fed any sequence of events: queries from
// its peer over UDP, queries on a TCP connection that is not there, its resolver's answers (any
// result, any addresses), time passing. Nothing crashes; at most max_dns_pending resolutions
// wait; every answer sent is a response (QR) that parse_response reads back for its query, with
// at most max_udp_dns_bytes; a query the parser took gets at most one answer.
//
// Input: chunks of [op][length][bytes...]: op % 4 = 0 a UDP query (the bytes), 1 a TCP one,
// 2 the oldest open resolution answered (the first byte picks the result, the rest are
// addresses: 4 bytes for IPv4 with a flag byte, 16 for IPv6), 3 the clock moves (bytes * 100 ms).
#include <lwip/init.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/keys/keys.h"
#include "core/overlay/dns_server.h"
#include "core/overlay/lwip_address.h"

namespace {

using namespace pinhole;
using namespace pinhole::overlay;

constexpr PeerId peer_id = 1;

struct Output final : OverlayOutput {
    void send_packet(PeerId, std::span<const std::uint8_t> packet) noexcept override {
        if (packet.size() >= 48 && packet[6] == 17) answers.emplace_back(packet.begin() + 48, packet.end());
    }
    std::vector<std::vector<std::uint8_t>> answers;
};

struct Resolver final : port::Resolver {
    struct Open {
        port::ResolveId id;
        port::ResolveEvents* events;
    };
    Result<port::ResolveId> resolve(std::string_view host, net::Family, port::ResolveEvents& events) noexcept override {
        if (host.empty() || host.size() > port::max_host_name_bytes) __builtin_trap();
        if (open.size() >= 4) return Errc::no_space;
        open.push_back({next, &events});
        return next++;
    }
    void cancel(port::ResolveId id) noexcept override {
        std::erase_if(open, [id](const Open& o) { return o.id == id; });
    }
    std::vector<Open> open;
    port::ResolveId next = 0;
};

struct Policy final : DirectoryPolicy, NamePolicy {
    void published_services(PeerId, ServiceList& out) noexcept override {
        PublishedService web;
        (void)web.name.assign("web");
        web.port = 8080;
        (void)out.push_back(web);
    }
    bool may_resolve(PeerId) noexcept override { return true; }
    bool remembers(PeerId, std::string_view name) noexcept override { return name.size() % 2 == 0; }
};

struct Clock final : port::Clock {
    std::uint32_t monotonic_ms() noexcept override { return now; }
    port::WallTime wall_time() noexcept override { return {}; }
    std::uint32_t now = 0;
};

struct NullSink final : port::LogSink {
    void write(port::LogLevel, std::string_view) noexcept override {}
};

crypto::X25519Key key_of(std::uint8_t seed) {
    crypto::X25519Key private_key{};
    private_key.fill(seed);
    return keys::key_pair_from_private(private_key).value().public_key;
}

// Everything lives for the process: lwIP is one instance and lwip_init runs once.
struct World {
    World() : stack((lwip_init(), output), key_of(1)) {
        (void)stack.add_address(net::IpAddress::v4(10, 77, 0, 1));
        (void)stack.add_peer(peer_id, 1420, peer_key, {});
        server.emplace(stack, policy, policy, DnsServer::Ports{resolver, clock}, logger);
    }
    Output output;
    const crypto::X25519Key peer_key = key_of(2);
    const ip_addr_t peer_address = lwip_address(keys::overlay_address(peer_key));
    OverlayStack stack;
    Policy policy;
    Resolver resolver;
    Clock clock;
    NullSink sink;
    Logger logger{sink, port::LogLevel::debug};
    std::optional<DnsServer> server;
};

void check_answers(World& world, std::span<const std::uint8_t> query) {
    const auto parsed = parse_query(query);
    for (const auto& answer : world.output.answers) {
        if (answer.size() > max_udp_dns_bytes || answer.size() < dns_header_bytes) __builtin_trap();
        if ((answer[2] & 0x80) == 0) __builtin_trap();  // QR
        if (!parsed.ok()) continue;
        if (answer[0] != query[0] || answer[1] != query[1]) continue;  // an earlier query's
        const auto read = parse_response(answer, parsed.value().id, parsed.value().question);
        if (read.error() == Errc::malformed) __builtin_trap();
    }
    if (parsed.ok() && world.output.answers.size() > 1) __builtin_trap();
    world.output.answers.clear();
}

void answer_oldest(World& world, std::span<const std::uint8_t> bytes) {
    if (world.resolver.open.empty()) return;
    const Resolver::Open open = world.resolver.open.front();
    world.resolver.open.erase(world.resolver.open.begin());
    static constexpr Errc results[] = {Errc::ok, Errc::not_found, Errc::timed_out, Errc::io};
    const Errc result = bytes.empty() ? Errc::ok : results[bytes[0] % 4];
    std::vector<net::IpAddress> addresses;
    std::size_t at = 1;
    while (at < bytes.size() && addresses.size() < port::max_resolved_addresses) {
        const bool v4 = bytes[at] % 2 == 0;
        const std::size_t size = v4 ? 4 : 16;
        if (at + 1 + size > bytes.size()) break;
        addresses.push_back(v4 ? net::IpAddress::v4(bytes[at + 1], bytes[at + 2], bytes[at + 3], bytes[at + 4])
                               : net::IpAddress::v6(std::span<const std::uint8_t, 16>(&bytes[at + 1], 16)));
        at += 1 + size;
    }
    if (result != Errc::ok) addresses.clear();
    open.events->on_resolved(open.id, result, addresses);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    const std::span<const std::uint8_t> input(data, size);
    std::size_t at = 0;
    // At most 32 events an input: a longer sequence adds little and slows every run.
    for (int event = 0; event < 32 && at + 3 <= input.size(); ++event) {
        const std::uint8_t op = input[at];
        const std::size_t length = std::min<std::size_t>(input[at + 1] << 8 | input[at + 2], input.size() - at - 3);
        const std::span<const std::uint8_t> bytes = input.subspan(at + 3, length);
        at += 3 + length;
        DnsOrigin origin;
        origin.peer_netif = world.stack.peer_netif(peer_id);
        origin.from = world.peer_address;
        origin.from_port = 40000;
        origin.to = lwip_address(world.stack.overlay_address());
        switch (op % 4) {
            case 0: world.server->take_query(peer_id, bytes, origin); break;
            case 1:
                origin.tcp = true;
                world.server->take_query(peer_id, bytes, origin);
                break;
            case 2: answer_oldest(world, bytes); break;
            default:
                world.clock.now += static_cast<std::uint32_t>(length) * 100;
                world.server->tick();
                break;
        }
        if (world.server->pending() > max_dns_pending) __builtin_trap();
        if (op % 4 == 0) check_answers(world, bytes);
        world.output.answers.clear();
    }
    return 0;
}
