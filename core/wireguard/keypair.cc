#include "core/wireguard/keypair.h"

#include "core/crypto/ct.h"
#include "core/util/time.h"
#include "core/wireguard/constants.h"

namespace pinhole::wireguard {

bool Keypair::expired(std::uint32_t now_ms, std::uint32_t lifetime_ms) const noexcept {
    return elapsed_ms(now_ms, birth_ms) >= lifetime_ms;
}

void Keypair::wipe() noexcept {
    crypto::zeroize(sending_key);
    crypto::zeroize(receiving_key);
    sending_counter = 0;
    receiving_window.reset();
    local_index = 0;
    remote_index = 0;
    birth_ms = 0;
    initiator = false;
    valid = false;
}

void KeypairSet::drop(Keypair& keypair, DroppedIndices& dropped) noexcept {
    if (!keypair.valid) return;
    // Three slots, three indices at most per operation: the vector cannot overflow.
    const Status status = dropped.push_back(keypair.local_index);
    PINHOLE_ASSERT(status.ok());
    keypair.wipe();
}

void KeypairSet::move_into(Keypair& to, Keypair& from, DroppedIndices& dropped) noexcept {
    drop(to, dropped);
    to = from;
    from.wipe();
}

DroppedIndices KeypairSet::install(SessionKeys& session, std::uint32_t now_ms) noexcept {
    DroppedIndices dropped;
    Keypair* slot = &next_;
    if (session.initiator) {
        // The initiator has seen the response: the new keypair is usable now. An unconfirmed
        // next keypair (we were responder in a crossing handshake) becomes previous, as in the
        // kernel, so packets the peer already sent under it still decrypt.
        if (next_.valid) {
            move_into(previous_, next_, dropped);
            drop(current_, dropped);
        } else {
            move_into(previous_, current_, dropped);
        }
        slot = &current_;
    } else {
        // The responder waits for the initiator's first data under the new keypair; previous
        // is useless from now on (current will move there on confirmation).
        drop(next_, dropped);
        drop(previous_, dropped);
    }
    drop(*slot, dropped);
    slot->sending_key = session.keys.sending_key;
    slot->receiving_key = session.keys.receiving_key;
    crypto::zeroize_object(session.keys);
    slot->sending_counter = 0;
    slot->receiving_window.reset();
    slot->local_index = session.local_index;
    slot->remote_index = session.remote_index;
    slot->birth_ms = now_ms;
    slot->initiator = session.initiator;
    slot->valid = true;
    return dropped;
}

bool KeypairSet::received_with(const Keypair& keypair, DroppedIndices& dropped) noexcept {
    if (&keypair != &next_ || !next_.valid) return false;
    move_into(previous_, current_, dropped);
    move_into(current_, next_, dropped);
    return true;
}

DroppedIndices KeypairSet::expire(std::uint32_t now_ms, std::uint32_t lifetime_ms) noexcept {
    DroppedIndices dropped;
    for (Keypair* keypair : {&previous_, &current_, &next_}) {
        if (!keypair->valid) continue;
        if (keypair->expired(now_ms, lifetime_ms) ||
            keypair->sending_counter >= reject_after_messages) {
            drop(*keypair, dropped);
        }
    }
    return dropped;
}

DroppedIndices KeypairSet::clear() noexcept {
    DroppedIndices dropped;
    drop(previous_, dropped);
    drop(current_, dropped);
    drop(next_, dropped);
    return dropped;
}

void KeypairSet::clear_all() noexcept {
    previous_.wipe();
    current_.wipe();
    next_.wipe();
}

Keypair* KeypairSet::find(std::uint32_t local_index) noexcept {
    for (Keypair* keypair : {&current_, &previous_, &next_}) {
        if (keypair->valid && keypair->local_index == local_index) return keypair;
    }
    return nullptr;
}

}  // namespace pinhole::wireguard
