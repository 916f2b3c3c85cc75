#include "core/wireguard/peer_table.h"

namespace pinhole::wireguard {

Result<Peer*> PeerTable::add(const crypto::X25519Key& public_key,
                             const TimerSettings& timer_settings, port::Random& random) noexcept {
    if (find(public_key) != nullptr) return Errc::already_exists;
    const PeerId id = static_cast<PeerId>(peers_.size());
    const Status added = peers_.emplace_back(id, timer_settings, random);
    if (!added.ok()) return added.error();
    public_keys_[id] = public_key;
    return &peers_.back();
}

Peer* PeerTable::find(const crypto::X25519Key& public_key) noexcept {
    for (std::size_t slot = 0; slot < peers_.size(); ++slot) {
        if (public_keys_[slot] == public_key) return &peers_[slot];
    }
    return nullptr;
}

Peer* PeerTable::at(PeerId id) noexcept {
    return id < peers_.size() ? &peers_[id] : nullptr;
}

const Peer* PeerTable::at(PeerId id) const noexcept {
    return id < peers_.size() ? &peers_[id] : nullptr;
}

}  // namespace pinhole::wireguard
