#include "core/wireguard/messages.h"

#include <algorithm>

#include "core/util/endian.h"

namespace pinhole::wireguard {
namespace {

constexpr std::size_t header_bytes = 4;  // type and three reserved bytes

// Copies N bytes from `bytes` at `offset` (the length was checked by the caller).
template <std::size_t N>
void read_field(std::array<std::uint8_t, N>& field, std::span<const std::uint8_t> bytes,
                std::size_t offset) noexcept {
    PINHOLE_ASSERT(offset + N <= bytes.size());
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), N, field.begin());
}

template <std::size_t N>
void write_field(std::span<std::uint8_t> bytes, std::size_t offset,
                 const std::array<std::uint8_t, N>& field) noexcept {
    PINHOLE_ASSERT(offset + N <= bytes.size());
    std::copy(field.begin(), field.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

void write_header(std::span<std::uint8_t> bytes, MessageType type) noexcept {
    bytes[0] = static_cast<std::uint8_t>(type);
    bytes[1] = 0;
    bytes[2] = 0;
    bytes[3] = 0;
}

// The checks every parser shares: the type and reserved bytes, then the length.
Status check_message(std::span<const std::uint8_t> datagram, MessageType expected,
                     std::size_t min_bytes, std::size_t max_bytes,
                     MessageCounters& counters) noexcept {
    const Result<MessageType> type = parse_message_type(datagram, counters);
    if (!type.ok()) return type.error();
    if (type.value() != expected) {
        count_rejection(counters, Rejection::unknown_type);
        return Errc::malformed;
    }
    if (datagram.size() < min_bytes || datagram.size() > max_bytes) {
        count_rejection(counters, Rejection::wrong_length);
        return Errc::malformed;
    }
    return {};
}

}  // namespace

void count_rejection(MessageCounters& counters, Rejection reason) noexcept {
    switch (reason) {
        case Rejection::wrong_length: ++counters.wrong_length; return;
        case Rejection::unknown_type: ++counters.unknown_type; return;
        case Rejection::nonzero_reserved: ++counters.nonzero_reserved; return;
        case Rejection::bad_mac1: ++counters.bad_mac1; return;
        case Rejection::bad_mac2: ++counters.bad_mac2; return;
        case Rejection::decrypt_static: ++counters.decrypt_static; return;
        case Rejection::decrypt_timestamp: ++counters.decrypt_timestamp; return;
        case Rejection::decrypt_empty: ++counters.decrypt_empty; return;
        case Rejection::decrypt_cookie: ++counters.decrypt_cookie; return;
        case Rejection::stale_timestamp: ++counters.stale_timestamp; return;
        case Rejection::flood: ++counters.flood; return;
        case Rejection::unknown_peer: ++counters.unknown_peer; return;
        case Rejection::unknown_index: ++counters.unknown_index; return;
        case Rejection::unexpected_state: ++counters.unexpected_state; return;
        case Rejection::weak_key: ++counters.weak_key; return;
        case Rejection::decrypt_data: ++counters.decrypt_data; return;
        case Rejection::replayed_counter: ++counters.replayed_counter; return;
        case Rejection::expired_keypair: ++counters.expired_keypair; return;
    }
    PINHOLE_ASSERT(false);  // every enumerator is handled above
}

std::uint64_t total_rejections(const MessageCounters& counters) noexcept {
    return counters.wrong_length + counters.unknown_type + counters.nonzero_reserved +
           counters.bad_mac1 + counters.bad_mac2 + counters.decrypt_static +
           counters.decrypt_timestamp + counters.decrypt_empty + counters.decrypt_cookie +
           counters.stale_timestamp + counters.flood + counters.unknown_peer +
           counters.unknown_index + counters.unexpected_state + counters.weak_key +
           counters.decrypt_data + counters.replayed_counter + counters.expired_keypair;
}

Result<MessageType> parse_message_type(std::span<const std::uint8_t> datagram,
                                       MessageCounters& counters) noexcept {
    if (datagram.size() < header_bytes) {
        count_rejection(counters, Rejection::wrong_length);
        return Errc::malformed;
    }
    const std::uint8_t type = datagram[0];
    if (type < static_cast<std::uint8_t>(MessageType::initiation) ||
        type > static_cast<std::uint8_t>(MessageType::data)) {
        count_rejection(counters, Rejection::unknown_type);
        return Errc::malformed;
    }
    if ((datagram[1] | datagram[2] | datagram[3]) != 0) {
        count_rejection(counters, Rejection::nonzero_reserved);
        return Errc::malformed;
    }
    return static_cast<MessageType>(type);
}

Result<InitiationMessage> parse_initiation(std::span<const std::uint8_t> datagram,
                                           MessageCounters& counters) noexcept {
    const Status checked = check_message(datagram, MessageType::initiation, initiation_bytes,
                                         initiation_bytes, counters);
    if (!checked.ok()) return checked.error();
    InitiationMessage message;
    message.sender_index = load_le32(datagram.subspan(4));
    read_field(message.ephemeral, datagram, 8);
    read_field(message.encrypted_static, datagram, 40);
    read_field(message.encrypted_timestamp, datagram, 88);
    read_field(message.mac1, datagram, 116);
    read_field(message.mac2, datagram, 132);
    return message;
}

Result<ResponseMessage> parse_response(std::span<const std::uint8_t> datagram,
                                       MessageCounters& counters) noexcept {
    const Status checked = check_message(datagram, MessageType::response, response_bytes,
                                         response_bytes, counters);
    if (!checked.ok()) return checked.error();
    ResponseMessage message;
    message.sender_index = load_le32(datagram.subspan(4));
    message.receiver_index = load_le32(datagram.subspan(8));
    read_field(message.ephemeral, datagram, 12);
    read_field(message.encrypted_empty, datagram, 44);
    read_field(message.mac1, datagram, 60);
    read_field(message.mac2, datagram, 76);
    return message;
}

Result<CookieReplyMessage> parse_cookie_reply(std::span<const std::uint8_t> datagram,
                                              MessageCounters& counters) noexcept {
    const Status checked = check_message(datagram, MessageType::cookie_reply,
                                         cookie_reply_bytes, cookie_reply_bytes, counters);
    if (!checked.ok()) return checked.error();
    CookieReplyMessage message;
    message.receiver_index = load_le32(datagram.subspan(4));
    read_field(message.nonce, datagram, 8);
    read_field(message.encrypted_cookie, datagram, 32);
    return message;
}

Result<DataHeader> parse_data(std::span<const std::uint8_t> datagram,
                              MessageCounters& counters) noexcept {
    const Status checked = check_message(datagram, MessageType::data, data_min_bytes,
                                         datagram.size(), counters);
    if (!checked.ok()) return checked.error();
    DataHeader header;
    header.receiver_index = load_le32(datagram.subspan(4));
    header.counter = load_le64(datagram.subspan(8));
    header.sealed = datagram.subspan(data_header_bytes);
    return header;
}

void write_initiation(std::span<std::uint8_t, initiation_bytes> out,
                      const InitiationMessage& message) noexcept {
    write_header(out, MessageType::initiation);
    store_le32(std::span<std::uint8_t>(out).subspan(4), message.sender_index);
    write_field(out, 8, message.ephemeral);
    write_field(out, 40, message.encrypted_static);
    write_field(out, 88, message.encrypted_timestamp);
    write_field(out, 116, message.mac1);
    write_field(out, 132, message.mac2);
}

void write_response(std::span<std::uint8_t, response_bytes> out,
                    const ResponseMessage& message) noexcept {
    write_header(out, MessageType::response);
    store_le32(std::span<std::uint8_t>(out).subspan(4), message.sender_index);
    store_le32(std::span<std::uint8_t>(out).subspan(8), message.receiver_index);
    write_field(out, 12, message.ephemeral);
    write_field(out, 44, message.encrypted_empty);
    write_field(out, 60, message.mac1);
    write_field(out, 76, message.mac2);
}

void write_cookie_reply(std::span<std::uint8_t, cookie_reply_bytes> out,
                        const CookieReplyMessage& message) noexcept {
    write_header(out, MessageType::cookie_reply);
    store_le32(std::span<std::uint8_t>(out).subspan(4), message.receiver_index);
    write_field(out, 8, message.nonce);
    write_field(out, 32, message.encrypted_cookie);
}

void write_data_header(std::span<std::uint8_t, data_header_bytes> out,
                       std::uint32_t receiver_index, std::uint64_t counter) noexcept {
    write_header(out, MessageType::data);
    store_le32(std::span<std::uint8_t>(out).subspan(4), receiver_index);
    store_le64(std::span<std::uint8_t>(out).subspan(8), counter);
}

}  // namespace pinhole::wireguard
