// Noise's HandshakeState for the one-round-trip patterns pinhole uses (noise spec section 5.3
// and 7.5, 9 for psk2):
//
//   IK:      <- s            IKpsk2:  <- s
//            ...                      ...
//            -> e, es, s, ss          -> e, es, s, ss
//            <- e, ee, se             <- e, ee, se, psk
//
// parameterised by protocol name, prologue and payloads, so one implementation serves
// WireGuard (Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, prologue = its identifier) and the gateway
// channel (Noise_IK). Ephemeral private keys are passed in: callers draw them from
// port::Random, tests inject the vectors' keys. No heap; `clear()` and the destructor wipe
// every secret, and every method leaves the state wiped when it fails.
//
// Sizes: message 1 = 32 + (32 + 16) + payload + 16; message 2 = 32 + payload + 16.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/crypto/x25519.h"
#include "core/noise/symmetric_state.h"
#include "core/util/result.h"

namespace pinhole::noise {

enum class Pattern : std::uint8_t { ik, ikpsk2 };
enum class Role : std::uint8_t { initiator, responder };

// Where a handshake is: which message comes next, or finished (split may be called).
enum class Stage : std::uint8_t { empty, message1, message2, finished };

inline constexpr std::size_t key_bytes = crypto::x25519_key_bytes;
inline constexpr std::size_t message1_overhead_bytes = key_bytes + (key_bytes + tag_bytes) + tag_bytes;
inline constexpr std::size_t message2_overhead_bytes = key_bytes + tag_bytes;

struct HandshakeParams {
    std::string_view protocol_name;
    std::span<const std::uint8_t> prologue;
    Pattern pattern = Pattern::ik;
    Role role = Role::initiator;
    crypto::X25519Key local_static_private{};
    crypto::X25519Key local_static_public{};
    // The responder's static key: the initiator's pre-message knowledge. Ignored for a
    // responder (it learns the initiator's key from message 1).
    crypto::X25519Key remote_static_public{};
    // IKpsk2 only. A responder may set it later with set_psk, once message 1 has said who the
    // initiator is.
    crypto::X25519Key psk{};
    // DH(local static, remote static) if computed once before (WireGuard keeps it per peer);
    // all zeros: compute it during the handshake.
    crypto::X25519Key precomputed_static_static{};
};

class HandshakeState {
public:
    HandshakeState() noexcept = default;
    HandshakeState(const HandshakeState& other) noexcept = default;
    HandshakeState& operator=(const HandshakeState& other) noexcept = default;
    ~HandshakeState() { clear(); }

    // InitializeSymmetric(protocol_name), MixHash(prologue), MixHash(responder's static).
    void initialize(const HandshakeParams& params) noexcept;
    void set_psk(const crypto::X25519Key& psk) noexcept;

    // Initiator: -> e, es, s, ss, payload. out.size() == message1_overhead_bytes +
    // payload.size() (else Errc::invalid_argument). Errc::weak_key for an all-zero DH.
    [[nodiscard]] Status write_message1(std::span<std::uint8_t> out,
                                        std::span<const std::uint8_t> payload,
                                        const crypto::X25519Key& ephemeral_private) noexcept;
    // Responder: reads message 1 into payload (message.size() - message1_overhead_bytes
    // bytes). Errc::authentication when the static key or the payload does not decrypt; the
    // failing step is in `failed_step()`.
    [[nodiscard]] Status read_message1(std::span<std::uint8_t> payload,
                                       std::span<const std::uint8_t> message) noexcept;
    // Responder: <- e, ee, se, [psk,] payload.
    [[nodiscard]] Status write_message2(std::span<std::uint8_t> out,
                                        std::span<const std::uint8_t> payload,
                                        const crypto::X25519Key& ephemeral_private) noexcept;
    // Initiator: reads message 2.
    [[nodiscard]] Status read_message2(std::span<std::uint8_t> payload,
                                       std::span<const std::uint8_t> message) noexcept;

    // After message 2: the transport CipherStates, initiator-to-responder first. Wipes every
    // secret of the handshake afterwards; the handshake hash stays readable until clear().
    [[nodiscard]] Status split(CipherState& initiator_to_responder,
                               CipherState& responder_to_initiator) noexcept;

    // Which part of message 1 failed to decrypt (for counting the reason).
    enum class FailedStep : std::uint8_t { none, static_key, payload };
    [[nodiscard]] FailedStep failed_step() const noexcept { return failed_step_; }

    [[nodiscard]] Stage stage() const noexcept { return stage_; }
    [[nodiscard]] const Hash& handshake_hash() const noexcept { return symmetric_.handshake_hash(); }
    [[nodiscard]] const crypto::X25519Key& remote_static() const noexcept { return remote_static_; }
    [[nodiscard]] const crypto::X25519Key& remote_ephemeral() const noexcept { return remote_ephemeral_; }
    [[nodiscard]] const crypto::X25519Key& local_ephemeral_public() const noexcept { return local_ephemeral_public_; }
    [[nodiscard]] const SymmetricState& symmetric_state() const noexcept { return symmetric_; }

    // Wipes everything.
    void clear() noexcept;

private:
    // e: public key into the hash (and into ck for psk patterns).
    void mix_ephemeral(const crypto::X25519Key& ephemeral_public) noexcept;
    // MixKey(DH(private_key, public_key)); Errc::weak_key for an all-zero result.
    [[nodiscard]] Status mix_dh(const crypto::X25519Key& private_key,
                                const crypto::X25519Key& public_key) noexcept;
    [[nodiscard]] Status take_ephemeral(const crypto::X25519Key& ephemeral_private) noexcept;
    // Wipes private keys, psk, ck and k; keeps h and the public keys.
    void wipe_secrets() noexcept;

    SymmetricState symmetric_;
    crypto::X25519Key local_static_private_{};
    crypto::X25519Key local_static_public_{};
    crypto::X25519Key local_ephemeral_private_{};
    crypto::X25519Key local_ephemeral_public_{};
    crypto::X25519Key remote_static_{};
    crypto::X25519Key remote_ephemeral_{};
    crypto::X25519Key psk_{};
    crypto::X25519Key precomputed_static_static_{};
    Pattern pattern_ = Pattern::ik;
    Role role_ = Role::initiator;
    Stage stage_ = Stage::empty;
    FailedStep failed_step_ = FailedStep::none;
};

}  // namespace pinhole::noise
