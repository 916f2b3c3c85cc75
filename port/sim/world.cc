#include "port/sim/world.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "port/sim/seed.h"

namespace pinhole::sim {
namespace {

constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

void hash_bytes(std::uint64_t& hash, std::span<const std::uint8_t> bytes) noexcept {
    for (const std::uint8_t byte : bytes) hash = (hash ^ byte) * fnv_prime;
}

void hash_number(std::uint64_t& hash, std::uint64_t value) noexcept {
    for (int i = 0; i < 8; ++i) hash = (hash ^ ((value >> (8 * i)) & 0xFF)) * fnv_prime;
}

void hash_endpoint(std::uint64_t& hash, const net::Endpoint& endpoint) noexcept {
    hash_number(hash, static_cast<std::uint64_t>(endpoint.address.family));
    hash_bytes(hash, endpoint.address.bytes);
    hash_number(hash, endpoint.port);
}

bool environment_asks_for_log() noexcept {
    const char* value = std::getenv("PINHOLE_SIM_LOG");
    return value != nullptr && std::string_view(value) == "1";
}

}  // namespace

World::World(const WorldOptions& options) noexcept
    : options_(options),
      seed_(options.seed_source == SeedSource::environment_or_given
                ? seed_from_environment(options.seed)
                : options.seed),
      prng_(seed_),
      trace_hash_(fnv_offset_basis),
      log_to_stderr_(options.log_to_stderr || environment_asks_for_log()) {
    links_.set_default(options.faults);
    announce_seed(seed_);
}

Host& World::add_host(const HostOptions& options) noexcept {
    const auto index = static_cast<HostIndex>(hosts_.size());
    const Status added = hosts_.emplace_back(*this, index, options);
    PINHOLE_ASSERT(added.ok());  // more hosts than max_hosts_per_world: a bug in the test
    return hosts_.back();
}

Host* World::route(const net::IpAddress& address) noexcept {
    for (Host& host : hosts_) {
        if (host.owns(address)) return &host;
    }
    return nullptr;
}

bool World::step() noexcept {
    Event* event = events_.pop_due(UINT64_MAX);
    if (event == nullptr) return false;
    run(*event);
    return true;
}

Status World::run_until(std::uint64_t time_ms) noexcept {
    for (std::uint64_t steps = 0; steps < options_.max_events_per_run; ++steps) {
        Event* event = events_.pop_due(time_ms);
        if (event == nullptr) {
            if (time_ms > now_ms_) now_ms_ = time_ms;
            return {};
        }
        run(*event);
    }
    return Errc::timed_out;
}

void World::run(Event& event) noexcept {
    PINHOLE_ASSERT(event.due_ms >= now_ms_);
    now_ms_ = event.due_ms;
    ++stats_.events_run;
    record_trace(event);
    if (event.cancelled) {
        events_.release(event);
        return;
    }
    switch (event.kind) {
        case EventKind::datagram: run_datagram(event); break;
        case EventKind::stream_open: run_stream_open(event); break;
        case EventKind::stream_packet: run_stream_packet(event); break;
        case EventKind::stream_reset: run_stream_reset(event); break;
        case EventKind::stream_window: host(event.to_host).tcp().on_window(event); break;
        case EventKind::stream_writable: host(event.to_host).tcp().on_writable_due(event); break;
        case EventKind::connect_deadline:
            host(event.to_host).tcp().on_connect_deadline(event);
            break;
        case EventKind::resolve_answer:
            host(event.to_host).resolver().on_answer(event);
            events_.release(event);
            break;
        case EventKind::alarm: run_alarm(event); break;
    }
    repump_if_starved();
}

void World::record_trace(const Event& event) noexcept {
    hash_number(trace_hash_, event.due_ms);
    hash_number(trace_hash_, static_cast<std::uint64_t>(event.kind));
    hash_number(trace_hash_, (std::uint64_t{event.from_host} << 8) | event.to_host);
    hash_endpoint(trace_hash_, event.from);
    hash_endpoint(trace_hash_, event.to);
    hash_number(trace_hash_, (std::uint64_t{event.packet} << 8) | event.attempt);
    hash_bytes(trace_hash_, std::span(event.payload).first(event.length_bytes));
}

// Loss is drawn when a datagram is sent, so a lost one never takes an event; a cut is checked
// again on arrival, so cutting a link also drops what is on the wire.
Status World::send_datagram(HostIndex from_host, const net::Endpoint& from,
                            const net::Endpoint& to,
                            std::span<const std::uint8_t> payload) noexcept {
    ++stats_.datagrams_sent;
    const Host* destination = route(to.address);
    if (destination == nullptr) {
        ++stats_.datagrams_unclaimed;
        return {};
    }
    const HostIndex to_host = destination->index();
    if (links_.is_cut(from_host, to_host)) {
        ++stats_.datagrams_cut;
        return {};
    }
    const bool loopback = from_host == to_host;
    if (!loopback && prng_.chance_ppm(links_.faults(from_host, to_host).loss_ppm)) {
        ++stats_.datagrams_lost;
        return {};
    }
    const bool duplicate =
        !loopback && prng_.chance_ppm(links_.faults(from_host, to_host).duplicate_ppm);
    for (int copy = 0; copy < (duplicate ? 2 : 1); ++copy) {
        Event* event = events_.allocate(EventQueue::Reserve::data);
        if (event == nullptr) return copy == 0 ? Status{Errc::would_block} : Status{};
        event->kind = EventKind::datagram;
        event->from_host = from_host;
        event->to_host = to_host;
        event->from = from;
        event->to = to;
        event->length_bytes = static_cast<std::uint16_t>(payload.size());
        std::copy(payload.begin(), payload.end(), event->payload.begin());
        events_.schedule(*event, now_ms_ + links_.sample_delay_ms(from_host, to_host, prng_));
        if (copy == 1) ++stats_.datagrams_duplicated;
    }
    return {};
}

void World::run_datagram(Event& event) noexcept {
    if (links_.is_cut(event.from_host, event.to_host)) {
        ++stats_.datagrams_cut;
    } else if (host(event.to_host).udp().deliver(
                   event.from, event.to, std::span(event.payload).first(event.length_bytes))) {
        ++stats_.datagrams_delivered;
    } else {
        ++stats_.datagrams_unclaimed;
    }
    events_.release(event);
}

void World::send_across(Event& event) noexcept {
    const HostIndex from = event.from_host;
    const HostIndex to = event.to_host;
    events_.schedule(event, now_ms_ + links_.sample_delay_ms(from, to, prng_));
    const bool carries_data = event.kind == EventKind::stream_packet && !event.opens;
    if (!carries_data || from == to) return;
    if (!prng_.chance_ppm(links_.faults(from, to).duplicate_ppm)) return;
    Event* copy = events_.allocate(EventQueue::Reserve::data);
    if (copy == nullptr) return;  // the network had no room to misbehave: fine
    const std::uint32_t generation = copy->generation;
    *copy = event;
    copy->generation = generation;
    events_.schedule(*copy, now_ms_ + links_.sample_delay_ms(from, to, prng_));
}

Event& World::allocate_control() noexcept {
    Event* event = events_.allocate(EventQueue::Reserve::control);
    if (event == nullptr) {
        port::panic("simulation out of control events: raise events_reserved_for_control",
                    __FILE__, __LINE__);
    }
    return *event;
}

// A stream packet or SYN is lost (drawn per attempt, as each retransmission is a new packet on
// the wire), cut off by a partition, or, for a SYN, addressed to no host.
bool World::dropped_on_the_way(const Event& event) noexcept {
    if (event.kind == EventKind::stream_open && route(event.to.address) == nullptr) return true;
    if (links_.is_cut(event.from_host, event.to_host)) return true;
    if (event.from_host == event.to_host) return false;
    return prng_.chance_ppm(links_.faults(event.from_host, event.to_host).loss_ppm);
}

void World::run_stream_open(Event& event) noexcept {
    Host& connector = host(event.from_host);
    if (!dropped_on_the_way(event)) {
        route(event.to.address)->tcp().on_open_request(event);
        return;
    }
    // SYNs are retransmitted until the connect deadline gives up on them.
    if (!connector.tcp().is_connecting(event.source) || event.attempt >= 16) {
        events_.release(event);
        return;
    }
    ++stats_.stream_retransmissions;
    events_.schedule(event, now_ms_ + (std::uint64_t{connect_retransmit_initial_ms} << event.attempt));
    ++event.attempt;
}

void World::run_stream_packet(Event& event) noexcept {
    if (!dropped_on_the_way(event)) {
        host(event.to_host).tcp().on_packet(event);
        return;
    }
    HostTcp& sender = host(event.source.host).tcp();
    if (!sender.needs_retransmission(event)) {
        events_.release(event);
        return;
    }
    if (event.attempt >= stream_max_retransmissions) {
        const StreamRef source = event.source;
        events_.release(event);
        sender.on_retransmissions_exhausted(source);
        return;
    }
    ++stats_.stream_retransmissions;
    const std::uint64_t backoff_ms = std::min<std::uint64_t>(
        std::uint64_t{stream_retransmit_initial_ms} << event.attempt, stream_retransmit_max_ms);
    events_.schedule(event, now_ms_ + backoff_ms);
    ++event.attempt;
}

// A reset is a packet too: a partition drops it (never loss: TCP would resend the segment
// that provokes it).
void World::run_stream_reset(Event& event) noexcept {
    if (links_.is_cut(event.from_host, event.to_host)) {
        events_.release(event);
        return;
    }
    host(event.to_host).tcp().on_reset(event);
}

Result<AlarmId> World::schedule_alarm(std::uint64_t due_ms, Alarm& alarm) noexcept {
    Event* event = events_.allocate(EventQueue::Reserve::data);
    if (event == nullptr) return Errc::no_space;
    event->kind = EventKind::alarm;
    event->alarm = &alarm;
    events_.schedule(*event, due_ms < now_ms_ ? now_ms_ : due_ms);
    return AlarmId{static_cast<std::uint16_t>(events_.slot_of(*event)), event->generation};
}

void World::cancel_alarm(AlarmId id) noexcept {
    Event* event = events_.find(id.slot, id.generation);
    if (event != nullptr && event->kind == EventKind::alarm) event->cancelled = true;
}

void World::run_alarm(Event& event) noexcept {
    Alarm& alarm = *event.alarm;
    events_.release(event);  // first: the alarm may schedule another
    alarm.on_alarm();
}

void World::repump_if_starved() noexcept {
    if (!stream_starved_) return;
    if (events_.allocated() >= max_events_in_flight - events_reserved_for_control) return;
    stream_starved_ = false;
    for (Host& host : hosts_) host.tcp().pump_all();
}

}  // namespace pinhole::sim
