// The whitepaper's timers (section 6) as reactions to named events, like the kernel's
// timers.c. The device tells a peer's `Timers` what happened (a handshake was initiated, data
// was sent, ...); `expire()` reports which actions are due, and the device performs them:
//   retransmit handshake  REKEY_TIMEOUT + jitter after an initiation without a response; after
//                         REKEY_ATTEMPT_TIME / REKEY_TIMEOUT retries the peer gives up;
//   send keepalive        KEEPALIVE_TIMEOUT after receiving data if we sent nothing since;
//   new handshake         KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (+ jitter) after sending data if
//                         nothing authenticated came back;
//   zero key material     3 × REJECT_AFTER_TIME after the last session was derived;
//   persistent keepalive  every `persistent_keepalive_interval_ms` of silence on our side.
// Time is passed in (32-bit wrapping milliseconds, core/util/time.h).
#pragma once

#include <cstdint>
#include <optional>

#include "core/util/timer_queue.h"
#include "core/wireguard/constants.h"
#include "port/random.h"

namespace pinhole::wireguard {

// The protocol's durations, the whitepaper's by default; simulations shorten them.
struct TimerSettings {
    std::uint32_t rekey_after_time_ms = wireguard::rekey_after_time_ms;
    std::uint32_t reject_after_time_ms = wireguard::reject_after_time_ms;
    std::uint32_t rekey_attempt_time_ms = wireguard::rekey_attempt_time_ms;
    std::uint32_t rekey_timeout_ms = wireguard::rekey_timeout_ms;
    std::uint32_t rekey_timeout_jitter_max_ms = wireguard::rekey_timeout_jitter_max_ms;
    std::uint32_t keepalive_timeout_ms = wireguard::keepalive_timeout_ms;
};

// What expire() found due; the device acts on each flag that is set.
struct TimerActions {
    bool send_initiation = false;   // start (or retry) a handshake
    bool initiation_is_retry = false;  // pass to on_handshake_initiated when it is sent
    bool send_keepalive = false;    // send an empty data message
    bool gave_up = false;           // the handshake failed REKEY_ATTEMPT_TIME long: drop
                                    // queued packets (zero_keys follows later)
    bool zero_keys = false;         // wipe all keypairs and the handshake of this peer
};

class Timers {
public:
    Timers(const TimerSettings& settings, port::Random& random) noexcept;

    // 0 turns persistent keepalive off (the default).
    void set_persistent_keepalive_interval_ms(std::uint32_t interval_ms,
                                              std::uint32_t now_ms) noexcept;

    // An initiation was sent; `is_retry` as TimerActions said (false for a fresh handshake,
    // which restarts the attempt count).
    void on_handshake_initiated(std::uint32_t now_ms, bool is_retry) noexcept;
    // A response was consumed (initiator) or the first data arrived under the responder's new
    // keypair: stop retransmitting.
    void on_handshake_complete() noexcept;
    // New transport keys exist (either side): arm the zeroing of key material.
    void on_session_derived(std::uint32_t now_ms) noexcept;
    // A data message with a non-empty payload was sent.
    void on_data_sent(std::uint32_t now_ms) noexcept;
    // A data message with a non-empty payload was received and authenticated.
    void on_data_received(std::uint32_t now_ms) noexcept;
    // Any authenticated message (handshake, data or keepalive) was sent.
    void on_any_authenticated_packet_sent() noexcept;
    // Any authenticated message was received.
    void on_any_authenticated_packet_received() noexcept;
    // Any authenticated message was sent or received (persistent keepalive restarts).
    void on_any_authenticated_packet_traversal(std::uint32_t now_ms) noexcept;
    // The peer is removed or its keys were zeroed: nothing stays armed.
    void stop() noexcept;

    // Fires every timer due at `now_ms` and sets the matching flags in `actions`.
    void expire(std::uint32_t now_ms, TimerActions& actions) noexcept;
    // When to call expire() next, if anything is armed.
    [[nodiscard]] std::optional<std::uint32_t> next_deadline() const noexcept {
        return queue_.next_deadline();
    }
    [[nodiscard]] std::uint32_t handshake_attempts() const noexcept { return handshake_attempts_; }

private:
    enum class TimerId : std::uint8_t {
        retransmit_handshake,
        send_keepalive,
        new_handshake,
        zero_key_material,
        persistent_keepalive,
    };
    static constexpr std::size_t timer_count = 5;

    void fire(TimerId id, std::uint32_t now_ms, TimerActions& actions) noexcept;
    void arm(TimerId id, std::uint32_t now_ms, std::uint32_t duration_ms) noexcept;
    [[nodiscard]] std::uint32_t jitter_ms() noexcept;
    [[nodiscard]] std::uint32_t max_handshake_attempts() const noexcept;

    TimerSettings settings_;
    port::Random& random_;
    TimerQueue<timer_count, TimerId> queue_;
    std::uint32_t handshake_attempts_ = 0;
    std::uint32_t jitter_state_ = 0;  // xorshift32; 0 until seeded
    std::uint32_t persistent_keepalive_interval_ms_ = 0;
    bool need_another_keepalive_ = false;
};

}  // namespace pinhole::wireguard
