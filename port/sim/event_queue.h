// The simulation's agenda: everything that will happen later (a datagram or stream packet
// landing, a resolver answer, an alarm) is an Event due at a virtual time. Events due at the
// same time run in the order they were scheduled (a sequence number breaks the tie), so a run
// is a pure function of its seed.
//
// core/util's TimerQueue does not fit here: it runs every due timer in one call and keys on
// 32-bit wrapping time, while step() takes exactly one event and the world keeps 64-bit time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/net/address.h"
#include "core/util/pool.h"
#include "port/sim/limits.h"
#include "port/sim/links.h"

namespace pinhole::sim {

class Alarm;

enum class EventKind : std::uint8_t {
    datagram,          // UDP payload `from` -> `to`
    stream_open,       // a SYN from `source` to `to`
    stream_packet,     // stream data, FIN, or the accept (packet 0 towards the connector)
    stream_reset,      // RST to `target`
    stream_window,     // `target`, a writer, may send again (TCP's ACK and window update)
    stream_writable,   // tell `target`'s owner it may write again (local, no wire)
    connect_deadline,  // `target` gives up connecting (local)
    resolve_answer,    // resolution `token` of host `to_host` is answered (local)
    alarm,             // a test's alarm (local)
};

// One end of a stream: a connection slot on a host, with the slot's generation so that a
// packet for a connection that has since closed (and whose slot was reused) is recognised.
struct StreamRef {
    HostIndex host = 0;
    std::uint8_t slot = 0;
    std::uint16_t generation = 0;
    friend constexpr bool operator==(const StreamRef&, const StreamRef&) = default;
};

struct Event {
    std::uint64_t due_ms = 0;
    std::uint64_t sequence = 0;
    std::uint32_t generation = 0;  // of the event slot: names an alarm for cancel_alarm
    EventKind kind = EventKind::datagram;
    bool cancelled = false;
    std::uint8_t attempt = 0;      // retransmissions of a SYN or stream packet so far
    HostIndex from_host = 0;
    HostIndex to_host = 0;
    net::Endpoint from;
    net::Endpoint to;
    StreamRef source;
    StreamRef target;
    std::uint32_t packet = 0;      // position in its stream direction
    bool opens = false;            // packet 0 towards the connector: the connection is accepted
    bool fin = false;
    std::uint16_t token = 0;       // a resolution id
    Alarm* alarm = nullptr;
    std::uint16_t length_bytes = 0;
    std::array<std::uint8_t, max_datagram_bytes> payload;  // only length_bytes are meaningful
};

class EventQueue {
public:
    // Who may take the last events_reserved_for_control slots.
    enum class Reserve : std::uint8_t { data, control };

    // A blank event, or nullptr when the pool is full (for Reserve::data: when only the
    // control reserve is left).
    [[nodiscard]] Event* allocate(Reserve reserve) noexcept;
    // Puts an allocated event on the agenda at `due_ms`, behind everything already due then.
    void schedule(Event& event, std::uint64_t due_ms) noexcept;
    // Takes the earliest event off the agenda if it is due by `limit_ms`; it stays allocated
    // (to be released, rescheduled or parked by the caller).
    [[nodiscard]] Event* pop_due(std::uint64_t limit_ms) noexcept;
    void release(Event& event) noexcept;

    [[nodiscard]] std::optional<std::uint64_t> next_due_ms() const noexcept;
    [[nodiscard]] std::size_t allocated() const noexcept { return events_.size(); }
    // The allocated event in `slot` with `generation`, if it is still that one.
    [[nodiscard]] Event* find(std::size_t slot, std::uint32_t generation) noexcept;
    [[nodiscard]] std::size_t slot_of(const Event& event) const noexcept {
        return events_.index_of(&event);
    }

private:
    [[nodiscard]] static bool earlier(const Event& a, const Event& b) noexcept;
    void sift_up(std::size_t position) noexcept;
    void sift_down(std::size_t position) noexcept;

    Pool<Event, max_events_in_flight> events_;
    std::array<std::uint32_t, max_events_in_flight> generations_{};
    // A binary min-heap on (due_ms, sequence) of the scheduled events.
    std::array<Event*, max_events_in_flight> heap_{};
    std::size_t heap_size_ = 0;
    std::uint64_t next_sequence_ = 0;
};

}  // namespace pinhole::sim
