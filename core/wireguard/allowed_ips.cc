#include "core/wireguard/allowed_ips.h"

namespace pinhole::wireguard {
namespace {

std::uint8_t family_bits(net::Family family) noexcept {
    switch (family) {
        case net::Family::v4: return 32;
        case net::Family::v6: return 128;
        case net::Family::none: break;
    }
    return 0;
}

// The prefix with every bit past its length cleared, so equal networks compare equal.
net::Prefix normalised(const net::Prefix& prefix) noexcept {
    net::Prefix result = prefix;
    for (std::size_t byte = 0; byte < result.address.bytes.size(); ++byte) {
        const std::size_t first_bit = byte * 8;
        if (first_bit >= prefix.length) {
            result.address.bytes[byte] = 0;
        } else if (first_bit + 8 > prefix.length) {
            const unsigned kept = prefix.length - first_bit;
            result.address.bytes[byte] &= static_cast<std::uint8_t>(0xFFu << (8 - kept));
        }
    }
    return result;
}

}  // namespace

Status AllowedIps::insert(const net::Prefix& prefix, std::uint16_t peer_slot) noexcept {
    const std::uint8_t max_length = family_bits(prefix.address.family);
    if (max_length == 0 || prefix.length > max_length) return Errc::invalid_argument;
    const net::Prefix network = normalised(prefix);
    for (std::size_t i = 0; i < size_; ++i) {
        if (entries_[i].prefix == network) {
            entries_[i].peer_slot = peer_slot;  // moves to the new peer
            return {};
        }
    }
    if (size_ == capacity) return Errc::no_space;
    // Keep longest first: shift the shorter prefixes up one place.
    std::size_t position = size_;
    for (; position > 0 && entries_[position - 1].prefix.length < network.length; --position) {
        entries_[position] = entries_[position - 1];
    }
    entries_[position] = Entry{network, peer_slot};
    ++size_;
    return {};
}

void AllowedIps::remove_peer(std::uint16_t peer_slot) noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
        if (entries_[i].peer_slot != peer_slot) entries_[kept++] = entries_[i];
    }
    for (std::size_t i = kept; i < size_; ++i) entries_[i] = Entry{};
    size_ = kept;
}

std::optional<std::uint16_t> AllowedIps::lookup(const net::IpAddress& address) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
        if (net::prefix_contains(entries_[i].prefix, address)) return entries_[i].peer_slot;
    }
    return std::nullopt;
}

}  // namespace pinhole::wireguard
