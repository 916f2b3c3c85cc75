// Allowed IPs: hand cases, then random prefixes and addresses against a naive reference (the
// longest matching prefix by a full linear scan). The seed is printed; PINHOLE_TEST_SEED
// replays one.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/net/address.h"
#include "core/wireguard/allowed_ips.h"

namespace pinhole::wireguard {
namespace {

net::Prefix prefix(const char* text) { return net::parse_prefix(text).value(); }
net::IpAddress address(const char* text) { return net::parse_address(text).value(); }

TEST(WgAllowedIps, LongestPrefixWins) {
    AllowedIps ips;
    ASSERT_TRUE(ips.insert(prefix("10.0.0.0/8"), 1).ok());
    ASSERT_TRUE(ips.insert(prefix("10.1.0.0/16"), 2).ok());
    ASSERT_TRUE(ips.insert(prefix("10.1.2.3/32"), 3).ok());
    ASSERT_TRUE(ips.insert(prefix("0.0.0.0/0"), 4).ok());
    ASSERT_TRUE(ips.insert(prefix("fd7a:7069:6e68::/48"), 5).ok());
    ASSERT_TRUE(ips.insert(prefix("::/0"), 6).ok());
    EXPECT_EQ(ips.lookup(address("10.1.2.3")), 3);
    EXPECT_EQ(ips.lookup(address("10.1.2.4")), 2);
    EXPECT_EQ(ips.lookup(address("10.2.0.1")), 1);
    EXPECT_EQ(ips.lookup(address("192.0.2.1")), 4);
    EXPECT_EQ(ips.lookup(address("fd7a:7069:6e68:1::1")), 5);
    EXPECT_EQ(ips.lookup(address("2001:db8::1")), 6);
    EXPECT_EQ(ips.lookup(address("::ffff:10.1.2.3")), 6) << "families never mix";
    EXPECT_EQ(ips.lookup(net::IpAddress{}), std::nullopt);
}

TEST(WgAllowedIps, HostBitsAreClearedAndAPrefixMovesToItsNewOwner) {
    AllowedIps ips;
    ASSERT_TRUE(ips.insert(prefix("192.168.1.0/24"), 1).ok());
    net::Prefix with_host_bits{address("192.168.1.77"), 24};
    ASSERT_TRUE(ips.insert(with_host_bits, 2).ok());
    EXPECT_EQ(ips.size(), 1u) << "the same network";
    EXPECT_EQ(ips.lookup(address("192.168.1.5")), 2);
}

TEST(WgAllowedIps, RemovePeerLeavesOthers) {
    AllowedIps ips;
    ASSERT_TRUE(ips.insert(prefix("10.0.0.0/8"), 1).ok());
    ASSERT_TRUE(ips.insert(prefix("10.1.0.0/16"), 2).ok());
    ASSERT_TRUE(ips.insert(prefix("2001:db8::/32"), 2).ok());
    ips.remove_peer(2);
    EXPECT_EQ(ips.size(), 1u);
    EXPECT_EQ(ips.lookup(address("10.1.0.1")), 1);
    EXPECT_EQ(ips.lookup(address("2001:db8::1")), std::nullopt);
}

TEST(WgAllowedIps, RejectsBadPrefixesAndOverflow) {
    AllowedIps ips;
    EXPECT_EQ(ips.insert(net::Prefix{}, 1).error(), Errc::invalid_argument);
    EXPECT_EQ(ips.insert(net::Prefix{address("10.0.0.0"), 33}, 1).error(), Errc::invalid_argument);
    EXPECT_EQ(ips.insert(net::Prefix{address("::"), 129}, 1).error(), Errc::invalid_argument);
    for (std::size_t i = 0; i < AllowedIps::capacity; ++i) {
        const net::Prefix host{net::IpAddress::v4(10, 0, static_cast<std::uint8_t>(i >> 8),
                                                  static_cast<std::uint8_t>(i)), 32};
        ASSERT_TRUE(ips.insert(host, 1).ok());
    }
    EXPECT_EQ(ips.insert(prefix("11.0.0.0/8"), 1).error(), Errc::no_space);
    EXPECT_TRUE(ips.insert(prefix("10.0.0.0/32"), 2).ok()) << "re-owning needs no room";
}

// The reference: every inserted prefix in order, the last owner of each network wins, the
// longest match over all of them answers.
struct Reference {
    struct Entry {
        net::Prefix prefix;
        std::uint16_t peer;
    };
    std::vector<Entry> entries;

    void insert(const net::Prefix& prefix, std::uint16_t peer) {
        for (auto& entry : entries) {
            if (entry.prefix.length == prefix.length &&
                net::prefix_contains(entry.prefix, prefix.address) &&
                entry.prefix.address.family == prefix.address.family) {
                entry.peer = peer;
                return;
            }
        }
        entries.push_back({prefix, peer});
    }
    void remove_peer(std::uint16_t peer) {
        std::erase_if(entries, [&](const Entry& entry) { return entry.peer == peer; });
    }
    std::optional<std::uint16_t> lookup(const net::IpAddress& address) const {
        std::optional<std::uint16_t> best;
        int best_length = -1;
        for (const auto& entry : entries) {
            if (net::prefix_contains(entry.prefix, address) && entry.prefix.length > best_length) {
                best = entry.peer;
                best_length = entry.prefix.length;
            }
        }
        return best;
    }
};

// Addresses from a few base networks, so random prefixes overlap often.
net::IpAddress random_address(std::mt19937& rng, bool v6) {
    net::IpAddress result;
    result.family = v6 ? net::Family::v6 : net::Family::v4;
    const std::size_t bytes = v6 ? 16 : 4;
    const std::uint8_t base = static_cast<std::uint8_t>(rng() % 3);
    for (std::size_t i = 0; i < bytes; ++i) {
        // Early bytes from a small set, later bytes free: deep shared prefixes.
        result.bytes[i] = i < bytes / 2 ? static_cast<std::uint8_t>(base * 16 + rng() % 2)
                                        : static_cast<std::uint8_t>(rng());
    }
    return result;
}

std::uint32_t test_seed() {
    if (const char* text = std::getenv("PINHOLE_TEST_SEED")) return static_cast<std::uint32_t>(std::strtoul(text, nullptr, 10));
    return std::random_device{}();
}

TEST(WgAllowedIps, MatchesNaiveReferenceOnRandomInput) {
    const std::uint32_t seed = test_seed();
    std::printf("WgAllowedIps seed %u (PINHOLE_TEST_SEED=%u replays it)\n", seed, seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    for (int round = 0; round < 20; ++round) {
        AllowedIps ips;
        Reference reference;
        for (std::size_t i = 0; i < AllowedIps::capacity / 2 + rng() % (AllowedIps::capacity / 2); ++i) {
            const bool v6 = rng() % 2 == 0;
            net::Prefix candidate{random_address(rng, v6),
                                  static_cast<std::uint8_t>(rng() % ((v6 ? 128 : 32) + 1))};
            const auto peer = static_cast<std::uint16_t>(rng() % 5);
            const bool room = ips.insert(candidate, peer).ok();
            // Our structure clears host bits; the reference gets the same network.
            if (room) reference.insert(net::Prefix{candidate.address, candidate.length}, peer);
            if (rng() % 40 == 0) {
                const auto removed = static_cast<std::uint16_t>(rng() % 5);
                ips.remove_peer(removed);
                reference.remove_peer(removed);
            }
        }
        for (int probe = 0; probe < 2000; ++probe) {
            const net::IpAddress target = random_address(rng, rng() % 2 == 0);
            ASSERT_EQ(ips.lookup(target), reference.lookup(target)) << "round " << round;
        }
    }
}

}  // namespace
}  // namespace pinhole::wireguard
