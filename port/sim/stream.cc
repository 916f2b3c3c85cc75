#include "port/sim/stream.h"

#include <algorithm>

#include "port/sim/world.h"

namespace pinhole::sim {
namespace {

constexpr std::size_t ephemeral_port_count = 65536 - 49152;

}  // namespace

// --- Bookkeeping ---------------------------------------------------------------------------

StreamRef HostTcp::ref_of(const Connection& connection) const noexcept {
    const auto slot = static_cast<std::uint8_t>(&connection - connections_.data());
    return StreamRef{host_.index(), slot, connection.generation};
}

port::TcpConnectionId HostTcp::id_of(const Connection& connection) const noexcept {
    return Ids::make(static_cast<std::size_t>(&connection - connections_.data()),
                     connection.generation);
}

// The owner's id: released by close(), so a lingering connection is no longer reachable by it.
HostTcp::Connection* HostTcp::lookup(port::TcpConnectionId id) noexcept {
    const std::size_t slot = Ids::slot_of(id);
    if (slot >= connections_.size()) return nullptr;
    Connection& connection = connections_[slot];
    if (connection.phase == Phase::free || connection.phase == Phase::lingering) return nullptr;
    return connection.generation == Ids::generation_of(id) ? &connection : nullptr;
}

const HostTcp::Connection* HostTcp::find(const StreamRef& ref) const noexcept {
    PINHOLE_ASSERT(ref.host == host_.index());
    if (ref.slot >= connections_.size()) return nullptr;
    const Connection& connection = connections_[ref.slot];
    if (connection.phase == Phase::free || connection.generation != ref.generation) return nullptr;
    return &connection;
}

HostTcp::Connection* HostTcp::find(const StreamRef& ref) noexcept {
    return const_cast<Connection*>(static_cast<const HostTcp&>(*this).find(ref));
}

HostTcp::Connection* HostTcp::find_anywhere(Host& any_host, const StreamRef& ref) noexcept {
    return any_host.world().host(ref.host).tcp().find(ref);
}

HostTcp::Connection* HostTcp::allocate_connection() noexcept {
    for (Connection& connection : connections_) {
        if (connection.phase == Phase::free) return &connection;
    }
    return nullptr;
}

void HostTcp::free_connection(Connection& connection) noexcept {
    for (Event* parked : connection.parked) host_.world().events().release(*parked);
    const std::uint16_t generation = Ids::next_generation(connection.generation);
    connection = Connection{};
    connection.generation = generation;
}

std::uint16_t HostTcp::pick_port() noexcept {
    std::uint16_t port = host_.next_ephemeral_port();
    for (std::size_t tries = 1; tries < ephemeral_port_count; ++tries) {
        const bool taken = std::any_of(connections_.begin(), connections_.end(), [&](const Connection& c) {
            return c.phase != Phase::free && c.local.port == port;
        });
        if (!taken) break;
        port = host_.next_ephemeral_port();
    }
    return port;
}

bool HostTcp::is_connecting(const StreamRef& ref) const noexcept {
    const Connection* connection = find(ref);
    return connection != nullptr && connection->phase == Phase::connecting;
}

// --- The owner's calls ---------------------------------------------------------------------

Result<port::TcpConnectionId> HostTcp::connect(const net::Endpoint& to,
                                               port::TcpEvents& events) noexcept {
    if (to.address.family == net::Family::none || to.port == 0) return Errc::invalid_argument;
    const Result<net::IpAddress> source = host_.source_address_for(to.address);
    if (!source.ok()) return source.error();
    Connection* connection = allocate_connection();
    if (connection == nullptr) return Errc::no_space;
    World& world = host_.world();
    Event* syn = world.events().allocate(EventQueue::Reserve::data);
    Event* deadline = world.events().allocate(EventQueue::Reserve::data);
    if (syn == nullptr || deadline == nullptr) {
        if (syn != nullptr) world.events().release(*syn);
        if (deadline != nullptr) world.events().release(*deadline);
        return Errc::no_space;
    }
    connection->phase = Phase::connecting;
    connection->events = &events;
    connection->local = net::Endpoint{source.value(), pick_port()};
    connection->remote = to;
    const StreamRef ref = ref_of(*connection);

    const Host* destination = world.route(to.address);
    syn->kind = EventKind::stream_open;
    syn->source = ref;
    syn->from_host = host_.index();
    // Nobody owns the address: the SYN goes nowhere and is retried until the deadline.
    syn->to_host = destination != nullptr ? destination->index() : host_.index();
    syn->from = connection->local;
    syn->to = to;
    world.send_across(*syn);

    deadline->kind = EventKind::connect_deadline;
    deadline->target = ref;
    deadline->from_host = deadline->to_host = host_.index();
    world.events().schedule(*deadline, world.now_ms() + world.options().connect_timeout_ms);
    return id_of(*connection);
}

Result<std::size_t> HostTcp::read(port::TcpConnectionId id, std::span<std::uint8_t> out) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || connection->phase != Phase::open) return Errc::invalid_argument;
    if (connection->unread.empty()) {
        if (connection->fin_received) return std::size_t{0};
        return Errc::would_block;
    }
    const std::size_t count = connection->unread.read(out);
    // The reader made room: the writer at the other end may send again.
    if (count > 0) request_window_update(connection->peer, host_.index());
    return count;
}

Result<std::size_t> HostTcp::write(port::TcpConnectionId id,
                                   std::span<const std::uint8_t> bytes) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || connection->phase != Phase::open) return Errc::invalid_argument;
    if (connection->write_shut) return Errc::closed;
    const std::size_t accepted = connection->unsent.write(bytes);
    if (accepted < bytes.size()) connection->writer_waiting = true;
    pump(*connection);
    if (accepted == 0 && !bytes.empty()) return Errc::would_block;
    return accepted;
}

Status HostTcp::shutdown_write(port::TcpConnectionId id) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr || connection->phase != Phase::open) return Errc::invalid_argument;
    connection->write_shut = true;
    pump(*connection);
    return {};
}

void HostTcp::close(port::TcpConnectionId id, bool reset) noexcept {
    Connection* connection = lookup(id);
    if (connection == nullptr) return;
    if (connection->phase == Phase::connecting) {
        free_connection(*connection);  // an accept that arrives later is answered with RST
        return;
    }
    if (reset || !connection->unread.empty()) {
        send_reset(host_.index(), connection->peer);
        free_connection(*connection);
        return;
    }
    connection->phase = Phase::lingering;
    connection->events = nullptr;
    connection->write_shut = true;
    connection->writer_waiting = false;
    pump(*connection);
}

void HostTcp::set_events(port::TcpConnectionId id, port::TcpEvents& events) noexcept {
    Connection* connection = lookup(id);
    if (connection != nullptr && connection->phase != Phase::lingering) connection->events = &events;
}

Status HostTcp::listen(std::uint16_t port, TcpAcceptor& acceptor) noexcept {
    if (port == 0) return Errc::invalid_argument;
    for (const Listener& listener : listeners_) {
        if (listener.port == port) return Errc::already_exists;
    }
    return listeners_.push_back(Listener{port, &acceptor});
}

void HostTcp::stop_listening(std::uint16_t port) noexcept {
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
        if (listeners_[i].port == port) {
            listeners_.erase_unordered(i);
            return;
        }
    }
}

// --- Accepting -----------------------------------------------------------------------------

void HostTcp::on_open_request(Event& syn) noexcept {
    // A SYN is never duplicated and is retransmitted only when lost, so it arrives once.
    World& world = host_.world();
    const auto listener = std::find_if(listeners_.begin(), listeners_.end(),
                                       [&](const Listener& l) { return l.port == syn.to.port; });
    Event* accept = nullptr;
    Connection* connection = nullptr;
    if (listener != listeners_.end()) {
        accept = world.events().allocate(EventQueue::Reserve::data);
        connection = accept != nullptr ? allocate_connection() : nullptr;
    }
    if (connection == nullptr) {
        if (accept != nullptr) world.events().release(*accept);
        send_reset(host_.index(), syn.source);  // nothing listens, or no room
        world.events().release(syn);
        return;
    }
    connection->phase = Phase::open;
    connection->peer = syn.source;
    connection->local = syn.to;
    connection->remote = syn.from;
    connection->next_packet_out = 1;  // packet 0 is the accept itself
    connection->packets_in_flight = 1;
    world.events().release(syn);
    const StreamRef ref = ref_of(*connection);
    port::TcpEvents* events = listener->acceptor->on_accept(id_of(*connection), connection->remote);
    connection = find(ref);
    if (connection == nullptr || events == nullptr) {  // reset by the acceptor, or refused
        world.events().release(*accept);
        if (connection != nullptr) {
            send_reset(host_.index(), connection->peer);
            free_connection(*connection);
        }
        return;
    }
    // An acceptor that already closed it (lingering) wants no events, but the connector
    // still gets its accept, then what was written, then FIN.
    if (connection->phase == Phase::open) connection->events = events;
    send_accept(*connection, *accept);
}

void HostTcp::send_accept(Connection& connection, Event& accept) noexcept {
    accept.kind = EventKind::stream_packet;
    accept.opens = true;
    accept.packet = 0;
    accept.source = ref_of(connection);
    accept.target = connection.peer;
    accept.from_host = host_.index();
    accept.to_host = connection.peer.host;
    accept.from = connection.local;
    accept.to = connection.remote;
    host_.world().send_across(accept);
}

// --- Sending -------------------------------------------------------------------------------

std::size_t HostTcp::send_window_bytes(const Connection& sender) noexcept {
    if (sender.packets_in_flight >= max_stream_packets_in_flight) return 0;
    const Connection* receiver = find_anywhere(host_, sender.peer);
    // The other end is gone: one packet goes out to learn it (a reset comes back).
    if (receiver == nullptr) return sender.packets_in_flight == 0 ? stream_segment_bytes : 0;
    const std::size_t room = receiver->unread.writable_bytes();
    return room > sender.bytes_in_flight ? room - sender.bytes_in_flight : 0;
}

void HostTcp::fill_packet(const Connection& sender, Event& packet) noexcept {
    packet.kind = EventKind::stream_packet;
    packet.source = ref_of(sender);
    packet.target = sender.peer;
    packet.from_host = host_.index();
    packet.to_host = sender.peer.host;
    packet.from = sender.local;
    packet.to = sender.remote;
}

bool HostTcp::send_data_packet(Connection& sender, std::size_t window_bytes) noexcept {
    World& world = host_.world();
    Event* packet = world.events().allocate(EventQueue::Reserve::data);
    if (packet == nullptr) {
        world.note_stream_starved();
        return false;
    }
    fill_packet(sender, *packet);
    const std::size_t count =
        std::min({stream_segment_bytes, sender.unsent.readable_bytes(), window_bytes});
    packet->length_bytes = static_cast<std::uint16_t>(sender.unsent.read(std::span(packet->payload).first(count)));
    packet->packet = sender.next_packet_out++;
    sender.bytes_in_flight += packet->length_bytes;
    ++sender.packets_in_flight;
    ++world.mutable_stats().stream_packets_sent;
    world.send_across(*packet);
    return true;
}

bool HostTcp::send_fin(Connection& sender) noexcept {
    World& world = host_.world();
    Event* packet = world.events().allocate(EventQueue::Reserve::data);
    if (packet == nullptr) {
        world.note_stream_starved();
        return false;
    }
    fill_packet(sender, *packet);
    packet->fin = true;
    packet->packet = sender.next_packet_out++;
    sender.fin_sent = true;
    ++sender.packets_in_flight;
    world.send_across(*packet);
    return true;
}

void HostTcp::pump(Connection& sender) noexcept {
    if (sender.phase != Phase::open && sender.phase != Phase::lingering) return;
    bool moved = false;
    for (std::size_t i = 0; i < max_stream_packets_in_flight && !sender.unsent.empty(); ++i) {
        const std::size_t window = send_window_bytes(sender);
        if (window == 0 || !send_data_packet(sender, window)) break;
        moved = true;
    }
    if (sender.write_shut && !sender.fin_sent && sender.unsent.empty() &&
        sender.packets_in_flight < max_stream_packets_in_flight) {
        (void)send_fin(sender);
    }
    if (moved && sender.writer_waiting) request_writable_notice(sender);
    finish_if_done(sender);
}

// A lingering connection lives until its FIN and every byte before it have arrived.
void HostTcp::finish_if_done(Connection& connection) noexcept {
    if (connection.phase == Phase::lingering && connection.fin_sent &&
        connection.packets_in_flight == 0) {
        free_connection(connection);
    }
}

void HostTcp::pump_all() noexcept {
    for (Connection& connection : connections_) pump(connection);
}

void HostTcp::send_reset(HostIndex from_host, const StreamRef& to) noexcept {
    World& world = host_.world();
    Event& reset = world.allocate_control();
    reset.kind = EventKind::stream_reset;
    reset.target = to;
    reset.from_host = from_host;
    reset.to_host = to.host;
    world.send_across(reset);
}

void HostTcp::request_window_update(const StreamRef& sender_ref, HostIndex from_host) noexcept {
    Connection* sender = find_anywhere(host_, sender_ref);
    if (sender == nullptr || sender->window_update_pending) return;
    const bool has_more = !sender->unsent.empty() || (sender->write_shut && !sender->fin_sent);
    if (!has_more) return;
    World& world = host_.world();
    Event& update = world.allocate_control();
    update.kind = EventKind::stream_window;
    update.target = sender_ref;
    update.from_host = from_host;
    update.to_host = sender_ref.host;
    sender->window_update_pending = true;
    world.send_across(update);
}

void HostTcp::request_writable_notice(Connection& writer) noexcept {
    if (writer.writable_notice_pending) return;
    World& world = host_.world();
    Event& notice = world.allocate_control();
    notice.kind = EventKind::stream_writable;
    notice.target = ref_of(writer);
    notice.from_host = notice.to_host = host_.index();
    writer.writable_notice_pending = true;
    world.schedule_now(notice);
}

bool HostTcp::needs_retransmission(const Event& packet) noexcept {
    if (find(packet.source) == nullptr) return false;  // the sender gave up or was reset
    const Connection* receiver = find_anywhere(host_, packet.target);
    if (receiver == nullptr) return true;  // it will learn with a reset
    if (packet.packet < receiver->next_packet_in) return false;  // a copy got there
    return std::none_of(receiver->parked.begin(), receiver->parked.end(),
                        [&](const Event* parked) { return parked->packet == packet.packet; });
}

// --- Receiving -----------------------------------------------------------------------------

void HostTcp::on_packet(Event& packet) noexcept {
    World& world = host_.world();
    Connection* receiver = find(packet.target);
    // Nobody takes it: the connection is gone, or its owner closed it and wants no more data.
    if (receiver == nullptr || (receiver->phase == Phase::lingering && packet.length_bytes > 0)) {
        send_reset(host_.index(), packet.source);
        if (receiver != nullptr) free_connection(*receiver);
        world.events().release(packet);
        return;
    }
    if (packet.packet < receiver->next_packet_in) {  // a duplicate of one already taken
        world.events().release(packet);
        return;
    }
    if (packet.packet > receiver->next_packet_in) {  // ahead of a gap: wait for it to fill
        park(*receiver, packet);
        return;
    }
    Arrival arrival;
    take_in_order(*receiver, packet, arrival);
    take_parked(*receiver, arrival);
    notify_arrival(ref_of(*receiver), arrival);
}

void HostTcp::park(Connection& receiver, Event& packet) noexcept {
    const bool copy_parked = std::any_of(receiver.parked.begin(), receiver.parked.end(),
                                         [&](const Event* parked) { return parked->packet == packet.packet; });
    if (copy_parked) {
        host_.world().events().release(packet);
        return;
    }
    // Distinct packets ahead of the gap are all in the sender's flight: the cap bounds them.
    const Status parked = receiver.parked.push_back(&packet);
    PINHOLE_ASSERT(parked.ok());
}

void HostTcp::take_in_order(Connection& receiver, Event& packet, Arrival& arrival) noexcept {
    if (packet.opens) {
        receiver.phase = Phase::open;
        receiver.peer = packet.source;
        arrival.connected = true;
    }
    if (packet.length_bytes > 0) {
        // The sender's window reserved this room: a packet that does not fit is our bug.
        const std::size_t taken = receiver.unread.write(std::span(packet.payload).first(packet.length_bytes));
        PINHOLE_ASSERT(taken == packet.length_bytes);
        arrival.readable = true;
    }
    if (packet.fin) {
        receiver.fin_received = true;
        arrival.readable = true;
    }
    ++receiver.next_packet_in;
    acknowledge(packet);
    host_.world().events().release(packet);
}

void HostTcp::take_parked(Connection& receiver, Arrival& arrival) noexcept {
    for (std::size_t round = 0; round < max_stream_packets_in_flight; ++round) {
        const auto next = std::find_if(receiver.parked.begin(), receiver.parked.end(), [&](const Event* parked) {
            return parked->packet == receiver.next_packet_in;
        });
        if (next == receiver.parked.end()) return;
        Event* packet = *next;
        receiver.parked.erase_unordered(static_cast<std::size_t>(next - receiver.parked.begin()));
        take_in_order(receiver, *packet, arrival);
    }
}

// The sender learns at once what arrived (its window opens when the update lands).
void HostTcp::acknowledge(const Event& packet) noexcept {
    Connection* sender = find_anywhere(host_, packet.source);
    if (sender == nullptr) return;
    sender->bytes_in_flight -= packet.length_bytes;
    --sender->packets_in_flight;
    request_window_update(packet.source, host_.index());
    HostTcp& sender_tcp = host_.world().host(packet.source.host).tcp();
    sender_tcp.finish_if_done(*sender);
}

void HostTcp::notify_arrival(const StreamRef& receiver_ref, const Arrival& arrival) noexcept {
    Connection* receiver = find(receiver_ref);
    if (receiver == nullptr || receiver->events == nullptr) return;
    const port::TcpConnectionId id = id_of(*receiver);
    if (arrival.connected) {
        receiver->events->on_connected(id, Errc::ok);
        receiver = find(receiver_ref);  // the callback may have closed it
        if (receiver == nullptr || receiver->events == nullptr) return;
    }
    if (arrival.readable) receiver->events->on_readable(id);
}

// --- Control events ------------------------------------------------------------------------

void HostTcp::on_reset(Event& reset) noexcept {
    Connection* connection = find(reset.target);
    host_.world().events().release(reset);
    if (connection == nullptr) return;
    port::TcpEvents* events = connection->events;
    const bool was_connecting = connection->phase == Phase::connecting;
    const port::TcpConnectionId id = id_of(*connection);
    free_connection(*connection);
    if (events == nullptr) return;
    if (was_connecting) {
        events->on_connected(id, Errc::refused);
    } else {
        events->on_closed(id, Errc::closed);
    }
}

void HostTcp::on_window(Event& window) noexcept {
    Connection* sender = find(window.target);
    host_.world().events().release(window);
    if (sender == nullptr) return;
    sender->window_update_pending = false;
    pump(*sender);
}

void HostTcp::on_writable_due(Event& notice) noexcept {
    Connection* writer = find(notice.target);
    host_.world().events().release(notice);
    if (writer == nullptr) return;
    writer->writable_notice_pending = false;
    if (writer->events == nullptr || !writer->writer_waiting || writer->unsent.full()) return;
    writer->writer_waiting = false;
    writer->events->on_writable(id_of(*writer));
}

void HostTcp::on_connect_deadline(Event& deadline) noexcept {
    Connection* connection = find(deadline.target);
    host_.world().events().release(deadline);
    if (connection == nullptr || connection->phase != Phase::connecting) return;
    port::TcpEvents* events = connection->events;
    const port::TcpConnectionId id = id_of(*connection);
    free_connection(*connection);
    events->on_connected(id, Errc::timed_out);
}

void HostTcp::on_retransmissions_exhausted(const StreamRef& source) noexcept {
    Connection* connection = find(source);
    if (connection == nullptr) return;
    port::TcpEvents* events = connection->events;
    const port::TcpConnectionId id = id_of(*connection);
    free_connection(*connection);
    if (events != nullptr) events->on_closed(id, Errc::timed_out);
}

}  // namespace pinhole::sim
