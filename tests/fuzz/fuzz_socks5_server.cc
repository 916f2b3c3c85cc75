// The SOCKS5 server's negotiation (core/proxy/socks5_server.h) driven through an in-memory
// port::Tcp (tests/unit/fake_tcp.h) by any sequence of events: connections accepted, bytes in
// any slicing (raw or well-formed messages), the client's FIN or reset, short writes and short
// reads, the owner's succeed/refuse (later or from inside the callback), time passing.
//
// Checked: nothing crashes; the server never touches an id that is not open; accept refuses
// exactly when every slot holds a negotiation; a negotiation the owner has not been given is
// gone once its deadline passed; the owner hears of a request once, with what the client sent,
// and the server has read exactly the messages before it (the rest is still in the socket);
// on_socks_abandoned names only connections the owner was working on; everything written to a
// client is a well-formed sequence (method choice, auth status, reply), the method and status
// the right answers to what the client sent, that ends where it must
// (0xFF, a failed auth status, a refusal: then closed; a success: then handed over), a message
// cut short only on a connection the server closed; and once everything is closed and the
// deadline passed, every slot is free again.
//
// Input: the first byte picks the settings (password or not, the timeout), then events of one
// op byte and the bytes the op takes, at most 64 events.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/proxy/socks5_server.h"
#include "core/util/time.h"
#include "tests/unit/fake_tcp.h"

namespace {

using namespace pinhole;
using namespace pinhole::proxy;
using port::TcpConnectionId;
using Bytes = std::vector<std::uint8_t>;

#define CHECK(condition)                        \
    do {                                        \
        if (!(condition)) __builtin_trap();     \
    } while (false)

constexpr std::string_view user = "user";
constexpr std::string_view password = "pass";

class Input {
public:
    explicit Input(std::span<const std::uint8_t> data) : data_(data) {}
    [[nodiscard]] bool empty() const { return at_ >= data_.size(); }
    std::uint8_t byte() { return empty() ? 0 : data_[at_++]; }
    std::span<const std::uint8_t> bytes(std::size_t count) {
        count = std::min(count, data_.size() - std::min(at_, data_.size()));
        const auto taken = data_.subspan(at_, count);
        at_ += count;
        return taken;
    }

private:
    std::span<const std::uint8_t> data_;
    std::size_t at_ = 0;
};

struct Clock final : port::Clock {
    std::uint32_t monotonic_ms() noexcept override { return now; }
    port::WallTime wall_time() noexcept override { return {}; }
    std::uint32_t now = 0;
};

// Where the owner puts a connection it took over.
struct Sink final : port::TcpEvents {
    void on_connected(TcpConnectionId, Errc) noexcept override {}
    void on_readable(TcpConnectionId) noexcept override {}
    void on_writable(TcpConnectionId) noexcept override {}
    void on_closed(TcpConnectionId, Errc) noexcept override {}
};

struct Model {
    net::Endpoint from;
    std::uint32_t accepted_at = 0;
    Bytes fed;
    bool pending = false;       // the owner works on its request
    int reads_at_request = 0;   // read() calls when the owner was told
    bool handed_over = false;   // succeed() took it
    int owner_refused = -1;     // the code the owner refused with
};

class World final : public Socks5Events {
public:
    explicit World(std::uint8_t setup) {
        auth = (setup & 1) != 0;
        settings.negotiation_timeout_ms = 1'000u * (1 + (setup >> 1) % 16);
        if (auth) {
            settings.user = user;
            settings.password = password;
        }
        clock.now = setup >= 0x80 ? 0xffff'f000u : 0;  // sometimes across the wrap
        server.emplace(tcp, clock, *this, settings);
    }

    // ---- the owner ----
    void on_socks_connect(TcpConnectionId connection, const SocksAddress& destination) noexcept override {
        told(connection, Command::connect, &destination, nullptr);
    }
    void on_socks_udp_associate(TcpConnectionId connection, const net::Endpoint& client) noexcept override {
        told(connection, Command::udp_associate, nullptr, &client);
    }
    void on_socks_abandoned(TcpConnectionId connection) noexcept override {
        CHECK(tcp.knows(connection) && models[connection].pending);
        CHECK(!tcp.is_open(connection));
        models[connection].pending = false;
    }

    void told(TcpConnectionId connection, Command command, const SocksAddress* destination,
              const net::Endpoint* client) {
        CHECK(tcp.knows(connection));
        Model& model = models[connection];
        CHECK(held(connection) && !model.pending && !model.handed_over);
        // The server read exactly the messages up to the request.
        const std::span<const std::uint8_t> fed(model.fed);
        const std::size_t consumed = fed.size() - tcp.at(connection).input.size();
        const auto greeting = parse_greeting(fed);
        CHECK(greeting.ok());
        std::size_t at = greeting.value().consumed;
        if (auth) {
            const auto credentials = parse_user_password(fed.subspan(at));
            CHECK(credentials.ok());
            CHECK(credentials.value().message.user == user && credentials.value().message.password == password);
            at += credentials.value().consumed;
        }
        const auto request = parse_request(fed.subspan(at));
        CHECK(request.ok());
        at += request.value().consumed;
        CHECK(consumed == at);
        const Request& message = request.value().message;
        CHECK(message.command == command);
        if (destination != nullptr) {
            CHECK(destination->host_name == message.destination.host_name);
            CHECK(destination->endpoint == message.destination.endpoint);
        }
        if (client != nullptr) {
            CHECK(client->address == model.from.address);
            const bool names_port = message.destination.host_name.size() == 0;
            CHECK(client->port == (names_port ? message.destination.endpoint.port : 0));
        }
        model.pending = true;
        model.reads_at_request = tcp.at(connection).reads;
        requests++;
        if (command == Command::udp_associate) udp_requests++;
        if (answer_inside == 1) succeed(connection, net::Endpoint{net::IpAddress::v4(127, 0, 0, 1), 1080});
        if (answer_inside == 2) refuse(connection, ReplyCode::not_allowed);
    }

    void succeed(TcpConnectionId connection, const net::Endpoint& bound) {
        Model& model = models[connection];
        CHECK(model.pending);
        CHECK(tcp.at(connection).reads == model.reads_at_request);  // nothing read while it waited
        const std::size_t before = tcp.at(connection).output.size();
        const Status result = server->succeed(connection, bound);
        model.pending = false;
        if (!result.ok()) {
            CHECK(result.error() == Errc::closed && tcp.at(connection).closed);
            return;
        }
        std::array<std::uint8_t, max_reply_bytes> reply{};
        const auto encoded = encode_reply(ReplyCode::succeeded, bound, reply);
        CHECK(encoded.ok());
        const Bytes& output = tcp.at(connection).output;
        CHECK(output.size() == before + encoded.value());
        CHECK(std::equal(output.begin() + static_cast<std::ptrdiff_t>(before), output.end(), reply.begin()));
        CHECK(tcp.is_open(connection));
        model.handed_over = true;
        tcp.set_events(connection, sink);
    }

    void refuse(TcpConnectionId connection, ReplyCode code) {
        Model& model = models[connection];
        CHECK(model.pending);
        CHECK(tcp.at(connection).reads == model.reads_at_request);
        server->refuse(connection, code);
        model.pending = false;
        model.owner_refused = static_cast<int>(code);
        CHECK(!tcp.is_open(connection) && tcp.at(connection).closed);
    }

    // ---- the model ----
    [[nodiscard]] bool held(TcpConnectionId connection) {
        return tcp.is_open(connection) && tcp.at(connection).events == &*server;
    }
    [[nodiscard]] std::size_t held_count() {
        std::size_t count = 0;
        for (TcpConnectionId id = 1; id < tcp.connections.size(); id++) count += held(id) ? 1 : 0;
        return count;
    }

    Result<TcpConnectionId> accept(const net::Endpoint& from) {
        const TcpConnectionId next = tcp.next_id();
        if (tcp.knows(next)) check_output(tcp.at(next), models[next]);  // before open() forgets it
        const std::size_t before = held_count();
        const TcpConnectionId connection = tcp.open();
        if (models.size() <= connection) models.resize(connection + 1u);
        models[connection] = Model{from, clock.now, {}, false, 0, false, -1};
        const Status accepted = server->accept(connection, from);
        CHECK(accepted.ok() == (before < max_socks_negotiations));
        if (!accepted.ok()) {
            CHECK(accepted.error() == Errc::no_space);
            CHECK(tcp.at(connection).closed && tcp.at(connection).reset && tcp.at(connection).output.empty());
            return accepted.error();
        }
        CHECK(held(connection));
        return connection;
    }

    void feed(TcpConnectionId connection, std::span<const std::uint8_t> bytes) {
        tcp.feed(connection, bytes);
        Bytes& fed = models[connection].fed;
        fed.insert(fed.end(), bytes.begin(), bytes.end());
    }

    void tick() {
        server->tick();
        for (TcpConnectionId id = 1; id < tcp.connections.size(); id++) {
            if (!held(id) || models[id].pending) continue;
            // Still negotiating: its deadline has not come.
            CHECK(time_before(clock.now, models[id].accepted_at + settings.negotiation_timeout_ms));
        }
    }

    // Everything written to each client is a well-formed sequence that ends where it must.
    void check_outputs() {
        for (TcpConnectionId id = 1; id < tcp.connections.size(); id++) check_output(tcp.at(id), models[id]);
    }
    void check_output(const fakes::FakeTcp::Connection& connection, const Model& model) const {
        const std::size_t read = model.fed.size() - connection.input.size();
        const Bytes& out = connection.output;
        const bool closed = connection.closed;
        if (out.empty()) return;
        CHECK(out[0] == socks_version);
        if (out.size() < 2) {
            CHECK(closed);
            return;
        }
        // The method and the status are the answers to what the client sent.
        const std::span<const std::uint8_t> fed(model.fed);
        const auto greeting = parse_greeting(fed);
        CHECK(greeting.ok());
        const AuthMethod chosen = pick_method(greeting.value().message, ServerAuth{.no_auth = !auth, .user_password = auth});
        const std::uint8_t method = out[1];
        CHECK(method == static_cast<std::uint8_t>(chosen));
        std::size_t at = 2;
        std::size_t request_at = greeting.value().consumed;
        if (method == 0xff) {
            CHECK(out.size() == 2 && closed && !model.handed_over);
            return;
        }
        if (auth) {
            if (out.size() == at) return;
            CHECK(out[at] == user_password_version);
            if (out.size() == at + 1) {
                CHECK(closed);
                return;
            }
            const std::uint8_t status = out[at + 1];
            const auto given = parse_user_password(fed.subspan(greeting.value().consumed));
            if (!given.ok()) {  // malformed credentials: RFC 1929's failure status, then closed
                CHECK(status == 1 && out.size() == at + 2 && closed && !model.handed_over);
                return;
            }
            const bool right = given.value().message.user == user && given.value().message.password == password;
            CHECK(status == (right ? 0 : 1));
            at += 2;
            request_at += given.value().consumed;
            if (status == 1) {
                CHECK(out.size() == at && closed && !model.handed_over);
                return;
            }
        }
        if (out.size() == at) return;
        const auto reply = parse_reply(std::span(out).subspan(at));
        if (!reply.ok()) {
            CHECK(reply.error() == Errc::would_block && closed);  // cut short, then closed
            return;
        }
        CHECK(reply.value().consumed == out.size() - at);  // nothing after the reply
        const auto code = static_cast<std::uint8_t>(reply.value().message.code);
        if (code == 0) {
            CHECK(model.handed_over);
        } else {
            CHECK(closed && !model.handed_over);
            if (model.owner_refused >= 0) {
                CHECK(code == model.owner_refused);
            } else {  // the server's own refusal: of what it read of the request
                CHECK(read >= request_at);
                const auto request = std::span(model.fed).subspan(request_at, read - request_at);
                const auto parsed = parse_request(request);
                if (parsed.ok()) {
                    CHECK(parsed.value().message.command == Command::bind);
                    CHECK(code == static_cast<std::uint8_t>(ReplyCode::command_not_supported));
                } else {
                    CHECK(code == static_cast<std::uint8_t>(reply_for_refused_request(request)));
                }
            }
        }
    }

    bool auth = false;
    Socks5Settings settings;
    fakes::FakeTcp tcp;
    Clock clock;
    Sink sink;
    std::optional<Socks5Server> server;
    std::vector<Model> models = std::vector<Model>(1);  // by id, as tcp.connections
    int answer_inside = 0;  // 1 succeed, 2 refuse, from inside the callback
    std::uint64_t requests = 0;
    std::uint64_t udp_requests = 0;
};

// Well-formed pieces, so the fuzzer reaches the request without guessing every byte.
Bytes canned(std::uint8_t kind, std::uint8_t detail) {
    switch (kind % 12) {
        case 0: return {5, 1, 0};
        case 1: return {5, 1, 2};
        case 2: return {5, 3, 0, 1, 2};
        case 3: return {5, 1, 1};
        case 4: return {1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 's'};
        case 5: return {1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', detail};
        case 6: return {5, 1, 0, 1, 192, 0, 2, detail, 0, 80};
        case 7: return {5, 1, 0, 4, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, detail, 1, 0xbb};
        case 8: return {5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', detail, 0, 80};
        case 9: return {5, 3, 0, 1, 0, 0, 0, 0, 0, detail};
        case 10: return {5, 2, 0, 1, 192, 0, 2, 1, 0, 21};
        default: return {5, 1, 0, detail, 1, 2, 3, 4, 5, 6};
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input input(std::span(data, size));
    World world(input.byte());
    fakes::FakeTcp& tcp = world.tcp;

    const auto pick_open = [&](std::uint8_t selector) -> std::optional<TcpConnectionId> {
        std::vector<TcpConnectionId> open;
        for (TcpConnectionId id = 1; id < tcp.connections.size(); id++) {
            if (tcp.is_open(id) && !world.models[id].handed_over) open.push_back(id);
        }
        if (open.empty()) return std::nullopt;
        return open[selector % open.size()];
    };
    const auto pick_pending = [&](std::uint8_t selector) -> std::optional<TcpConnectionId> {
        std::vector<TcpConnectionId> pending;
        for (TcpConnectionId id = 1; id < world.models.size(); id++) {
            if (world.models[id].pending) pending.push_back(id);
        }
        if (pending.empty()) return std::nullopt;
        return pending[selector % pending.size()];
    };

    for (int event = 0; event < 64 && !input.empty(); event++) {
        const std::uint8_t op = input.byte();
        const std::uint8_t selector = input.byte();
        switch (op % 12) {
            case 0: {  // a connection arrives
                const net::Endpoint from = selector % 2 == 0
                                               ? net::Endpoint{net::IpAddress::v4(127, 0, 0, selector), 40000}
                                               : net::Endpoint{net::parse_address("2001:db8::5").value(), selector};
                (void)world.accept(from);
                break;
            }
            case 1: {  // raw bytes
                const auto connection = pick_open(selector);
                const auto bytes = input.bytes(input.byte() % 64);
                if (!connection) break;
                world.feed(*connection, bytes);
                tcp.readable(*connection);
                break;
            }
            case 2: {  // a well-formed piece, maybe with more after it, maybe split
                const auto connection = pick_open(selector);
                const std::uint8_t kind = input.byte();
                const std::uint8_t detail = input.byte();
                if (!connection) break;
                Bytes piece = canned(kind, detail);
                if ((kind & 0x80) != 0) piece.insert(piece.end(), {'G', 'E', 'T', ' ', '/'});
                const std::size_t split = detail % (piece.size() + 1);
                world.feed(*connection, std::span(piece).first(split));
                tcp.readable(*connection);
                if (!tcp.is_open(*connection)) break;
                world.feed(*connection, std::span(piece).subspan(split));
                tcp.readable(*connection);
                break;
            }
            case 3: {  // the client's FIN
                const auto connection = pick_open(selector);
                if (!connection) break;
                tcp.finish(*connection);
                tcp.readable(*connection);
                break;
            }
            case 4: {  // a reset
                const auto connection = pick_open(selector);
                if (connection) tcp.fail(*connection);
                break;
            }
            case 5: {  // the owner succeeds
                const auto connection = pick_pending(selector);
                const std::uint8_t kind = input.byte();
                if (!connection) break;
                net::Endpoint bound;
                if (kind % 3 == 1) bound = net::Endpoint{net::IpAddress::v4(10, 0, 0, kind), kind};
                if (kind % 3 == 2) bound = net::Endpoint{net::parse_address("2001:db8::1").value(), kind};
                world.succeed(*connection, bound);
                break;
            }
            case 6: {  // the owner refuses
                const auto connection = pick_pending(selector);
                const std::uint8_t code = input.byte();
                if (connection) world.refuse(*connection, static_cast<ReplyCode>(1 + code % 8));
                break;
            }
            case 7:  // time passes
                world.clock.now += selector < 250 ? selector * 100u : 100'000u;
                world.tick();
                break;
            case 8: {  // the client stops reading
                const auto connection = pick_open(selector);
                static constexpr std::size_t rooms[] = {0, 1, 2, 3, 7, 12, fakes::FakeTcp::unlimited};
                const std::uint8_t room = input.byte();
                if (connection) tcp.at(*connection).write_room = rooms[room % std::size(rooms)];
                break;
            }
            case 9: {  // short reads
                const auto connection = pick_open(selector);
                static constexpr std::size_t limits[] = {1, 2, 3, 5, fakes::FakeTcp::unlimited};
                const std::uint8_t limit = input.byte();
                if (connection) tcp.at(*connection).read_limit = limits[limit % std::size(limits)];
                break;
            }
            case 10:  // how the owner answers from now on
                world.answer_inside = selector % 3;
                break;
            default: {  // a stray answer or event for a connection the owner does not wait on
                const TcpConnectionId connection = selector % 40;
                if (tcp.knows(connection) && world.models[connection].pending) break;
                const std::size_t before = tcp.knows(connection) ? tcp.at(connection).output.size() : 0;
                CHECK(world.server->succeed(connection, net::Endpoint{}).error() == Errc::invalid_argument);
                if (tcp.knows(connection)) CHECK(tcp.at(connection).output.size() == before);
                tcp.readable(connection);
                break;
            }
        }
        CHECK(tcp.misuse == 0);
        CHECK(world.server->counters().requests == world.requests);
        CHECK(world.server->counters().udp_associations == world.udp_requests);
    }
    world.check_outputs();

    // Everything closes (the owner closes what it took over; the rest is reset by the client),
    // the deadline passes: every slot is free.
    for (TcpConnectionId id = 1; id < tcp.connections.size(); id++) {
        if (!tcp.is_open(id)) continue;
        if (world.models[id].handed_over) {
            tcp.close(id, false);
        } else {
            tcp.fail(id);
        }
    }
    for (const Model& model : world.models) CHECK(!model.pending);
    world.clock.now += world.settings.negotiation_timeout_ms;
    world.tick();
    CHECK(world.held_count() == 0);
    world.check_outputs();
    for (std::size_t i = 0; i < max_socks_negotiations; i++) CHECK(world.server->accept(tcp.open(), net::Endpoint{}).ok());
    const TcpConnectionId extra = tcp.open();
    CHECK(world.server->accept(extra, net::Endpoint{}).error() == Errc::no_space && !tcp.is_open(extra));
    CHECK(tcp.misuse == 0);
    return 0;
}
