#include "apps/node/control_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/proxy/socks5_server.h"
#include "core/proxy/socks5_udp.h"
#include "core/proxy/udp_forward.h"
#include "core/util/format.h"
#include "core/util/time.h"

namespace pinhole::node {

namespace {

// What the agent's reset said (core/overlay/refusal.h), for the command's user.
std::string dial_failure_text(Errc result) {
    switch (result) {
        case Errc::permission: return "the agent's access list does not allow it";
        case Errc::refused: return "refused at the agent's side (nothing listens there)";
        case Errc::unreachable: return "the agent cannot reach it (no route, or the name did not resolve)";
        case Errc::timed_out: return "no answer (the agent, or the destination behind it, is silent)";
        case Errc::no_space: return "the agent is busy (every stream in use)";
        default: return describe(result);
    }
}

}  // namespace

// One attached command. Owns its control connection until a `connect` hands it to a stream.
class ControlSession final : public port::TcpEvents,
                             public port::TcpListenEvents,
                             public overlay::DialEvents,
                             public overlay::DirectoryEvents,
                             public overlay::DnsClientEvents,
                             public proxy::Socks5Events {
public:
    explicit ControlSession(ControlServer& server) : server_(server) {}
    ~ControlSession();
    void attach(port::TcpConnectionId control) { control_ = control; }
    [[nodiscard]] bool done() const { return done_; }

    void on_connected(port::TcpConnectionId, Errc) noexcept override {}
    void on_readable(port::TcpConnectionId connection) noexcept override;
    void on_writable(port::TcpConnectionId) noexcept override {}
    void on_closed(port::TcpConnectionId connection, Errc reason) noexcept override;
    void on_accepted(port::TcpListenerId listener, port::TcpConnectionId connection,
                     const net::Endpoint& from) noexcept override;
    void on_dialed(overlay::StreamId stream, Errc result) noexcept override;
    void on_directory(std::uint32_t query, Errc result, const overlay::ServiceList& services) noexcept override;
    void on_host_resolved(std::uint32_t lookup, Errc result, std::span<const net::IpAddress> addresses,
                          std::uint32_t ttl_s) noexcept override;
    void on_socks_connect(port::TcpConnectionId connection, const proxy::SocksAddress& destination) noexcept override;
    void on_socks_abandoned(port::TcpConnectionId connection) noexcept override;
    void on_socks_udp_associate(port::TcpConnectionId connection, const net::Endpoint& client) noexcept override;
    void tick() {
        if (socks_) socks_->tick();
        if (udp_forward_) udp_forward_->tick();
        std::erase_if(associations_, [](const auto& entry) { return entry.second->ended; });
        for (auto& [connection, association] : associations_) association->relay.tick();
    }

private:
    enum class State { reading, looking_up, dialing, forwarding, finished };
    void handle(const Request& request);
    void destination_known(const net::Endpoint& destination);
    [[nodiscard]] std::optional<net::Endpoint> open_listener();
    void start_proxy();
    void start_udp_forward();
    void socks_dial(port::TcpConnectionId connection, const net::Endpoint& destination);
    void socks_service_found(port::TcpConnectionId connection, Errc result, const overlay::ServiceList& services,
                             std::string_view name);
    void socks_dialed(port::TcpConnectionId connection, Errc result, const std::string& why);
    // Host names: asked of the agent's DNS, for the command, a SOCKS5 connection or a forwarded one.
    enum class NameUse { command, socks, forward };
    struct NameLookup {
        NameUse use;
        port::TcpConnectionId connection;  // socks, forward
        std::string name;
        std::uint16_t port;
    };
    void resolve_name(NameUse use, std::string_view name, std::uint16_t port, port::TcpConnectionId connection);
    void name_resolved(const NameLookup& lookup, Errc result, const net::Endpoint& destination);
    void reply(ReplyCode code, std::string_view text);
    void finish();
    port::Tcp& tcp() { return server_.tcp(); }

    ControlServer& server_;
    std::optional<port::TcpConnectionId> control_;
    State state_ = State::reading;
    bool done_ = false;
    std::string line_;
    Request request_{};
    overlay::PeerId peer_ = 0;
    net::Endpoint destination_;
    std::optional<std::uint32_t> lookup_;
    std::optional<overlay::StreamId> connect_stream_;
    std::optional<port::TcpListenerId> listener_;
    std::map<overlay::StreamId, port::TcpConnectionId> forward_dials_;  // dialing, not yet streams
    // `proxy`: the SOCKS5 negotiations, service lookups and dials of its connections.
    std::unique_ptr<proxy::Socks5Server> socks_;
    struct SocksLookup {
        port::TcpConnectionId connection;
        config::Name service;
    };
    std::map<std::uint32_t, SocksLookup> socks_lookups_;
    std::map<overlay::StreamId, port::TcpConnectionId> socks_dials_;
    std::map<std::uint32_t, NameLookup> name_lookups_;
    std::optional<std::uint32_t> name_fresh_until_ms_;  // forward: resolve again for a connection after this
    std::unique_ptr<proxy::UdpForward> udp_forward_;  // `forward-udp`
    // SOCKS5 UDP ASSOCIATE: a relay per client, for as long as its TCP connection lasts.
    struct Association final : port::TcpEvents {
        Association(port::Tcp& control_tcp, port::TcpConnectionId control, proxy::Socks5UdpRelay::Ports ports,
                    overlay::UdpFlows& flows, overlay::PeerId peer, const net::Endpoint& client)
            : tcp(control_tcp), connection(control), relay(ports, flows, peer, client) {}
        ~Association() {
            if (!ended) tcp.close(connection, false);
        }
        void on_connected(port::TcpConnectionId, Errc) noexcept override {}
        void on_writable(port::TcpConnectionId) noexcept override {}
        void on_readable(port::TcpConnectionId) noexcept override {
            std::array<std::uint8_t, 512> discard{};
            for (int round = 0; round < 64 && !ended; round++) {  // the client sends nothing more
                const Result<std::size_t> got = tcp.read(connection, discard);
                if (!got.ok()) return;
                if (got.value() == 0) end();
            }
        }
        void on_closed(port::TcpConnectionId, Errc) noexcept override { ended = true; }
        void end() {
            tcp.close(connection, false);
            ended = true;
        }
        port::Tcp& tcp;
        port::TcpConnectionId connection;
        proxy::Socks5UdpRelay relay;
        bool ended = false;
    };
    std::map<port::TcpConnectionId, std::unique_ptr<Association>> associations_;
};

ControlSession::~ControlSession() {
    if (lookup_) server_.node().directory().cancel(*lookup_);
    for (const auto& [lookup, name] : name_lookups_) {
        server_.node().names().cancel(lookup);
        if (name.use == NameUse::forward) tcp().close(name.connection, true);
    }
    if (connect_stream_) server_.node().streams().cancel_dial(*connect_stream_);
    for (const auto& [stream, connection] : forward_dials_) {
        server_.node().streams().cancel_dial(stream);
        tcp().close(connection, true);
    }
    for (const auto& [query, lookup] : socks_lookups_) server_.node().directory().cancel(query);
    for (const auto& [stream, connection] : socks_dials_) {
        server_.node().streams().cancel_dial(stream);
        tcp().close(connection, true);
    }
    associations_.clear();
    socks_.reset();  // closes the connections still negotiating
    udp_forward_.reset();
    if (listener_) tcp().close_listener(*listener_);
    if (control_) tcp().close(*control_, false);
}

void ControlSession::finish() {
    state_ = State::finished;
    done_ = true;
}

void ControlSession::reply(ReplyCode code, std::string_view text) {
    if (!control_) return;
    std::array<char, control_line_max_bytes> line{};
    std::string safe(text.substr(0, control_line_max_bytes - 32));
    std::replace_if(safe.begin(), safe.end(), [](char c) { return c < 0x20 || c > 0x7E; }, '?');
    const Result<std::size_t> formatted = format_reply(code, safe, line);
    if (!formatted.ok()) return;
    const Result<std::size_t> written =
        tcp().write(*control_, {reinterpret_cast<const std::uint8_t*>(line.data()), formatted.value()});
    if (!written.ok() || written.value() != formatted.value()) finish();  // the command stopped reading
}

void ControlSession::on_readable(port::TcpConnectionId connection) noexcept {
    if (connection != control_) return;  // a forwarded connection still dialing: later
    // While a `connect` dials, its bytes (none: the command waits for our reply) stay unread.
    if (state_ != State::reading && state_ != State::forwarding) return;
    std::array<std::uint8_t, control_line_max_bytes> buffer{};
    for (int round = 0; round < 4; round++) {
        const Result<std::size_t> got = tcp().read(connection, buffer);
        if (!got.ok()) return;  // would_block; errors arrive as on_closed
        if (got.value() == 0) {  // the command went away: a forward ends with it
            finish();
            return;
        }
        if (state_ != State::reading) continue;  // a forward expects nothing more: ignored
        line_.append(reinterpret_cast<const char*>(buffer.data()), got.value());
        const std::size_t end = line_.find('\n');
        if (end == std::string::npos && line_.size() < control_line_max_bytes) continue;
        if (end == std::string::npos || end + 1 != line_.size()) {
            reply(ReplyCode::bad_request, "expected one request line of at most 512 bytes, then nothing until the reply");
            finish();
            return;
        }
        const Result<Request> request = parse_request(std::string_view(line_).substr(0, end));
        if (!request.ok()) {
            reply(ReplyCode::bad_request, "malformed request (pinhole and the node differ in version?)");
            finish();
            return;
        }
        handle(request.value());
        return;
    }
}

void ControlSession::on_closed(port::TcpConnectionId connection, Errc) noexcept {
    if (connection == control_) {
        control_.reset();
        finish();
        return;
    }
    for (auto it = forward_dials_.begin(); it != forward_dials_.end(); ++it) {
        if (it->second != connection) continue;
        server_.node().streams().cancel_dial(it->first);  // its client left while we dialed
        forward_dials_.erase(it);
        return;
    }
    std::erase_if(name_lookups_, [&](const auto& entry) {
        const bool gone = entry.second.use == NameUse::forward && entry.second.connection == connection;
        if (gone) server_.node().names().cancel(entry.first);  // its client left while we resolved
        return gone;
    });
}

void ControlSession::handle(const Request& request) {
    request_ = request;
    if (request.command == Command::status) {
        reply(ReplyCode::ok, "status");
        for (const std::string& line : server_.node().status_lines()) reply(ReplyCode::info, line);
        finish();
        return;
    }
    if (request.command == Command::down) {
        reply(ReplyCode::ok, "stopping");
        server_.node().stop();
        finish();
        return;
    }
    const std::optional<overlay::PeerId> peer = server_.node().peer_by_name(request.agent.view());
    if (!peer) {
        reply(ReplyCode::unknown_agent, "no peer named " + std::string(request.agent.view()) + " in this node's config");
        finish();
        return;
    }
    peer_ = *peer;
    if (request.command == Command::proxy) {
        start_proxy();
        return;
    }
    switch (request.target.kind) {
        case Target::Kind::address:
            destination_known(request.target.endpoint);
            return;
        case Target::Kind::host:
            resolve_name(NameUse::command, request.target.host.view(), request.target.endpoint.port, 0);
            return;
        case Target::Kind::service:
            break;
    }
    const Result<std::uint32_t> lookup =
        server_.node().directory().lookup(peer_, server_.node().peer_overlay_address(peer_), *this);
    if (!lookup.ok()) {
        reply(ReplyCode::busy, "too many service lookups in flight; try again");
        finish();
        return;
    }
    lookup_ = lookup.value();
    state_ = State::looking_up;
}

void ControlSession::on_directory(std::uint32_t query, Errc result, const overlay::ServiceList& services) noexcept {
    if (const auto socks = socks_lookups_.find(query); socks != socks_lookups_.end()) {
        const SocksLookup lookup = socks->second;
        socks_lookups_.erase(socks);
        socks_service_found(lookup.connection, result, services, lookup.service.view());
        return;
    }
    lookup_.reset();
    const std::string agent(request_.agent.view());
    if (result != Errc::ok) {
        reply(ReplyCode::timed_out, "agent " + agent + " did not answer the service lookup (is it running, and is there a session? see `pinhole status`)");
        finish();
        return;
    }
    const std::optional<std::uint16_t> port = overlay::find_service_port(services, request_.target.service.view());
    if (!port) {
        std::string published;
        for (const overlay::PublishedService& service : services) {
            published += (published.empty() ? "" : ", ") + std::string(service.name.view());
        }
        reply(ReplyCode::unknown_service, "agent " + agent + " publishes no service " +
                                              std::string(request_.target.service.view()) + " to this node (it publishes: " +
                                              (published.empty() ? "none" : published) + ")");
        finish();
        return;
    }
    destination_known(net::Endpoint{server_.node().peer_overlay_address(peer_), *port});
}

void ControlSession::destination_known(const net::Endpoint& destination) {
    destination_ = destination;
    if (request_.command == Command::forward_udp) {
        start_udp_forward();
        return;
    }
    if (request_.command == Command::connect) {
        const Result<overlay::StreamId> stream = server_.node().streams().dial(peer_, destination, *control_, *this);
        if (!stream.ok()) {
            reply(stream.error() == Errc::no_space ? ReplyCode::busy : ReplyCode::unreachable,
                  std::string("cannot open a stream: ") + describe(stream.error()));
            finish();
            return;
        }
        connect_stream_ = stream.value();
        state_ = State::dialing;
        return;
    }
    const std::optional<net::Endpoint> at = open_listener();
    if (!at) return;
    std::array<char, 128> text{};
    const std::size_t length = format_to(text, "listening on {}, to {}", *at, destination);
    reply(ReplyCode::ok, std::string_view(text.data(), length));
    state_ = State::forwarding;
}

void ControlSession::on_accepted(port::TcpListenerId, port::TcpConnectionId connection,
                                 const net::Endpoint& from) noexcept {
    if (socks_) {
        if (!socks_->accept(connection, from).ok()) reply(ReplyCode::info, "a SOCKS5 client refused: every slot busy");
        return;
    }
    tcp().set_events(connection, *this);
    if (request_.target.kind == Target::Kind::host &&
        (!name_fresh_until_ms_ || time_after_or_equal(server_.node().clock().monotonic_ms(), *name_fresh_until_ms_))) {
        // The agent's domain rules remember its answer for a TTL: past it, ask again.
        resolve_name(NameUse::forward, request_.target.host.view(), request_.target.endpoint.port, connection);
        return;
    }
    const Result<overlay::StreamId> stream = server_.node().streams().dial(peer_, destination_, connection, *this);
    std::array<char, 160> text{};
    if (!stream.ok()) {
        tcp().close(connection, true);
        const std::size_t length = format_to(text, "connection from {} refused: {}", from, describe(stream.error()));
        reply(ReplyCode::info, std::string_view(text.data(), length));
        return;
    }
    forward_dials_[stream.value()] = connection;
}

void ControlSession::on_dialed(overlay::StreamId stream, Errc result) noexcept {
    const std::string why = dial_failure_text(result);
    if (connect_stream_ == stream) {
        connect_stream_.reset();
        if (result == Errc::ok) {
            reply(ReplyCode::ok, "connected");
            control_.reset();  // the stream owns it now
        } else {
            reply(result == Errc::timed_out ? ReplyCode::timed_out : ReplyCode::refused, why);
        }
        finish();
        return;
    }
    if (const auto socks = socks_dials_.find(stream); socks != socks_dials_.end()) {
        const port::TcpConnectionId connection = socks->second;
        socks_dials_.erase(socks);
        socks_dialed(connection, result, why);
        return;
    }
    const auto found = forward_dials_.find(stream);
    if (found == forward_dials_.end()) return;
    const port::TcpConnectionId connection = found->second;
    forward_dials_.erase(found);
    if (result != Errc::ok) {
        tcp().close(connection, true);
        reply(ReplyCode::info, "a connection was refused: " + why);
        return;
    }
    reply(ReplyCode::info, "stream " + std::to_string(stream) + " open");
}

// ---- forward-udp: a local UDP socket whose senders each get a flow to the destination --------

void ControlSession::start_udp_forward() {
    NodeControl& node = server_.node();
    udp_forward_ = std::make_unique<proxy::UdpForward>(proxy::UdpForward::Ports{node.udp(), node.clock()},
                                                       node.udp_flows(), peer_, destination_);
    const Result<net::Endpoint> at = udp_forward_->open(request_.listen);
    if (!at.ok()) {
        udp_forward_.reset();
        reply(ReplyCode::unreachable, std::string("cannot listen there (UDP): ") + describe(at.error()));
        finish();
        return;
    }
    std::array<char, 128> text{};
    const std::size_t length = format_to(text, "listening on {} (UDP), to {}", at.value(), destination_);
    reply(ReplyCode::ok, std::string_view(text.data(), length));
    state_ = State::forwarding;
}

// ---- proxy: a SOCKS5 server whose connections exit at the agent ----------------------------

// A forward's or proxy's listener at request_.listen: where it listens, or nullopt after telling
// the command why not.
std::optional<net::Endpoint> ControlSession::open_listener() {
    const Result<port::TcpListenerId> listener = tcp().listen(request_.listen, *this);
    if (!listener.ok()) {
        reply(ReplyCode::unreachable, std::string("cannot listen there: ") + describe(listener.error()));
        finish();
        return std::nullopt;
    }
    listener_ = listener.value();
    const Result<net::Endpoint> at = tcp().listener_endpoint(*listener_);
    return at.ok() ? at.value() : request_.listen;
}

void ControlSession::start_proxy() {
    const proxy::Socks5Settings settings{.user = request_.auth.user.view(), .password = request_.auth.password.view()};
    socks_ = std::make_unique<proxy::Socks5Server>(tcp(), server_.node().clock(), *this, settings);
    const std::optional<net::Endpoint> at = open_listener();
    if (!at) return;
    std::array<char, 160> text{};
    const std::size_t length = format_to(text, "SOCKS5 on {}{}, exiting at {}", *at,
                                         request_.auth.required ? " (user name and password)" : "",
                                         request_.agent.view());
    reply(ReplyCode::ok, std::string_view(text.data(), length));
    state_ = State::forwarding;
}

// An address goes as it is; a name without a dot is one of the agent's services (its port, not
// the one asked for); other names need the agent's resolver.
void ControlSession::on_socks_connect(port::TcpConnectionId connection,
                                      const proxy::SocksAddress& destination) noexcept {
    const std::string_view name = destination.host_name.view();
    if (name.empty()) {
        socks_dial(connection, destination.endpoint);
        return;
    }
    config::Name service;
    if (name.find('.') != std::string_view::npos || !overlay::is_valid_name(name) || !service.assign(name).ok()) {
        resolve_name(NameUse::socks, name, destination.endpoint.port, connection);  // at the agent
        return;
    }
    const Result<std::uint32_t> lookup =
        server_.node().directory().lookup(peer_, server_.node().peer_overlay_address(peer_), *this);
    if (!lookup.ok()) {
        socks_->refuse(connection, proxy::ReplyCode::general_failure);
        return;
    }
    socks_lookups_[lookup.value()] = SocksLookup{connection, service};
}

void ControlSession::socks_service_found(port::TcpConnectionId connection, Errc result,
                                         const overlay::ServiceList& services, std::string_view name) {
    const std::optional<std::uint16_t> port =
        result == Errc::ok ? overlay::find_service_port(services, name) : std::nullopt;
    if (!port) {
        reply(ReplyCode::info, "SOCKS5: " + std::string(name) +
                                   (result == Errc::ok ? ": the agent publishes no such service to this node"
                                                       : ": the agent did not answer the service lookup"));
        socks_->refuse(connection, result == Errc::ok ? proxy::ReplyCode::host_unreachable
                                                      : proxy::ReplyCode::network_unreachable);
        return;
    }
    socks_dial(connection, net::Endpoint{server_.node().peer_overlay_address(peer_), *port});
}

void ControlSession::socks_dial(port::TcpConnectionId connection, const net::Endpoint& destination) {
    const Result<overlay::StreamId> stream = server_.node().streams().dial(peer_, destination, connection, *this);
    if (!stream.ok()) {
        socks_->refuse(connection, stream.error() == Errc::no_space ? proxy::ReplyCode::general_failure
                                                                    : proxy::ReplyCode::network_unreachable);
        return;
    }
    socks_dials_[stream.value()] = connection;
}

void ControlSession::socks_dialed(port::TcpConnectionId connection, Errc result, const std::string& why) {
    if (result != Errc::ok) {
        socks_->refuse(connection, proxy::reply_for_error(result));
        reply(ReplyCode::info, "SOCKS5: a connection was refused: " + why);
        return;
    }
    // Answered before the stream pumps (it takes the connection when this returns).
    if (!socks_->succeed(connection, net::Endpoint{net::IpAddress::v4(0, 0, 0, 0), 0}).ok()) {
        reply(ReplyCode::info, "SOCKS5: the client left before the answer");
    }
}

void ControlSession::on_socks_udp_associate(port::TcpConnectionId connection, const net::Endpoint& client) noexcept {
    NodeControl& node = server_.node();
    auto association = std::make_unique<Association>(tcp(), connection, proxy::Socks5UdpRelay::Ports{node.udp(), node.clock()},
                                                     node.udp_flows(), peer_, client);
    // The relay listens where the proxy does (127.0.0.1 by default): only local clients reach it.
    const Result<net::Endpoint> relay = association->relay.open(request_.listen.address);
    if (!relay.ok() || !socks_->succeed(connection, relay.value()).ok()) {
        association->ended = true;  // refuse() or the failed answer closed it
        if (!relay.ok()) socks_->refuse(connection, proxy::ReplyCode::general_failure);
        return;
    }
    tcp().set_events(connection, *association);
    associations_[connection] = std::move(association);
}

void ControlSession::on_socks_abandoned(port::TcpConnectionId connection) noexcept {
    std::erase_if(socks_lookups_, [&](const auto& entry) { return entry.second.connection == connection; });
    std::erase_if(name_lookups_, [&](const auto& entry) {
        const bool gone = entry.second.use == NameUse::socks && entry.second.connection == connection;
        if (gone) server_.node().names().cancel(entry.first);
        return gone;
    });
    for (auto it = socks_dials_.begin(); it != socks_dials_.end(); ++it) {
        if (it->second != connection) continue;
        server_.node().streams().cancel_dial(it->first);
        socks_dials_.erase(it);
        return;
    }
}

// ---- host names: resolved by the agent's DNS, then dialled by address --------------------------

void ControlSession::resolve_name(NameUse use, std::string_view name, std::uint16_t port,
                                  port::TcpConnectionId connection) {
    NodeControl& node = server_.node();
    const Result<std::uint32_t> lookup = node.names().resolve_host(peer_, node.peer_overlay_address(peer_), name, *this);
    if (!lookup.ok()) {
        name_resolved(NameLookup{use, connection, std::string(name), port}, lookup.error(), net::Endpoint{});
        return;
    }
    name_lookups_[lookup.value()] = NameLookup{use, connection, std::string(name), port};
    if (use == NameUse::command) state_ = State::looking_up;
}

void ControlSession::on_host_resolved(std::uint32_t lookup, Errc result, std::span<const net::IpAddress> addresses,
                                      std::uint32_t ttl_s) noexcept {
    const auto found = name_lookups_.find(lookup);
    if (found == name_lookups_.end()) return;
    const NameLookup name = found->second;
    name_lookups_.erase(found);
    // The first address: an IPv6 one when the agent has any (every node has an IPv6 overlay address).
    const net::Endpoint destination{addresses.empty() ? net::IpAddress{} : addresses[0], name.port};
    if (result == Errc::ok && name.use != NameUse::socks) {
        const std::uint32_t ttl_ms = std::min<std::uint32_t>(ttl_s, 86'400) * 1000;
        name_fresh_until_ms_ = deadline_after(server_.node().clock().monotonic_ms(), ttl_ms - std::min<std::uint32_t>(ttl_ms / 2, 5'000));
    }
    name_resolved(name, result, destination);
}

void ControlSession::name_resolved(const NameLookup& lookup, Errc result, const net::Endpoint& destination) {
    const std::string agent(request_.agent.view());
    const std::string why = result == Errc::not_found  ? "no such name there"
                            : result == Errc::refused  ? "the agent resolves no names for this node (its allow: list has no network or domain rule)"
                            : result == Errc::timed_out ? "the agent did not answer (is it running, and is there a session? see `pinhole status`)"
                            : result == Errc::invalid_argument ? "not a host name"
                            : result == Errc::no_space ? "too many name lookups in flight"
                                                       : describe(result);
    const std::string failed = lookup.name + ": agent " + agent + " cannot resolve it: " + why;
    if (lookup.use == NameUse::socks) {
        if (result == Errc::ok) {
            socks_dial(lookup.connection, destination);
            return;
        }
        reply(ReplyCode::info, "SOCKS5: " + failed);
        // A name that does not resolve is an unreachable host; a silent agent, an unreachable network.
        socks_->refuse(lookup.connection, result == Errc::refused     ? proxy::ReplyCode::not_allowed
                                          : result == Errc::timed_out ? proxy::ReplyCode::network_unreachable
                                          : result == Errc::no_space  ? proxy::ReplyCode::general_failure
                                                                      : proxy::ReplyCode::host_unreachable);
        return;
    }
    if (lookup.use == NameUse::forward) {
        if (result != Errc::ok) {
            tcp().close(lookup.connection, true);
            reply(ReplyCode::info, "a connection was refused: " + failed);
            return;
        }
        destination_ = destination;
        const Result<overlay::StreamId> stream = server_.node().streams().dial(peer_, destination, lookup.connection, *this);
        if (!stream.ok()) {
            tcp().close(lookup.connection, true);
            reply(ReplyCode::info, std::string("a connection was refused: ") + describe(stream.error()));
            return;
        }
        forward_dials_[stream.value()] = lookup.connection;
        return;
    }
    if (result != Errc::ok) {
        reply(result == Errc::timed_out ? ReplyCode::timed_out : result == Errc::refused ? ReplyCode::refused
              : result == Errc::no_space ? ReplyCode::busy : ReplyCode::unreachable, failed);
        finish();
        return;
    }
    destination_known(destination);
}

// ---- the server ------------------------------------------------------------------------------

ControlServer::ControlServer(posix::EventLoop& loop, posix::PosixTcp& tcp, NodeControl& node) noexcept
    : loop_(loop), tcp_(tcp), node_(node) {}

ControlServer::~ControlServer() {
    sessions_.clear();
    if (fd_ >= 0) {
        loop_.unwatch(fd_);
        ::close(fd_);
        ::unlink(path_.c_str());
    }
}

Status ControlServer::open(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) return Errc::invalid_argument;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    if (probe >= 0) ::close(probe);
    if (live) return Errc::already_exists;
    ::unlink(path.c_str());  // stale: its node is gone
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Errc::io;
    const mode_t previous = ::umask(077);  // 0600 from the start: no window for others
    int bound = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    ::umask(previous);
    if (bound == 0) bound = ::chmod(path.c_str(), 0600);  // rw for the owner: what connect needs
    if (bound != 0 || ::listen(fd_, 16) != 0 || !loop_.watch(fd_, EPOLLIN, *this).ok()) {
        ::close(fd_);
        fd_ = -1;
        return errno == EADDRINUSE ? Errc::already_exists : Errc::io;
    }
    path_ = path;
    return {};
}

void ControlServer::on_fd_events(int, std::uint32_t) noexcept {
    for (int round = 0; round < 8; round++) {
        const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (sessions_.size() >= max_sessions) {
            ::close(fd);  // the command sees the connection close and says so
            continue;
        }
        auto session = std::make_unique<ControlSession>(*this);
        const Result<port::TcpConnectionId> adopted = tcp_.adopt(fd, *session);
        if (!adopted.ok()) continue;  // adopt closed it
        session->attach(adopted.value());
        sessions_.push_back(std::move(session));
    }
}

void ControlServer::collect() {
    for (const std::unique_ptr<ControlSession>& session : sessions_) session->tick();
    std::erase_if(sessions_, [](const std::unique_ptr<ControlSession>& session) { return session->done(); });
}

std::string control_socket_path(const net::IpAddress& overlay_address) {
    std::string directory;
    if (const char* chosen = std::getenv("PINHOLE_CONTROL_DIR"); chosen != nullptr && *chosen != '\0') {
        directory = chosen;
    } else if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime != '\0') {
        directory = std::string(runtime) + "/pinhole";
    } else {
        directory = "/tmp/pinhole-" + std::to_string(::getuid());
    }
    std::string name;
    char hex[3];
    for (std::size_t i = 6; i < 16; i++) {  // the key-derived 80 bits of the overlay address
        std::snprintf(hex, sizeof hex, "%02x", overlay_address.bytes[i]);
        name += hex;
    }
    return directory + "/" + name + ".sock";
}

bool prepare_control_directory(const std::string& socket_path) {
    const std::string directory = socket_path.substr(0, socket_path.rfind('/'));
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
        std::fprintf(stderr, "pinhole: cannot create %s: %s\n", directory.c_str(), std::strerror(errno));
        return false;
    }
    struct stat status {};
    if (::stat(directory.c_str(), &status) != 0 || !S_ISDIR(status.st_mode) || status.st_uid != ::getuid() ||
        (status.st_mode & 077) != 0) {
        std::fprintf(stderr, "pinhole: %s must be a directory only you can use (mode 0700, yours). "
                             "Fix: chmod 700 %s, or set PINHOLE_CONTROL_DIR\n", directory.c_str(), directory.c_str());
        return false;
    }
    return true;
}

}  // namespace pinhole::node
