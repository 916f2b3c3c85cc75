#include "core/wireguard/device.h"

#include <algorithm>

#include "core/crypto/ct.h"
#include "core/util/time.h"

namespace pinhole::wireguard {
namespace {

constexpr std::size_t ipv4_header_bytes = 20;
constexpr std::size_t ipv6_header_bytes = 40;

// The source address and real length of a decrypted IP packet (the plaintext is padded to a
// multiple of 16: the header says where the packet ends), or nothing when the header is not
// a valid IPv4 or IPv6 header that fits.
struct IpHeader {
    net::IpAddress source;
    std::size_t length_bytes = 0;
};

std::optional<IpHeader> parse_ip_header(std::span<const std::uint8_t> packet) noexcept {
    if (packet.empty()) return std::nullopt;
    IpHeader header;
    const unsigned version = packet[0] >> 4;
    if (version == 4 && packet.size() >= ipv4_header_bytes) {
        header.length_bytes = std::size_t{packet[2]} << 8 | packet[3];
        header.source = net::IpAddress::v4(packet[12], packet[13], packet[14], packet[15]);
        if (header.length_bytes < ipv4_header_bytes) return std::nullopt;
    } else if (version == 6 && packet.size() >= ipv6_header_bytes) {
        header.length_bytes = ipv6_header_bytes + (std::size_t{packet[4]} << 8 | packet[5]);
        header.source = net::IpAddress::v6(packet.subspan<8, 16>());
    } else {
        return std::nullopt;
    }
    if (header.length_bytes > packet.size()) return std::nullopt;
    return header;
}

CookieSource cookie_source_of(const Endpoint& source) noexcept {
    return source.kind == Endpoint::Kind::relay ? cookie_source_relay(source.relay_peer)
                                                : cookie_source_udp(source.udp);
}

}  // namespace

// --- Rate limit under load ------------------------------------------------------------------

bool HandshakeRateLimiter::allow(const Endpoint& source, std::uint32_t now_ms) noexcept {
    Bucket wanted;
    if (source.kind == Endpoint::Kind::relay) {
        std::copy(source.relay_peer.begin(), source.relay_peer.end(), wanted.key.begin());
        wanted.key_bytes = static_cast<std::uint8_t>(source.relay_peer.size());
    } else {
        // The whole IPv4 address; an IPv6 /64, which one subscriber usually holds entirely.
        wanted.key_bytes = source.udp.address.is_v4() ? 4 : 8;
        std::copy_n(source.udp.address.bytes.begin(), wanted.key_bytes, wanted.key.begin());
    }
    Bucket* bucket = bucket_for(wanted, now_ms);
    if (bucket == nullptr) return false;
    bucket->tokens_ms = std::min(bucket->tokens_ms + elapsed_ms(now_ms, bucket->last_ms),
                                 burst * cost_ms);
    bucket->last_ms = now_ms;
    if (bucket->tokens_ms < cost_ms) return false;
    bucket->tokens_ms -= cost_ms;
    return true;
}

// The source's bucket, or a new full one in an unused or idle slot; nullptr when all are busy.
HandshakeRateLimiter::Bucket* HandshakeRateLimiter::bucket_for(const Bucket& wanted,
                                                                std::uint32_t now_ms) noexcept {
    Bucket* free_slot = nullptr;
    for (Bucket& bucket : buckets_) {
        const bool idle = !bucket.used || elapsed_ms(now_ms, bucket.last_ms) >= idle_ms;
        if (bucket.used && bucket.key_bytes == wanted.key_bytes && bucket.key == wanted.key) {
            return &bucket;
        }
        if (idle && free_slot == nullptr) free_slot = &bucket;
    }
    if (free_slot == nullptr) return nullptr;
    *free_slot = wanted;
    free_slot->used = true;
    free_slot->last_ms = now_ms;
    free_slot->tokens_ms = burst * cost_ms;
    return free_slot;
}

// --- Device ---------------------------------------------------------------------------------

Device::Device(const StaticIdentity& identity, port::Random& random, DeviceOutput& output,
               const DeviceSettings& settings) noexcept
    : identity_(identity),
      random_(random),
      output_(output),
      settings_(settings),
      indices_(random) {
    PINHOLE_ASSERT(settings_.mtu_bytes <= max_ip_packet_bytes);
    cookie_checker_.initialize(identity_.public_key);
}

Device::~Device() { crypto::zeroize_object(identity_); }

Result<PeerId> Device::add_peer(const PeerConfig& config, std::uint32_t now_ms) noexcept {
    if (config.public_key == identity_.public_key) return Errc::already_exists;
    const Result<Peer*> added = peers_.add(config.public_key, settings_.timers, random_);
    if (!added.ok()) return added.error();
    Peer& peer = *added.value();
    Status status = peer.configure(config, identity_, now_ms);
    for (std::size_t i = 0; status.ok() && i < config.allowed_sources.size(); ++i) {
        status = allowed_sources_.insert(config.allowed_sources[i], peer.id);
    }
    if (!status.ok()) {
        allowed_sources_.remove_peer(peer.id);
        peers_.remove_last();
        return status.error();
    }
    return peer.id;
}

// --- Receiving ------------------------------------------------------------------------------

void Device::receive(const Endpoint& source, std::span<const std::uint8_t> datagram,
                     std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    const Result<MessageType> type = parse_message_type(datagram, counters_.messages);
    if (!type.ok()) return;
    switch (type.value()) {
        case MessageType::initiation:
        case MessageType::response:
            receive_handshake(source, datagram, type.value(), now_ms, wall);
            break;
        case MessageType::cookie_reply:
            receive_cookie_reply(datagram, now_ms);
            break;
        case MessageType::data:
            receive_data(source, datagram, now_ms, wall);
            break;
    }
}

bool Device::note_handshake_message(std::uint32_t now_ms) noexcept {
    ++counters_.handshake_messages_received;
    if (elapsed_ms(now_ms, load_window_start_ms_) >= settings_.load_window_ms) {
        load_window_start_ms_ = now_ms;
        handshakes_in_window_ = 0;
    }
    ++handshakes_in_window_;
    if (handshakes_in_window_ == settings_.under_load_handshakes_per_window) {
        ++counters_.under_load_windows;
    }
    if (handshakes_in_window_ >= settings_.under_load_handshakes_per_window) {
        under_load_until_ms_ = deadline_after(now_ms, settings_.under_load_hold_ms);
    }
    return under_load(now_ms);
}

bool Device::under_load(std::uint32_t now_ms) const noexcept {
    return under_load_until_ms_ && time_before(now_ms, *under_load_until_ms_);
}

void Device::receive_handshake(const Endpoint& source, std::span<const std::uint8_t> datagram,
                               MessageType type, std::uint32_t now_ms,
                               const port::WallTime& wall) noexcept {
    const bool loaded = note_handshake_message(now_ms);
    const MacCheck macs = cookie_checker_.validate_macs(datagram, cookie_source_of(source), loaded,
                                                        now_ms, random_, counters_.messages);
    if (macs == MacCheck::invalid) return;
    if (loaded && macs != MacCheck::valid_mac1_and_mac2) {
        send_cookie_reply(source, datagram, now_ms);
        return;
    }
    if (loaded && !rate_limiter_.allow(source, now_ms)) {
        ++counters_.rate_limited;
        return;
    }
    if (type == MessageType::initiation) {
        receive_initiation(source, datagram, now_ms);
    } else {
        receive_response(source, datagram, now_ms, wall);
    }
}

void Device::send_cookie_reply(const Endpoint& source, std::span<const std::uint8_t> datagram,
                               std::uint32_t now_ms) noexcept {
    CookieReplyMessage reply;
    if (!cookie_checker_.create_reply(reply, datagram, cookie_source_of(source), now_ms, random_)
             .ok()) {
        ++counters_.random_failed;
        return;
    }
    CookieReplyBytes bytes;
    write_cookie_reply(bytes, reply);
    ++counters_.cookie_replies_sent;
    output_.send_datagram(source, bytes);
}

void Device::receive_initiation(const Endpoint& source, std::span<const std::uint8_t> datagram,
                                std::uint32_t now_ms) noexcept {
    const Result<InitiationMessage> message = parse_initiation(datagram, counters_.messages);
    if (!message.ok()) return;
    Result<InitiationSeen> seen = consume_initiation(message.value(), identity_, counters_.messages);
    if (!seen.ok()) return;
    Peer* peer = peers_.find(seen.value().remote_static);
    if (peer == nullptr) {
        count_rejection(counters_.messages, Rejection::unknown_peer);
        seen.value().forget();
        return;
    }
    if (yields_to_own_initiation(*peer, now_ms)) {
        ++counters_.crossed_initiations_ignored;
        seen.value().forget();
        // Ours may have been lost: send the same bytes again (same index and ephemeral, so a
        // response to the first copy still completes; a second copy that arrives is refused
        // as a stale timestamp). One datagram per authenticated initiation: no amplification.
        send_to_peer(*peer, peer->last_initiation);
        return;
    }
    const Result<std::uint32_t> index = indices_.insert(peer->id, IndexKind::handshake);
    if (!index.ok()) {
        ++counters_.index_table_full;
        seen.value().forget();
        return;
    }
    ResponseMessage response;
    Result<SessionKeys> session = peer->handshake.create_response(
        response, seen.value(), peer->keys, now_ms, random_, index.value(), counters_.messages);
    if (!session.ok()) {
        indices_.remove(index.value());
        return;
    }
    forget_handshake_index(*peer);  // an initiation of ours, crossed by theirs
    peer->handshake_index = index.value();
    authenticated_from(*peer, source, now_ms);
    install_session(*peer, session.value(), now_ms);

    ResponseBytes bytes;
    write_response(bytes, response);
    const Status macs = peer->cookie_maker.add_macs(bytes, now_ms);
    PINHOLE_ASSERT(macs.ok());
    ++peer->counters.responses_sent;
    send_to_peer(*peer, bytes);
    peer->timers.on_any_authenticated_packet_sent();
    peer->timers.on_any_authenticated_packet_traversal(now_ms);
}

// Both sides initiated at once. Answering would replace our own initiation, and the peer does
// the same with ours, so both responses would then find no handshake: the kernel lets the
// retransmit timer sort that out, REKEY_TIMEOUT later, and in lockstep it may cross again.
// Instead the side with the greater public key keeps its initiation (the other answers it);
// as ours may have been lost, the keeping side repeats it on every crossing initiation.
bool Device::yields_to_own_initiation(const Peer& peer, std::uint32_t now_ms) const noexcept {
    if (peer.handshake.stage() != HandshakeStage::created_initiation) return false;
    if (!peer.last_initiation_sent_ms ||
        elapsed_ms(now_ms, *peer.last_initiation_sent_ms) >= settings_.timers.rekey_timeout_ms) {
        return false;
    }
    return std::lexicographical_compare(peer.keys.remote_static.begin(),
                                        peer.keys.remote_static.end(),
                                        identity_.public_key.begin(), identity_.public_key.end());
}

void Device::receive_response(const Endpoint& source, std::span<const std::uint8_t> datagram,
                              std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    const Result<ResponseMessage> message = parse_response(datagram, counters_.messages);
    if (!message.ok()) return;
    const std::optional<IndexEntry> entry = indices_.lookup(message.value().receiver_index);
    Peer* peer = entry && entry->kind == IndexKind::handshake ? peers_.at(entry->peer_slot) : nullptr;
    if (peer == nullptr) {
        count_rejection(counters_.messages, Rejection::unknown_index);
        return;
    }
    Result<SessionKeys> session =
        peer->handshake.consume_response(message.value(), counters_.messages);
    if (!session.ok()) return;
    authenticated_from(*peer, source, now_ms);
    install_session(*peer, session.value(), now_ms);
    peer->timers.on_handshake_complete();
    // The responder waits for our first data message before it uses the session: send what
    // was staged, or a keepalive to confirm.
    if (peer->staged.empty()) {
        send_keepalive(*peer, now_ms, wall);
    } else {
        flush_staged(*peer, now_ms, wall);
    }
}

void Device::receive_cookie_reply(std::span<const std::uint8_t> datagram,
                                  std::uint32_t now_ms) noexcept {
    const Result<CookieReplyMessage> reply = parse_cookie_reply(datagram, counters_.messages);
    if (!reply.ok()) return;
    // It answers an initiation (index of a handshake) or a response (already a keypair's).
    const std::optional<IndexEntry> entry = indices_.lookup(reply.value().receiver_index);
    Peer* peer = entry ? peers_.at(entry->peer_slot) : nullptr;
    if (peer == nullptr) {
        count_rejection(counters_.messages, Rejection::unknown_index);
        return;
    }
    if (peer->cookie_maker.consume_reply(reply.value(), now_ms, counters_.messages).ok()) {
        ++peer->counters.cookies_received;
    }
}

void Device::receive_data(const Endpoint& source, std::span<const std::uint8_t> datagram,
                          std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    if (datagram.size() > data_min_bytes + opened_.size()) {  // a packet above our MTU
        ++counters_.datagram_too_large;
        return;
    }
    const Result<OpenedData> opened =
        open_data(datagram, opened_, *this, now_ms, settings_.timers, counters_.messages);
    if (!opened.ok()) return;
    Peer* peer = peer_of_index(opened.value().keypair->local_index);
    PINHOLE_ASSERT(peer != nullptr);  // find_keypair found it through the same table
    DroppedIndices dropped;
    if (peer->keypairs.received_with(*opened.value().keypair, dropped)) {
        // The initiator used our new keypair: the responder's handshake is complete.
        remove_indices(dropped);
        peer->timers.on_handshake_complete();
        flush_staged(*peer, now_ms, wall);
    }
    authenticated_from(*peer, source, now_ms);
    if (opened.value().rekey_due) start_handshake_if_idle(*peer, now_ms, wall);
    const std::span<const std::uint8_t> packet = opened.value().packet;
    if (packet.empty()) {
        ++peer->counters.keepalives_received;
    } else {
        peer->timers.on_data_received(now_ms);
        deliver_packet(*peer, packet);
    }
    crypto::zeroize(std::span(opened_.data(), packet.size()));
}

void Device::deliver_packet(Peer& peer, std::span<const std::uint8_t> padded_packet) noexcept {
    const std::optional<IpHeader> header = parse_ip_header(padded_packet);
    if (!header) {
        ++peer.counters.malformed_ip_packet;
        return;
    }
    const std::optional<std::uint16_t> owner = allowed_sources_.lookup(header->source);
    if ((!owner || *owner != peer.id) && !output_.expects_source(peer.id, header->source)) {
        ++peer.counters.disallowed_source;
        return;
    }
    ++peer.counters.packets_received;
    output_.deliver(peer.id, padded_packet.first(header->length_bytes));
}

Keypair* Device::find_keypair(std::uint32_t local_index) noexcept {
    const std::optional<IndexEntry> entry = indices_.lookup(local_index);
    if (!entry || entry->kind != IndexKind::keypair) return nullptr;
    Peer* peer = peers_.at(entry->peer_slot);
    return peer != nullptr ? peer->keypairs.find(local_index) : nullptr;
}

Peer* Device::peer_of_index(std::uint32_t local_index) noexcept {
    const std::optional<IndexEntry> entry = indices_.lookup(local_index);
    return entry ? peers_.at(entry->peer_slot) : nullptr;
}

// --- Sessions -------------------------------------------------------------------------------

void Device::authenticated_from(Peer& peer, const Endpoint& source, std::uint32_t now_ms) noexcept {
    if (peer.endpoint.on_authenticated_packet(source, now_ms)) ++peer.counters.roams;
    peer.timers.on_any_authenticated_packet_received();
    peer.timers.on_any_authenticated_packet_traversal(now_ms);
}

// The handshake's index becomes the new keypair's (as the kernel does).
void Device::install_session(Peer& peer, SessionKeys& session, std::uint32_t now_ms) noexcept {
    PINHOLE_ASSERT(peer.handshake_index && *peer.handshake_index == session.local_index);
    const Status retargeted = indices_.retarget(session.local_index, IndexKind::keypair);
    PINHOLE_ASSERT(retargeted.ok());
    peer.handshake_index.reset();
    remove_indices(peer.keypairs.install(session, now_ms));
    crypto::zeroize_object(session.keys);
    ++peer.counters.handshakes_completed;
    peer.timers.on_session_derived(now_ms);
}

void Device::forget_handshake_index(Peer& peer) noexcept {
    if (peer.handshake_index) indices_.remove(*peer.handshake_index);
    peer.handshake_index.reset();
}

void Device::remove_indices(const DroppedIndices& dropped) noexcept {
    for (const std::uint32_t index : dropped) indices_.remove(index);
}

void Device::zero_keys(Peer& peer) noexcept {
    remove_indices(peer.keypairs.clear());
    peer.handshake.clear();
    forget_handshake_index(peer);
}

// --- Sending --------------------------------------------------------------------------------

Status Device::send(PeerId peer_id, std::span<const std::uint8_t> ip_packet, std::uint32_t now_ms,
                    const port::WallTime& wall) noexcept {
    Peer* peer = peers_.at(peer_id);
    if (peer == nullptr) {
        ++counters_.unknown_peer_id;
        return Errc::invalid_argument;
    }
    if (ip_packet.size() > settings_.mtu_bytes) {
        ++counters_.packet_too_large;
        return Errc::invalid_argument;
    }
    if (peer->endpoint.current().kind == Endpoint::Kind::none) {
        ++peer->counters.no_endpoint;
        return Errc::unreachable;
    }
    const Status sealed = seal_and_send(*peer, ip_packet, now_ms, wall);
    if (sealed.error() != Errc::refused) return sealed;
    // No session that may send: hold the packet until the handshake derives one.
    if (peer->staged.push(ip_packet)) ++peer->counters.staged_dropped_oldest;
    start_handshake_if_idle(*peer, now_ms, wall);
    return {};
}

Status Device::seal_and_send(Peer& peer, std::span<const std::uint8_t> packet,
                             std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    Keypair* keypair = peer.keypairs.current();
    if (keypair == nullptr) return Errc::refused;
    const Result<SealedData> sealed =
        seal_data(*keypair, packet, settings_.mtu_bytes, sealed_, now_ms, settings_.timers);
    if (!sealed.ok()) return sealed.error();
    send_to_peer(peer, std::span(sealed_.data(), sealed.value().message_bytes));
    if (packet.empty()) {
        ++peer.counters.keepalives_sent;
    } else {
        ++peer.counters.packets_sent;
        peer.timers.on_data_sent(now_ms);
    }
    peer.timers.on_any_authenticated_packet_sent();
    peer.timers.on_any_authenticated_packet_traversal(now_ms);
    if (sealed.value().rekey_due) start_handshake_if_idle(peer, now_ms, wall);
    return {};
}

void Device::send_keepalive(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    if (seal_and_send(peer, {}, now_ms, wall).error() == Errc::refused) {
        start_handshake_if_idle(peer, now_ms, wall);
    }
}

void Device::flush_staged(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    for (std::size_t i = 0; i < staged_packets_per_peer && !peer.staged.empty(); ++i) {
        if (!seal_and_send(peer, peer.staged.front(), now_ms, wall).ok()) return;
        peer.staged.pop_front();
    }
}

void Device::send_to_peer(Peer& peer, std::span<const std::uint8_t> datagram) noexcept {
    const Endpoint& endpoint = peer.endpoint.current();
    if (endpoint.kind == Endpoint::Kind::none) {
        ++peer.counters.no_endpoint;
        return;
    }
    output_.send_datagram(endpoint, datagram);
}

Status Device::initiate_handshake(PeerId peer_id, std::uint32_t now_ms,
                                  const port::WallTime& wall) noexcept {
    Peer* peer = peers_.at(peer_id);
    if (peer == nullptr) {
        ++counters_.unknown_peer_id;
        return Errc::invalid_argument;
    }
    return send_initiation(*peer, false, now_ms, wall);
}

void Device::resend_pending_initiation(PeerId peer_id) noexcept {
    Peer* peer = peers_.at(peer_id);
    if (peer == nullptr || peer->handshake.stage() != HandshakeStage::created_initiation) return;
    send_to_peer(*peer, peer->last_initiation);  // same index and ephemeral: no new state
}

// At most one fresh initiation per REKEY_TIMEOUT (the kernel's rule); retries come from the
// retransmit timer.
void Device::start_handshake_if_idle(Peer& peer, std::uint32_t now_ms,
                                     const port::WallTime& wall) noexcept {
    if (peer.last_initiation_sent_ms &&
        elapsed_ms(now_ms, *peer.last_initiation_sent_ms) < settings_.timers.rekey_timeout_ms) {
        return;
    }
    (void)send_initiation(peer, false, now_ms, wall);  // failures are counted inside
}

Status Device::send_initiation(Peer& peer, bool is_retry, std::uint32_t now_ms,
                               const port::WallTime& wall) noexcept {
    if (peer.endpoint.current().kind == Endpoint::Kind::none) {
        ++peer.counters.no_endpoint;
        return Errc::unreachable;
    }
    const Result<std::uint32_t> index = indices_.insert(peer.id, IndexKind::handshake);
    if (!index.ok()) {
        ++(index.error() == Errc::no_space ? counters_.index_table_full : counters_.random_failed);
        return index.error();
    }
    InitiationMessage message;
    const Status created = peer.handshake.create_initiation(message, identity_, peer.keys, wall,
                                                            random_, index.value());
    if (!created.ok()) {
        indices_.remove(index.value());
        ++counters_.random_failed;
        return created;
    }
    forget_handshake_index(peer);
    peer.handshake_index = index.value();
    InitiationBytes bytes;
    write_initiation(bytes, message);
    const Status macs = peer.cookie_maker.add_macs(bytes, now_ms);
    PINHOLE_ASSERT(macs.ok());
    peer.last_initiation = bytes;
    peer.last_initiation_sent_ms = now_ms;
    ++peer.counters.initiations_sent;
    send_to_peer(peer, bytes);
    peer.timers.on_any_authenticated_packet_traversal(now_ms);
    peer.timers.on_any_authenticated_packet_sent();
    peer.timers.on_handshake_initiated(now_ms, is_retry);
    return {};
}

// --- Timers ---------------------------------------------------------------------------------

void Device::tick(std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    for (Peer& peer : peers_) tick_peer(peer, now_ms, wall);
}

void Device::tick_peer(Peer& peer, std::uint32_t now_ms, const port::WallTime& wall) noexcept {
    remove_indices(peer.keypairs.expire(now_ms, settings_.timers.reject_after_time_ms));
    TimerActions actions;
    peer.timers.expire(now_ms, actions);
    if (actions.zero_keys) zero_keys(peer);
    if (actions.gave_up) {
        peer.counters.staged_dropped_gave_up += peer.staged.size();
        peer.staged.clear();
    }
    if (actions.send_initiation) {
        (void)send_initiation(peer, actions.initiation_is_retry, now_ms, wall);  // counted inside
    }
    if (actions.send_keepalive) send_keepalive(peer, now_ms, wall);
}

std::optional<std::uint32_t> Device::next_deadline_ms() const noexcept {
    std::optional<std::uint32_t> earliest;
    for (std::size_t slot = 0; slot < peers_.size(); ++slot) {
        const std::optional<std::uint32_t> due =
            peers_.at(static_cast<PeerId>(slot))->timers.next_deadline();
        if (due && (!earliest || time_before(*due, *earliest))) earliest = due;
    }
    return earliest;
}

// --- Status ---------------------------------------------------------------------------------

const PeerCounters* Device::peer_counters(PeerId peer_id) const noexcept {
    const Peer* peer = peers_.at(peer_id);
    return peer != nullptr ? &peer->counters : nullptr;
}

std::optional<Endpoint> Device::peer_endpoint(PeerId peer_id) const noexcept {
    const Peer* peer = peers_.at(peer_id);
    if (peer == nullptr || peer->endpoint.current().kind == Endpoint::Kind::none) return std::nullopt;
    return peer->endpoint.current();
}

bool Device::has_session(PeerId peer_id, std::uint32_t now_ms) const noexcept {
    const Peer* peer = peers_.at(peer_id);
    if (peer == nullptr) return false;
    const Keypair* current = peer->keypairs.current();
    return current != nullptr && !current->expired(now_ms, settings_.timers.reject_after_time_ms);
}

std::optional<PeerId> Device::find_peer(const crypto::X25519Key& public_key) noexcept {
    const Peer* peer = peers_.find(public_key);
    if (peer == nullptr) return std::nullopt;
    return peer->id;
}

}  // namespace pinhole::wireguard
