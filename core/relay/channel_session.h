// The relay channel's session (DESIGN §2): a node dials the gateway over a byte stream (TCP,
// TLS or WebSocket) and runs Noise_IK_25519_ChaChaPoly_BLAKE2s to the gateway's pinned X25519
// key, prologue "pinhole relay/1". The node is the initiator, the gateway the responder.
//
// Everything on the stream is `length:u16 BE | noise message`:
//   message 1  (node -> gateway): e, es, s, ss + TAI64N timestamp (108 bytes). The gateway
//              keeps the greatest timestamp per node key and refuses one that is not later
//              (crypto::tai64n_after), which defeats a replayed message 1.
//   message 2  (gateway -> node): e, ee, se + empty payload (48 bytes).
//   transport: ChaCha20-Poly1305 under the split keys with the implicit counter nonce, one
//              relay frame (at most max_frame_plaintext_bytes) per message. The stream is
//              reliable and ordered, so the counter is strictly sequential: a gap, a replay or
//              a tampered message is Errc::authentication and the channel is over.
//
// Fail-closed: every call that fails wipes the session (the caller closes the channel).
// No heap; clear() and the destructor wipe every secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/crypto/tai64n.h"
#include "core/crypto/x25519.h"
#include "core/keys/keys.h"
#include "core/noise/handshake_state.h"
#include "core/noise/symmetric_state.h"
#include "core/util/result.h"
#include "port/random.h"

namespace pinhole::relay {

inline constexpr std::string_view channel_protocol_name = "Noise_IK_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view channel_prologue = "pinhole relay/1";

// A relay frame: 4 bytes of header, a 32-byte key and up to 1600 bytes of packet.
inline constexpr std::size_t max_frame_plaintext_bytes = 4 + 32 + 1600;
inline constexpr std::size_t length_prefix_bytes = 2;
inline constexpr std::size_t max_transport_message_bytes = max_frame_plaintext_bytes + noise::tag_bytes;
inline constexpr std::size_t message1_bytes = noise::message1_overhead_bytes + crypto::tai64n_bytes;
inline constexpr std::size_t message2_bytes = noise::message2_overhead_bytes;
// No message on the stream is shorter than a tag or longer than a full transport message.
inline constexpr std::size_t min_message_bytes = noise::tag_bytes;
inline constexpr std::size_t max_message_bytes = max_transport_message_bytes;
static_assert(message1_bytes <= max_message_bytes && message2_bytes <= max_message_bytes);
static_assert(max_message_bytes <= 0xffff, "the length prefix is 16 bits");

class ChannelSession {
public:
    ChannelSession() noexcept = default;
    ChannelSession(const ChannelSession& other) noexcept = default;
    ChannelSession& operator=(const ChannelSession& other) noexcept = default;
    ~ChannelSession() { clear(); }

    // Node side. Writes the length-prefixed message 1 (length_prefix_bytes + message1_bytes)
    // carrying `now`; Errc::invalid_argument when `out` is shorter, Errc::weak_key for a
    // gateway key of low order, Errc::io when `random` fails. Returns the bytes written.
    [[nodiscard]] Result<std::size_t> start_initiator(const keys::KeyPair& node,
                                                      const crypto::X25519Key& gateway_public,
                                                      port::Random& random,
                                                      const crypto::Tai64n& now,
                                                      std::span<std::uint8_t> out) noexcept;
    // Node side: message 2 without its prefix. Errc::malformed for a wrong size,
    // Errc::authentication when it does not decrypt (another gateway key, tampering).
    [[nodiscard]] Status finish_initiator(std::span<const std::uint8_t> message2) noexcept;

    // What message 1 says: who the node is and when it sent it. The caller checks the key is
    // authorized and the timestamp later than the last one it saw from that key, then calls
    // accept() (or clear()).
    struct Initiation {
        crypto::X25519Key node_key{};
        crypto::Tai64n timestamp{};
    };
    // Gateway side: message 1 without its prefix. Errc::malformed for a wrong size,
    // Errc::authentication when it does not decrypt (sent to another gateway key, tampered).
    [[nodiscard]] Result<Initiation> read_initiation(const keys::KeyPair& gateway,
                                                     std::span<const std::uint8_t> message1) noexcept;
    // Gateway side, after read_initiation: writes the length-prefixed message 2
    // (length_prefix_bytes + message2_bytes) and establishes the session.
    [[nodiscard]] Result<std::size_t> accept(port::Random& random,
                                             std::span<std::uint8_t> out) noexcept;

    [[nodiscard]] bool established() const noexcept { return phase_ == Phase::established; }

    // Both sides, once established. seal writes the length-prefixed transport message
    // (length_prefix_bytes + frame.size() + 16 bytes) and returns its size; frames longer than
    // max_frame_plaintext_bytes or a short `out` are Errc::invalid_argument.
    [[nodiscard]] Result<std::size_t> seal(std::span<const std::uint8_t> frame,
                                           std::span<std::uint8_t> out) noexcept;
    // Decrypts a transport message (without its prefix) in place and returns the frame, the
    // first message.size() - 16 bytes of `message`. Errc::malformed for a size out of range,
    // Errc::authentication for a tampered, replayed or out-of-order message.
    [[nodiscard]] Result<std::span<std::uint8_t>> open(std::span<std::uint8_t> message) noexcept;

    // Wipes everything; the session is as if new.
    void clear() noexcept;

private:
    enum class Phase : std::uint8_t { idle, awaiting_response, initiation_read, established };

    // Splits the finished handshake into send_ and receive_ and wipes it.
    [[nodiscard]] Status establish(noise::Role role) noexcept;

    noise::HandshakeState handshake_;
    noise::CipherState send_;
    noise::CipherState receive_;
    Phase phase_ = Phase::idle;
};

// Reassembly on a byte stream: the size of the next noise message (without its prefix) once
// its 2-byte prefix is buffered; the caller waits for length_prefix_bytes + that many bytes.
// Errc::would_block with fewer than 2 bytes, Errc::malformed for a length below
// min_message_bytes (0 included) or above max_message_bytes.
[[nodiscard]] Result<std::size_t> next_message_bytes(std::span<const std::uint8_t> buffered) noexcept;

}  // namespace pinhole::relay
