#include "core/relay/channel_session.h"

#include "core/crypto/ct.h"
#include "core/util/endian.h"

namespace pinhole::relay {
namespace {

std::span<const std::uint8_t> as_bytes(std::string_view text) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

noise::HandshakeParams channel_params(noise::Role role, const keys::KeyPair& local) noexcept {
    noise::HandshakeParams params;
    params.protocol_name = channel_protocol_name;
    params.prologue = as_bytes(channel_prologue);
    params.pattern = noise::Pattern::ik;
    params.role = role;
    params.local_static_private = local.private_key;
    params.local_static_public = local.public_key;
    return params;
}

// The prefix of a message of `message_bytes` (checked against max_message_bytes by callers).
void write_prefix(std::span<std::uint8_t> out, std::size_t message_bytes) noexcept {
    store_be16(out.data(), static_cast<std::uint16_t>(message_bytes));
}

}  // namespace

Result<std::size_t> ChannelSession::start_initiator(const keys::KeyPair& node,
                                                    const crypto::X25519Key& gateway_public,
                                                    port::Random& random,
                                                    const crypto::Tai64n& now,
                                                    std::span<std::uint8_t> out) noexcept {
    clear();
    constexpr std::size_t written_bytes = length_prefix_bytes + message1_bytes;
    Status status = out.size() >= written_bytes ? Status{} : Status{Errc::invalid_argument};
    crypto::X25519Key ephemeral_private{};
    if (status.ok()) status = crypto::x25519_generate(ephemeral_private, random);
    if (status.ok()) {
        noise::HandshakeParams params = channel_params(noise::Role::initiator, node);
        params.remote_static_public = gateway_public;
        handshake_.initialize(params);
        crypto::zeroize_object(params);
        status = handshake_.write_message1(out.subspan(length_prefix_bytes, message1_bytes), now,
                                           ephemeral_private);
    }
    crypto::zeroize(ephemeral_private);
    if (status.ok()) {
        write_prefix(out, message1_bytes);
        phase_ = Phase::awaiting_response;
    } else {
        clear();
    }
    return status.ok() ? Result<std::size_t>(written_bytes) : Result<std::size_t>(status.error());
}

Status ChannelSession::finish_initiator(std::span<const std::uint8_t> message2) noexcept {
    Status status;
    if (phase_ != Phase::awaiting_response) {
        status = Errc::invalid_argument;
    } else if (message2.size() != message2_bytes) {
        status = Errc::malformed;
    }
    if (status.ok()) status = handshake_.read_message2({}, message2);
    if (status.ok()) status = establish(noise::Role::initiator);
    if (!status.ok()) clear();
    return status;
}

Result<ChannelSession::Initiation> ChannelSession::read_initiation(
    const keys::KeyPair& gateway, std::span<const std::uint8_t> message1) noexcept {
    clear();
    Status status = message1.size() == message1_bytes ? Status{} : Status{Errc::malformed};
    Initiation initiation;
    if (status.ok()) {
        noise::HandshakeParams params = channel_params(noise::Role::responder, gateway);
        handshake_.initialize(params);
        crypto::zeroize_object(params);
        status = handshake_.read_message1(initiation.timestamp, message1);
    }
    if (status.ok()) {
        initiation.node_key = handshake_.remote_static();
        phase_ = Phase::initiation_read;
    } else {
        clear();
    }
    return status.ok() ? Result<Initiation>(initiation) : Result<Initiation>(status.error());
}

Result<std::size_t> ChannelSession::accept(port::Random& random,
                                           std::span<std::uint8_t> out) noexcept {
    constexpr std::size_t written_bytes = length_prefix_bytes + message2_bytes;
    Status status;
    if (phase_ != Phase::initiation_read || out.size() < written_bytes) {
        status = Errc::invalid_argument;
    }
    crypto::X25519Key ephemeral_private{};
    if (status.ok()) status = crypto::x25519_generate(ephemeral_private, random);
    if (status.ok()) {
        status = handshake_.write_message2(out.subspan(length_prefix_bytes, message2_bytes), {},
                                           ephemeral_private);
    }
    crypto::zeroize(ephemeral_private);
    if (status.ok()) status = establish(noise::Role::responder);
    if (status.ok()) {
        write_prefix(out, message2_bytes);
    } else {
        clear();
    }
    return status.ok() ? Result<std::size_t>(written_bytes) : Result<std::size_t>(status.error());
}

Status ChannelSession::establish(noise::Role role) noexcept {
    const bool initiator = role == noise::Role::initiator;
    const Status split = initiator ? handshake_.split(send_, receive_)
                                   : handshake_.split(receive_, send_);
    handshake_.clear();  // the hash and the public keys are not needed any more
    if (split.ok()) phase_ = Phase::established;
    return split;
}

Result<std::size_t> ChannelSession::seal(std::span<const std::uint8_t> frame,
                                         std::span<std::uint8_t> out) noexcept {
    const std::size_t message_bytes = frame.size() + noise::tag_bytes;
    Status status;
    if (phase_ != Phase::established || frame.size() > max_frame_plaintext_bytes ||
        out.size() < length_prefix_bytes + message_bytes) {
        status = Errc::invalid_argument;
    }
    if (status.ok()) {
        status = send_.encrypt_with_ad(out.subspan(length_prefix_bytes, message_bytes), {}, frame);
    }
    if (status.ok()) {
        write_prefix(out, message_bytes);
    } else {
        clear();
    }
    return status.ok() ? Result<std::size_t>(length_prefix_bytes + message_bytes)
                       : Result<std::size_t>(status.error());
}

Result<std::span<std::uint8_t>> ChannelSession::open(std::span<std::uint8_t> message) noexcept {
    Status status;
    if (phase_ != Phase::established) {
        status = Errc::invalid_argument;
    } else if (message.size() < min_message_bytes || message.size() > max_transport_message_bytes) {
        status = Errc::malformed;
    }
    const std::span<std::uint8_t> frame =
        status.ok() ? message.first(message.size() - noise::tag_bytes) : std::span<std::uint8_t>{};
    if (status.ok()) status = receive_.decrypt_with_ad(frame, {}, message);
    if (!status.ok()) clear();
    return status.ok() ? Result<std::span<std::uint8_t>>(frame)
                       : Result<std::span<std::uint8_t>>(status.error());
}

void ChannelSession::clear() noexcept {
    handshake_.clear();
    send_.clear();
    receive_.clear();
    phase_ = Phase::idle;
}

Result<std::size_t> next_message_bytes(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.size() < length_prefix_bytes) return Errc::would_block;
    const std::size_t message_bytes = load_be16(buffered.data());
    if (message_bytes < min_message_bytes || message_bytes > max_message_bytes) {
        return Errc::malformed;
    }
    return message_bytes;
}

}  // namespace pinhole::relay
