#include "core/wireguard/peer.h"

#include <algorithm>

#include "core/crypto/ct.h"
#include "core/util/assert.h"

namespace pinhole::wireguard {

bool StagedPackets::push(std::span<const std::uint8_t> packet) noexcept {
    PINHOLE_ASSERT(packet.size() <= max_ip_packet_bytes);
    const bool dropped_oldest = count_ == slots_.size();
    if (dropped_oldest) pop_front();
    Slot& slot = slots_[(head_ + count_) % slots_.size()];
    std::copy(packet.begin(), packet.end(), slot.bytes.begin());
    slot.size_bytes = static_cast<std::uint16_t>(packet.size());
    ++count_;
    return dropped_oldest;
}

std::span<const std::uint8_t> StagedPackets::front() const noexcept {
    PINHOLE_ASSERT(count_ > 0);
    const Slot& slot = slots_[head_];
    return {slot.bytes.data(), slot.size_bytes};
}

void StagedPackets::pop_front() noexcept {
    PINHOLE_ASSERT(count_ > 0);
    Slot& slot = slots_[head_];
    crypto::zeroize(std::span(slot.bytes.data(), slot.size_bytes));
    slot.size_bytes = 0;
    head_ = (head_ + 1) % slots_.size();
    --count_;
}

void StagedPackets::clear() noexcept {
    for (std::size_t i = 0; i < slots_.size() && count_ > 0; ++i) pop_front();
}

Status Peer::configure(const PeerConfig& config, const StaticIdentity& identity,
                       std::uint32_t now_ms) noexcept {
    const crypto::X25519Key no_psk{};
    const Status made = make_peer_keys(keys, identity, config.public_key,
                                       config.preshared_key ? *config.preshared_key : no_psk);
    if (!made.ok()) return made;
    if (config.endpoint) endpoint.set_configured(*config.endpoint);
    cookie_maker.initialize(config.public_key);
    timers.set_persistent_keepalive_interval_ms(
        std::uint32_t{config.persistent_keepalive_s} * 1000u, now_ms);
    return {};
}

}  // namespace pinhole::wireguard
