#include "core/wireguard/transport.h"

#include <algorithm>

#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/ct.h"
#include "core/util/endian.h"
#include "core/util/time.h"

namespace pinhole::wireguard {
namespace {

constexpr std::size_t padding_multiple_bytes = 16;

// The plaintext length after padding: up to a multiple of 16, but never past the MTU (a packet
// already longer than the MTU is not padded further).
std::size_t padded_bytes(std::size_t packet_bytes, std::size_t mtu_bytes) noexcept {
    const std::size_t rounded =
        (packet_bytes + padding_multiple_bytes - 1) / padding_multiple_bytes * padding_multiple_bytes;
    return std::max(packet_bytes, std::min(rounded, mtu_bytes));
}

bool may_send(const Keypair& keypair, std::uint32_t now_ms, const TimerSettings& settings) noexcept {
    return keypair.sending_counter < reject_after_messages &&
           !keypair.expired(now_ms, settings.reject_after_time_ms);
}

Status reject(MessageCounters& counters, Rejection reason, Errc error) noexcept {
    count_rejection(counters, reason);
    return error;
}

}  // namespace

std::size_t data_message_bytes(std::size_t packet_bytes, std::size_t mtu_bytes) noexcept {
    return data_header_bytes + padded_bytes(packet_bytes, mtu_bytes) + data_tag_bytes;
}

Result<SealedData> seal_data(Keypair& keypair, std::span<const std::uint8_t> packet,
                             std::size_t mtu_bytes, std::span<std::uint8_t> out,
                             std::uint32_t now_ms, const TimerSettings& settings) noexcept {
    if (!keypair.valid) return Errc::invalid_argument;
    const std::size_t plaintext_bytes = padded_bytes(packet.size(), mtu_bytes);
    const std::size_t message_bytes = data_header_bytes + plaintext_bytes + data_tag_bytes;
    if (out.size() < message_bytes) return Errc::invalid_argument;
    if (!may_send(keypair, now_ms, settings)) return Errc::refused;

    const std::uint64_t counter = keypair.sending_counter;
    write_data_header(out.first<data_header_bytes>(), keypair.remote_index, counter);
    // Plaintext and padding in place after the header, then sealed in place.
    const std::span<std::uint8_t> body = out.subspan(data_header_bytes, plaintext_bytes);
    std::copy(packet.begin(), packet.end(), body.begin());
    std::fill(body.begin() + static_cast<std::ptrdiff_t>(packet.size()), body.end(), 0);
    const std::span<std::uint8_t> sealed =
        out.subspan(data_header_bytes, plaintext_bytes + data_tag_bytes);
    const Status status = crypto::chacha20poly1305_seal(
        sealed, keypair.sending_key, crypto::chacha20poly1305_counter_nonce(counter), {}, body);
    if (!status.ok()) return status.error();
    ++keypair.sending_counter;

    SealedData result;
    result.message_bytes = message_bytes;
    result.rekey_due = keypair.sending_counter >= rekey_after_messages ||
                       (keypair.initiator &&
                        elapsed_ms(now_ms, keypair.birth_ms) >= settings.rekey_after_time_ms);
    return result;
}

namespace {

// Initiator only: the keypair is close enough to REJECT_AFTER_TIME that a handshake started
// now (which may need REKEY_TIMEOUT after a keepalive's wait) must begin.
bool receive_rekey_due(const Keypair& keypair, std::uint32_t now_ms,
                       const TimerSettings& settings) noexcept {
    if (!keypair.initiator) return false;
    const std::uint32_t margin_ms = settings.keepalive_timeout_ms + settings.rekey_timeout_ms;
    const std::uint32_t limit_ms =
        settings.reject_after_time_ms > margin_ms ? settings.reject_after_time_ms - margin_ms : 0;
    return elapsed_ms(now_ms, keypair.birth_ms) >= limit_ms;
}

}  // namespace

Result<OpenedData> open_data(std::span<const std::uint8_t> datagram, std::span<std::uint8_t> out,
                             KeypairLookup& lookup, std::uint32_t now_ms,
                             const TimerSettings& settings, MessageCounters& counters) noexcept {
    const Result<DataHeader> header = parse_data(datagram, counters);  // counts its rejections
    if (!header.ok()) return header.error();
    const std::span<const std::uint8_t> sealed = header.value().sealed;
    const std::size_t plaintext_bytes = sealed.size() - data_tag_bytes;
    if (out.size() < plaintext_bytes) return Errc::invalid_argument;

    Keypair* keypair = lookup.find_keypair(header.value().receiver_index);
    if (keypair == nullptr || !keypair->valid) {
        return reject(counters, Rejection::unknown_index, Errc::not_found).error();
    }
    if (keypair->expired(now_ms, settings.reject_after_time_ms)) {
        return reject(counters, Rejection::expired_keypair, Errc::refused).error();
    }
    const std::uint64_t counter = header.value().counter;
    const std::span<std::uint8_t> plaintext = out.first(plaintext_bytes);
    const Status opened = crypto::chacha20poly1305_open(
        plaintext, keypair->receiving_key, crypto::chacha20poly1305_counter_nonce(counter), {},
        sealed);
    if (!opened.ok()) return reject(counters, Rejection::decrypt_data, Errc::authentication).error();
    // Only now, with the tag verified, may the counter move the replay window.
    if (!keypair->receiving_window.check_and_update(counter)) {
        crypto::zeroize(plaintext);
        return reject(counters, Rejection::replayed_counter, Errc::already_exists).error();
    }

    OpenedData result;
    result.keypair = keypair;
    result.packet = plaintext;
    result.counter = counter;
    result.rekey_due = receive_rekey_due(*keypair, now_ms, settings);
    return result;
}

}  // namespace pinhole::wireguard
