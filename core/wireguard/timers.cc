#include "core/wireguard/timers.h"

#include <array>

#include "core/util/endian.h"

namespace pinhole::wireguard {

Timers::Timers(const TimerSettings& settings, port::Random& random) noexcept
    : settings_(settings), random_(random) {}

void Timers::arm(TimerId id, std::uint32_t now_ms, std::uint32_t duration_ms) noexcept {
    // One entry per TimerId and room for all of them: arming cannot run out of space.
    const Status status = queue_.arm(id, deadline_after(now_ms, duration_ms));
    PINHOLE_ASSERT(status.ok());
}

// Jitter only de-synchronises peers, so it need not be a secret: a xorshift generator seeded
// once from the port's random source, not a system call per armed timer (the new-handshake
// timer is re-armed for nearly every data packet under load). Without randomness, no jitter is
// still correct.
std::uint32_t Timers::jitter_ms() noexcept {
    if (settings_.rekey_timeout_jitter_max_ms == 0) return 0;
    if (jitter_state_ == 0) {
        std::array<std::uint8_t, 4> bytes{};
        if (!random_.fill(bytes).ok()) return 0;
        jitter_state_ = load_le32(bytes.data()) | 1;  // xorshift must not start at zero
    }
    jitter_state_ ^= jitter_state_ << 13;
    jitter_state_ ^= jitter_state_ >> 17;
    jitter_state_ ^= jitter_state_ << 5;
    return jitter_state_ % settings_.rekey_timeout_jitter_max_ms;
}

std::uint32_t Timers::max_handshake_attempts() const noexcept {
    if (settings_.rekey_timeout_ms == 0) return 0;
    return settings_.rekey_attempt_time_ms / settings_.rekey_timeout_ms;  // the kernel's 18
}

void Timers::set_persistent_keepalive_interval_ms(std::uint32_t interval_ms,
                                                  std::uint32_t now_ms) noexcept {
    persistent_keepalive_interval_ms_ = interval_ms;
    if (interval_ms == 0) {
        queue_.disarm(TimerId::persistent_keepalive);
    } else {
        arm(TimerId::persistent_keepalive, now_ms, interval_ms);
    }
}

void Timers::on_handshake_initiated(std::uint32_t now_ms, bool is_retry) noexcept {
    if (!is_retry) handshake_attempts_ = 0;
    arm(TimerId::retransmit_handshake, now_ms, settings_.rekey_timeout_ms + jitter_ms());
}

void Timers::on_handshake_complete() noexcept {
    queue_.disarm(TimerId::retransmit_handshake);
    handshake_attempts_ = 0;
}

void Timers::on_session_derived(std::uint32_t now_ms) noexcept {
    arm(TimerId::zero_key_material, now_ms, 3 * settings_.reject_after_time_ms);
}

void Timers::on_data_sent(std::uint32_t now_ms) noexcept {
    // Armed once per silence: later sends must not push the deadline back.
    if (queue_.is_armed(TimerId::new_handshake)) return;
    arm(TimerId::new_handshake, now_ms,
        settings_.keepalive_timeout_ms + settings_.rekey_timeout_ms + jitter_ms());
}

void Timers::on_data_received(std::uint32_t now_ms) noexcept {
    if (queue_.is_armed(TimerId::send_keepalive)) {
        need_another_keepalive_ = true;
    } else {
        arm(TimerId::send_keepalive, now_ms, settings_.keepalive_timeout_ms);
    }
}

void Timers::on_any_authenticated_packet_sent() noexcept {
    queue_.disarm(TimerId::send_keepalive);
}

void Timers::on_any_authenticated_packet_received() noexcept {
    queue_.disarm(TimerId::new_handshake);
}

void Timers::on_any_authenticated_packet_traversal(std::uint32_t now_ms) noexcept {
    if (persistent_keepalive_interval_ms_ != 0) {
        arm(TimerId::persistent_keepalive, now_ms, persistent_keepalive_interval_ms_);
    }
}

void Timers::stop() noexcept {
    for (const TimerId id : {TimerId::retransmit_handshake, TimerId::send_keepalive,
                             TimerId::new_handshake, TimerId::zero_key_material,
                             TimerId::persistent_keepalive}) {
        queue_.disarm(id);
    }
    handshake_attempts_ = 0;
    need_another_keepalive_ = false;
}

void Timers::expire(std::uint32_t now_ms, TimerActions& actions) noexcept {
    queue_.expire(now_ms, [&](TimerId id) { fire(id, now_ms, actions); });
}

void Timers::fire(TimerId id, std::uint32_t now_ms, TimerActions& actions) noexcept {
    switch (id) {
        case TimerId::retransmit_handshake:
            if (handshake_attempts_ >= max_handshake_attempts()) {
                // REKEY_ATTEMPT_TIME without a response: stop trying until new data to send.
                actions.gave_up = true;
                queue_.disarm(TimerId::send_keepalive);
                if (!queue_.is_armed(TimerId::zero_key_material)) {
                    arm(TimerId::zero_key_material, now_ms, 3 * settings_.reject_after_time_ms);
                }
            } else {
                ++handshake_attempts_;
                actions.send_initiation = true;
                actions.initiation_is_retry = true;
            }
            break;
        case TimerId::send_keepalive:
            actions.send_keepalive = true;
            if (need_another_keepalive_) {
                need_another_keepalive_ = false;
                arm(TimerId::send_keepalive, now_ms, settings_.keepalive_timeout_ms);
            }
            break;
        case TimerId::new_handshake:
            // We sent data and heard nothing back for KEEPALIVE + REKEY_TIMEOUT.
            actions.send_initiation = true;
            actions.initiation_is_retry = false;
            break;
        case TimerId::zero_key_material:
            actions.zero_keys = true;
            break;
        case TimerId::persistent_keepalive:
            actions.send_keepalive = true;
            break;
    }
}

}  // namespace pinhole::wireguard
