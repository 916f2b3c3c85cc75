#include "core/wireguard/handshake.h"

#include <algorithm>

#include "core/crypto/ct.h"
#include "core/util/time.h"

namespace pinhole::wireguard {
namespace {

// The Noise part of the messages: initiation = e ‖ static ‖ timestamp, response = e ‖ empty.
using NoiseInitiation = std::array<std::uint8_t, noise::message1_overhead_bytes + crypto::tai64n_bytes>;
using NoiseResponse = std::array<std::uint8_t, noise::message2_overhead_bytes>;

std::span<const std::uint8_t> as_bytes(std::string_view text) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

noise::HandshakeParams wireguard_params(noise::Role role, const StaticIdentity& identity) noexcept {
    noise::HandshakeParams params;
    params.protocol_name = construction;
    params.prologue = as_bytes(identifier);
    params.pattern = noise::Pattern::ikpsk2;
    params.role = role;
    params.local_static_private = identity.private_key;
    params.local_static_public = identity.public_key;
    return params;
}

// Splits a finished handshake into the keys of one side and wipes the cipher states.
KeyMaterial split_keys(noise::HandshakeState& noise, noise::Role role) noexcept {
    noise::CipherState initiator_to_responder;
    noise::CipherState responder_to_initiator;
    const Status split = noise.split(initiator_to_responder, responder_to_initiator);
    PINHOLE_ASSERT(split.ok());  // callers split only finished handshakes
    const bool initiator = role == noise::Role::initiator;
    KeyMaterial keys;
    keys.sending_key = initiator ? initiator_to_responder.key() : responder_to_initiator.key();
    keys.receiving_key = initiator ? responder_to_initiator.key() : initiator_to_responder.key();
    return keys;
}

// The Result holds its own copy; the local one is wiped.
Result<SessionKeys> hand_over(SessionKeys& session) noexcept {
    Result<SessionKeys> result(session);
    crypto::zeroize_object(session);
    return result;
}

void count_dh_or(MessageCounters& counters, Errc error, Rejection otherwise) noexcept {
    count_rejection(counters, error == Errc::weak_key ? Rejection::weak_key : otherwise);
}

}  // namespace

Status make_peer_keys(HandshakePeerKeys& out, const StaticIdentity& identity,
                      const crypto::X25519Key& remote_static,
                      const crypto::X25519Key& preshared_key) noexcept {
    out.remote_static = remote_static;
    out.preshared_key = preshared_key;
    const Status computed =
        crypto::x25519(out.precomputed_static_static, identity.private_key, remote_static);
    if (!computed.ok()) crypto::zeroize_object(out);
    return computed;
}

void InitiationSeen::forget() noexcept {
    noise.clear();
    crypto::zeroize(remote_static);
    crypto::zeroize(timestamp);
    remote_index = 0;
}

Result<InitiationSeen> consume_initiation(const InitiationMessage& message,
                                          const StaticIdentity& identity,
                                          MessageCounters& counters) noexcept {
    NoiseInitiation noise_message{};
    auto cursor = std::copy(message.ephemeral.begin(), message.ephemeral.end(), noise_message.begin());
    cursor = std::copy(message.encrypted_static.begin(), message.encrypted_static.end(), cursor);
    std::copy(message.encrypted_timestamp.begin(), message.encrypted_timestamp.end(), cursor);

    InitiationSeen seen;
    seen.noise.initialize(wireguard_params(noise::Role::responder, identity));
    const Status read = seen.noise.read_message1(seen.timestamp, noise_message);
    if (!read.ok()) {
        const bool static_failed = seen.noise.failed_step() == noise::HandshakeState::FailedStep::static_key;
        count_dh_or(counters, read.error(),
                    static_failed ? Rejection::decrypt_static : Rejection::decrypt_timestamp);
        seen.forget();
        return read.error();
    }
    seen.remote_static = seen.noise.remote_static();
    seen.remote_index = message.sender_index;
    Result<InitiationSeen> result(seen);
    seen.forget();
    return result;
}

Status Handshake::create_initiation(InitiationMessage& out, const StaticIdentity& identity,
                                    const HandshakePeerKeys& peer, const port::WallTime& now,
                                    port::Random& random, std::uint32_t local_index) noexcept {
    crypto::X25519Key ephemeral_private{};
    Status status = crypto::x25519_generate(ephemeral_private, random);
    if (status.ok()) {
        status = create_initiation_with_ephemeral(out, identity, peer, now, ephemeral_private,
                                                  local_index);
    }
    crypto::zeroize(ephemeral_private);
    return status;
}

Status Handshake::create_initiation_with_ephemeral(
    InitiationMessage& out, const StaticIdentity& identity, const HandshakePeerKeys& peer,
    const port::WallTime& now, const crypto::X25519Key& ephemeral_private,
    std::uint32_t local_index) noexcept {
    clear();
    noise::HandshakeParams params = wireguard_params(noise::Role::initiator, identity);
    params.remote_static_public = peer.remote_static;
    params.psk = peer.preshared_key;
    params.precomputed_static_static = peer.precomputed_static_static;
    noise_.initialize(params);
    crypto::zeroize_object(params);

    const crypto::Tai64n timestamp = crypto::tai64n_encode(now);
    NoiseInitiation noise_message{};
    const Status written = noise_.write_message1(noise_message, timestamp, ephemeral_private);
    if (!written.ok()) {
        clear();
        return written;
    }
    out = InitiationMessage{};
    out.sender_index = local_index;
    const auto* cursor = noise_message.begin();
    std::copy_n(cursor, out.ephemeral.size(), out.ephemeral.begin());
    cursor += out.ephemeral.size();
    std::copy_n(cursor, out.encrypted_static.size(), out.encrypted_static.begin());
    cursor += out.encrypted_static.size();
    std::copy_n(cursor, out.encrypted_timestamp.size(), out.encrypted_timestamp.begin());
    local_index_ = local_index;
    stage_ = HandshakeStage::created_initiation;
    return written;
}

Result<SessionKeys> Handshake::consume_response(const ResponseMessage& message,
                                                MessageCounters& counters) noexcept {
    if (stage_ != HandshakeStage::created_initiation || message.receiver_index != local_index_) {
        count_rejection(counters, Rejection::unexpected_state);
        return Errc::invalid_argument;
    }
    NoiseResponse noise_message{};
    auto cursor = std::copy(message.ephemeral.begin(), message.ephemeral.end(), noise_message.begin());
    std::copy(message.encrypted_empty.begin(), message.encrypted_empty.end(), cursor);

    noise::HandshakeState attempt = noise_;  // commit only a response that verifies
    const Status read = attempt.read_message2({}, noise_message);
    if (!read.ok()) {
        count_dh_or(counters, read.error(), Rejection::decrypt_empty);
        return read.error();
    }
    SessionKeys session;
    session.keys = split_keys(attempt, noise::Role::initiator);
    session.local_index = local_index_;
    session.remote_index = message.sender_index;
    session.initiator = true;
    clear();
    stage_ = HandshakeStage::consumed_response;
    return hand_over(session);
}

Result<SessionKeys> Handshake::create_response(ResponseMessage& out, InitiationSeen& seen,
                                               const HandshakePeerKeys& peer,
                                               std::uint32_t now_ms, port::Random& random,
                                               std::uint32_t local_index,
                                               MessageCounters& counters) noexcept {
    crypto::X25519Key ephemeral_private{};
    const Status generated = crypto::x25519_generate(ephemeral_private, random);
    if (!generated.ok()) {
        seen.forget();
        return generated.error();
    }
    Result<SessionKeys> result = create_response_with_ephemeral(
        out, seen, peer, now_ms, ephemeral_private, local_index, counters);
    crypto::zeroize(ephemeral_private);
    return result;
}

Result<SessionKeys> Handshake::create_response_with_ephemeral(
    ResponseMessage& out, InitiationSeen& seen, const HandshakePeerKeys& peer,
    std::uint32_t now_ms, const crypto::X25519Key& ephemeral_private, std::uint32_t local_index,
    MessageCounters& counters) noexcept {
    PINHOLE_ASSERT(seen.remote_static == peer.remote_static);
    Status status = accept_initiation_time(seen.timestamp, now_ms, counters);
    NoiseResponse noise_message{};
    if (status.ok()) {
        clear();
        noise_ = seen.noise;
        noise_.set_psk(peer.preshared_key);
        status = noise_.write_message2(noise_message, {}, ephemeral_private);
        if (!status.ok()) count_dh_or(counters, status.error(), Rejection::decrypt_empty);
    }
    SessionKeys session;
    if (status.ok()) {
        session.keys = split_keys(noise_, noise::Role::responder);
        session.local_index = local_index;
        session.remote_index = seen.remote_index;
        out = ResponseMessage{};
        out.sender_index = local_index;
        out.receiver_index = seen.remote_index;
        std::copy_n(noise_message.begin(), out.ephemeral.size(), out.ephemeral.begin());
        std::copy_n(noise_message.begin() + out.ephemeral.size(), out.encrypted_empty.size(),
                    out.encrypted_empty.begin());
    }
    seen.forget();
    noise_.clear();
    if (!status.ok()) return status.error();
    local_index_ = local_index;
    stage_ = HandshakeStage::created_response;
    return hand_over(session);
}

Status Handshake::accept_initiation_time(const crypto::Tai64n& timestamp, std::uint32_t now_ms,
                                         MessageCounters& counters) noexcept {
    if (!crypto::tai64n_after(timestamp, latest_timestamp_)) {
        count_rejection(counters, Rejection::stale_timestamp);
        return Errc::refused;
    }
    if (has_consumed_initiation_ &&
        elapsed_ms(now_ms, last_initiation_ms_) < initiation_min_interval_ms) {
        count_rejection(counters, Rejection::flood);
        return Errc::refused;
    }
    latest_timestamp_ = timestamp;
    last_initiation_ms_ = now_ms;
    has_consumed_initiation_ = true;
    return {};
}

void Handshake::clear() noexcept {
    noise_.clear();
    local_index_ = 0;
    stage_ = HandshakeStage::zeroed;
}

}  // namespace pinhole::wireguard
