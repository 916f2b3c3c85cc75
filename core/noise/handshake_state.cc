#include "core/noise/handshake_state.h"

#include <algorithm>

#include "core/crypto/ct.h"

namespace pinhole::noise {

void HandshakeState::initialize(const HandshakeParams& params) noexcept {
    clear();
    pattern_ = params.pattern;
    role_ = params.role;
    local_static_private_ = params.local_static_private;
    local_static_public_ = params.local_static_public;
    psk_ = params.psk;
    precomputed_static_static_ = params.precomputed_static_static;
    symmetric_.initialize(params.protocol_name);
    symmetric_.mix_hash(params.prologue);
    // The pre-message: the responder's static key, known to both.
    if (role_ == Role::initiator) {
        remote_static_ = params.remote_static_public;
        symmetric_.mix_hash(remote_static_);
    } else {
        symmetric_.mix_hash(local_static_public_);
    }
    stage_ = Stage::message1;
}

void HandshakeState::set_psk(const crypto::X25519Key& psk) noexcept { psk_ = psk; }

void HandshakeState::mix_ephemeral(const crypto::X25519Key& ephemeral_public) noexcept {
    symmetric_.mix_hash(ephemeral_public);
    // psk patterns mix e into the key too, so a psk-only attacker cannot predict k (spec 9.2).
    if (pattern_ == Pattern::ikpsk2) symmetric_.mix_key(ephemeral_public);
}

Status HandshakeState::mix_dh(const crypto::X25519Key& private_key,
                              const crypto::X25519Key& public_key) noexcept {
    crypto::X25519Key shared{};
    const Status computed = crypto::x25519(shared, private_key, public_key);
    if (computed.ok()) symmetric_.mix_key(shared);
    crypto::zeroize(shared);
    return computed;
}

// The ephemeral key pair from the injected private key.
Status HandshakeState::take_ephemeral(const crypto::X25519Key& ephemeral_private) noexcept {
    local_ephemeral_private_ = ephemeral_private;
    return crypto::x25519_public_key(local_ephemeral_public_, local_ephemeral_private_);
}

Status HandshakeState::write_message1(std::span<std::uint8_t> out,
                                      std::span<const std::uint8_t> payload,
                                      const crypto::X25519Key& ephemeral_private) noexcept {
    if (role_ != Role::initiator || stage_ != Stage::message1 ||
        out.size() != message1_overhead_bytes + payload.size()) {
        clear();
        return Errc::invalid_argument;
    }
    const auto ephemeral_out = out.first(key_bytes);
    const auto static_out = out.subspan(key_bytes, key_bytes + tag_bytes);
    const auto payload_out = out.subspan(message1_overhead_bytes - tag_bytes);
    Status status = take_ephemeral(ephemeral_private);
    if (status.ok()) {
        std::copy(local_ephemeral_public_.begin(), local_ephemeral_public_.end(),
                  ephemeral_out.begin());
        mix_ephemeral(local_ephemeral_public_);
        status = mix_dh(local_ephemeral_private_, remote_static_);  // es
    }
    if (status.ok()) status = symmetric_.encrypt_and_hash(static_out, local_static_public_);
    if (status.ok()) {  // ss
        if (crypto::constant_time_is_zero(precomputed_static_static_)) {
            status = mix_dh(local_static_private_, remote_static_);
        } else {
            symmetric_.mix_key(precomputed_static_static_);
        }
    }
    if (status.ok()) status = symmetric_.encrypt_and_hash(payload_out, payload);
    if (!status.ok()) {
        clear();
        return status;
    }
    stage_ = Stage::message2;
    return status;
}

Status HandshakeState::read_message1(std::span<std::uint8_t> payload,
                                     std::span<const std::uint8_t> message) noexcept {
    failed_step_ = FailedStep::none;
    if (role_ != Role::responder || stage_ != Stage::message1 ||
        message.size() != message1_overhead_bytes + payload.size()) {
        clear();
        return Errc::invalid_argument;
    }
    std::copy_n(message.begin(), key_bytes, remote_ephemeral_.begin());
    mix_ephemeral(remote_ephemeral_);
    Status status = mix_dh(local_static_private_, remote_ephemeral_);  // es
    if (status.ok()) {
        status = symmetric_.decrypt_and_hash(remote_static_,
                                             message.subspan(key_bytes, key_bytes + tag_bytes));
        if (!status.ok()) failed_step_ = FailedStep::static_key;
    }
    if (status.ok()) status = mix_dh(local_static_private_, remote_static_);  // ss
    if (status.ok()) {
        status = symmetric_.decrypt_and_hash(payload,
                                             message.subspan(message1_overhead_bytes - tag_bytes));
        if (!status.ok()) failed_step_ = FailedStep::payload;
    }
    if (!status.ok()) {
        const FailedStep failed = failed_step_;
        clear();
        failed_step_ = failed;
        return status;
    }
    stage_ = Stage::message2;
    return status;
}

Status HandshakeState::write_message2(std::span<std::uint8_t> out,
                                      std::span<const std::uint8_t> payload,
                                      const crypto::X25519Key& ephemeral_private) noexcept {
    if (role_ != Role::responder || stage_ != Stage::message2 ||
        out.size() != message2_overhead_bytes + payload.size()) {
        clear();
        return Errc::invalid_argument;
    }
    Status status = take_ephemeral(ephemeral_private);
    if (status.ok()) {
        std::copy(local_ephemeral_public_.begin(), local_ephemeral_public_.end(), out.begin());
        mix_ephemeral(local_ephemeral_public_);
        status = mix_dh(local_ephemeral_private_, remote_ephemeral_);  // ee
    }
    if (status.ok()) status = mix_dh(local_ephemeral_private_, remote_static_);  // se
    if (status.ok() && pattern_ == Pattern::ikpsk2) symmetric_.mix_key_and_hash(psk_);
    if (status.ok()) status = symmetric_.encrypt_and_hash(out.subspan(key_bytes), payload);
    if (!status.ok()) {
        clear();
        return status;
    }
    stage_ = Stage::finished;
    return status;
}

Status HandshakeState::read_message2(std::span<std::uint8_t> payload,
                                     std::span<const std::uint8_t> message) noexcept {
    if (role_ != Role::initiator || stage_ != Stage::message2 ||
        message.size() != message2_overhead_bytes + payload.size()) {
        clear();
        return Errc::invalid_argument;
    }
    std::copy_n(message.begin(), key_bytes, remote_ephemeral_.begin());
    mix_ephemeral(remote_ephemeral_);
    Status status = mix_dh(local_ephemeral_private_, remote_ephemeral_);  // ee
    if (status.ok()) status = mix_dh(local_static_private_, remote_ephemeral_);  // se
    if (status.ok() && pattern_ == Pattern::ikpsk2) symmetric_.mix_key_and_hash(psk_);
    if (status.ok()) status = symmetric_.decrypt_and_hash(payload, message.subspan(key_bytes));
    if (!status.ok()) {
        clear();
        return status;
    }
    stage_ = Stage::finished;
    return status;
}

Status HandshakeState::split(CipherState& initiator_to_responder,
                             CipherState& responder_to_initiator) noexcept {
    if (stage_ != Stage::finished) {
        clear();
        return Errc::invalid_argument;
    }
    symmetric_.split(initiator_to_responder, responder_to_initiator);
    wipe_secrets();
    return {};
}

void HandshakeState::wipe_secrets() noexcept {
    symmetric_.clear_keys();
    crypto::zeroize(local_static_private_);
    crypto::zeroize(local_ephemeral_private_);
    crypto::zeroize(psk_);
    crypto::zeroize(precomputed_static_static_);
}

void HandshakeState::clear() noexcept {
    wipe_secrets();
    symmetric_.clear();
    crypto::zeroize(local_static_public_);
    crypto::zeroize(local_ephemeral_public_);
    crypto::zeroize(remote_static_);
    crypto::zeroize(remote_ephemeral_);
    pattern_ = Pattern::ik;
    role_ = Role::initiator;
    stage_ = Stage::empty;
    failed_step_ = FailedStep::none;
}

}  // namespace pinhole::noise
