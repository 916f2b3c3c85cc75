// The deterministic simulation: a virtual clock and an in-memory network between simulated
// hosts, with seeded loss, duplication, delay (whose jitter reorders) and partitions. Every
// choice comes from one seeded generator and every tie is broken by scheduling order, so a
// run is a pure function of its seed, which the world prints when it is created:
//
//     sim seed: 1234 (replay: PINHOLE_SIM_SEED=1234)
//
// Nothing happens between calls: time moves only in step() / run_until() / run_for(), and
// every callback into the code under test (UdpReceiver, TcpEvents, ResolveEvents, Alarm,
// TcpAcceptor) comes from inside them, never from within a port call.
#pragma once

#include <cstdint>
#include <optional>

#include "core/util/fixed_vector.h"
#include "port/clock.h"
#include "port/sim/event_queue.h"
#include "port/sim/host.h"
#include "port/sim/links.h"
#include "port/sim/prng.h"
#include "port/sim/resolver.h"

namespace pinhole::sim {

enum class SeedSource : std::uint8_t {
    environment_or_given,  // PINHOLE_SIM_SEED when set, so any test replays a printed seed
    given_only,            // for tests that compare seeds with each other
};

struct WorldOptions {
    std::uint64_t seed = 0;
    SeedSource seed_source = SeedSource::environment_or_given;
    // What every host's monotonic_ms() reads at virtual time 0: start near 2^32 to cross the
    // wrap during a test.
    std::uint32_t clock_start_ms = 0;
    port::WallTime wall_epoch{1'767'225'600, 0};  // 2026-01-01T00:00:00Z at virtual time 0
    LinkFaults faults;                            // every link's, until overridden
    std::uint32_t resolver_delay_ms = 20;
    std::uint32_t connect_timeout_ms = 10'000;
    bool log_to_stderr = false;  // PINHOLE_SIM_LOG=1 turns it on too
    // The most events one run_until() may run: a run that needs more is stuck at one instant.
    std::uint64_t max_events_per_run = 10'000'000;
};

// What the network did, for tests that check fault rates.
struct NetworkStats {
    std::uint64_t datagrams_sent = 0;
    std::uint64_t datagrams_delivered = 0;
    std::uint64_t datagrams_lost = 0;         // to loss_ppm
    std::uint64_t datagrams_duplicated = 0;   // extra copies scheduled
    std::uint64_t datagrams_cut = 0;          // dropped by a partition, at send or arrival
    std::uint64_t datagrams_unclaimed = 0;    // no such host, or no socket on the port
    std::uint64_t stream_packets_sent = 0;
    std::uint64_t stream_retransmissions = 0;
    std::uint64_t events_run = 0;
};

// Sim only: a test's wake-up, e.g. to run a node's timers inside the simulated time.
class Alarm {
public:
    virtual void on_alarm() noexcept = 0;

protected:
    ~Alarm() = default;
};

struct AlarmId {
    std::uint16_t slot = 0;
    std::uint32_t generation = 0;
};

class World {
public:
    explicit World(const WorldOptions& options) noexcept;
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

    // Hosts are set up before the run; more than max_hosts_per_world is a bug in the test.
    Host& add_host(const HostOptions& options) noexcept;
    [[nodiscard]] Host& host(HostIndex index) noexcept { return hosts_[index]; }
    [[nodiscard]] std::size_t host_count() const noexcept { return hosts_.size(); }
    // The host that owns `address`, if any.
    [[nodiscard]] Host* route(const net::IpAddress& address) noexcept;

    // Virtual time: milliseconds since the world was created. monotonic_ms() is what every
    // host's Clock reads: clock_start_ms + now_ms(), wrapping.
    [[nodiscard]] std::uint64_t now_ms() const noexcept { return now_ms_; }
    [[nodiscard]] std::uint32_t monotonic_ms() const noexcept {
        return static_cast<std::uint32_t>(options_.clock_start_ms + now_ms_);
    }
    [[nodiscard]] const WorldOptions& options() const noexcept { return options_; }

    // Runs the next event (time jumps to it); false when nothing is scheduled.
    [[nodiscard]] bool step() noexcept;
    // Runs every event due by `time_ms`, then sets the time to it (if it is later). A run that
    // does not get there within WorldOptions::max_events_per_run events (something answers
    // itself forever at one instant) stops with Errc::timed_out.
    [[nodiscard]] Status run_until(std::uint64_t time_ms) noexcept;
    [[nodiscard]] Status run_for(std::uint64_t duration_ms) noexcept {
        return run_until(now_ms_ + duration_ms);
    }
    [[nodiscard]] std::optional<std::uint64_t> next_event_ms() const noexcept {
        return events_.next_due_ms();
    }

    // Faults. Changes apply to packets sent from now on, and a cut also drops what is in
    // flight across it when it lands.
    void set_default_faults(const LinkFaults& faults) noexcept { links_.set_default(faults); }
    void set_link_faults(const Host& from, const Host& to, const LinkFaults& faults) noexcept {
        links_.set(from.index(), to.index(), faults);
    }
    void reset_link_faults(const Host& from, const Host& to) noexcept {
        links_.reset(from.index(), to.index());
    }
    void partition(const Host& a, const Host& b) noexcept { links_.cut(a.index(), b.index()); }
    void heal(const Host& a, const Host& b) noexcept { links_.heal(a.index(), b.index()); }
    void isolate(const Host& host) noexcept { links_.isolate(host.index()); }
    void rejoin(const Host& host) noexcept { links_.rejoin(host.index()); }
    void heal_all() noexcept { links_.heal_all(); }
    [[nodiscard]] const Links& links() const noexcept { return links_; }

    // The resolver's names, shared by every host.
    [[nodiscard]] NameTable& names() noexcept { return names_; }

    [[nodiscard]] Result<AlarmId> schedule_alarm(std::uint64_t due_ms, Alarm& alarm) noexcept;
    // An alarm that has fired or was cancelled is left alone.
    void cancel_alarm(AlarmId id) noexcept;

    // A digest of every event run so far (time, kind, hosts, endpoints, payload): two runs
    // from one seed have equal traces.
    [[nodiscard]] std::uint64_t trace_hash() const noexcept { return trace_hash_; }
    [[nodiscard]] const NetworkStats& stats() const noexcept { return stats_; }

    // For the hosts' services.
    [[nodiscard]] EventQueue& events() noexcept { return events_; }
    [[nodiscard]] Prng& prng() noexcept { return prng_; }
    [[nodiscard]] NetworkStats& mutable_stats() noexcept { return stats_; }
    // Schedules `event` (a stream packet or control message between from_host and to_host)
    // after the link's delay; stream data and FIN may be duplicated on the way.
    void send_across(Event& event) noexcept;
    // Schedules a host-local event now (behind whatever is already due now).
    void schedule_now(Event& event) noexcept { events_.schedule(event, now_ms_); }
    // A control event (reset, window update, notice) must exist: the reserve is sized for it.
    [[nodiscard]] Event& allocate_control() noexcept;
    // A stream could not get an event for its data: pump every stream once events free up.
    void note_stream_starved() noexcept { stream_starved_ = true; }
    [[nodiscard]] bool logs_to_stderr() const noexcept { return log_to_stderr_; }
    // A datagram from a host's socket. Errc::would_block when the event pool is full.
    [[nodiscard]] Status send_datagram(HostIndex from_host, const net::Endpoint& from,
                                       const net::Endpoint& to,
                                       std::span<const std::uint8_t> payload) noexcept;

private:
    void run(Event& event) noexcept;
    void record_trace(const Event& event) noexcept;
    void run_datagram(Event& event) noexcept;
    void run_stream_open(Event& event) noexcept;
    void run_stream_packet(Event& event) noexcept;
    void run_stream_reset(Event& event) noexcept;
    void run_alarm(Event& event) noexcept;
    [[nodiscard]] bool dropped_on_the_way(const Event& event) noexcept;
    void repump_if_starved() noexcept;

    WorldOptions options_;
    std::uint64_t seed_;
    Prng prng_;
    std::uint64_t now_ms_ = 0;
    Links links_;
    EventQueue events_;
    NameTable names_;
    NetworkStats stats_;
    std::uint64_t trace_hash_;
    bool stream_starved_ = false;
    bool log_to_stderr_ = false;
    FixedVector<Host, max_hosts_per_world> hosts_;
};

}  // namespace pinhole::sim
