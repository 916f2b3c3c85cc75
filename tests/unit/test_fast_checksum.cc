// pinhole_fast_checksum (lwIP's LWIP_CHKSUM on Linux) against a byte-at-a-time RFC 1071 sum,
// on random data at every length up to 2048 and every start offset 0..7, so every alignment
// path and tail length of the wide loop is taken. PINHOLE_CHECKSUM_SEED=<seed> replays a run.
#include "pinhole_fast_checksum.h"

#include <gtest/gtest.h>
#include <lwip/inet_chksum.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace pinhole {
namespace {

// RFC 1071 as written: big-endian 16-bit words from the first byte, a lone last byte as the
// high half, end-around carries folded at the end.
std::uint16_t reference_sum_network_order(const std::uint8_t* bytes, std::size_t length) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i + 1 < length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
    if (length % 2 == 1) sum += bytes[length - 1] << 8;
    while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// lwIP's contract: the value stored in memory as is reads as the network-order sum.
std::uint16_t as_lwip_returns_it(std::uint16_t network_order_sum) {
    const std::array<std::uint8_t, 2> bytes{static_cast<std::uint8_t>(network_order_sum >> 8),
                                            static_cast<std::uint8_t>(network_order_sum)};
    std::uint16_t value = 0;
    std::memcpy(&value, bytes.data(), sizeof value);
    return value;
}

std::uint16_t expected_checksum(const std::uint8_t* bytes, std::size_t length) {
    return as_lwip_returns_it(reference_sum_network_order(bytes, length));
}

std::uint64_t seed_from_environment_or_random() {
    const char* text = std::getenv("PINHOLE_CHECKSUM_SEED");
    if (text != nullptr) return std::strtoull(text, nullptr, 10);
    return (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
}

constexpr std::size_t max_length = 2048;
constexpr std::size_t max_offset = 7;

TEST(FastChecksum, MatchesRfc1071OnEveryLengthAndOffset) {
    const std::uint64_t seed = seed_from_environment_or_random();
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay: PINHOLE_CHECKSUM_SEED=" +
                 std::to_string(seed) + ")");
    std::mt19937_64 random(seed);
    // 8-byte aligned storage, so `offset` is the start address's alignment.
    std::vector<std::uint64_t> storage((max_length + max_offset) / 8 + 1);
    auto* base = reinterpret_cast<std::uint8_t*>(storage.data());
    int failures = 0;
    for (std::size_t length = 0; length <= max_length && failures < 10; ++length) {
        for (std::size_t offset = 0; offset <= max_offset; ++offset) {
            for (auto& word : storage) word = random();
            const std::uint8_t* data = base + offset;
            const std::uint16_t expected = expected_checksum(data, length);
            const std::uint16_t actual = pinhole_fast_checksum(data, static_cast<int>(length));
            if (actual != expected) {
                ADD_FAILURE() << "length " << length << " offset " << offset << ": got 0x"
                              << std::hex << actual << ", expected 0x" << expected;
                ++failures;
            }
        }
    }
}

TEST(FastChecksum, Rfc1071Example) {
    // RFC 1071 section 3: these bytes sum to 0xDDF2 in network order.
    const std::array<std::uint8_t, 8> bytes{0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7};
    EXPECT_EQ(pinhole_fast_checksum(bytes.data(), 8), as_lwip_returns_it(0xDDF2));
    EXPECT_EQ(pinhole_fast_checksum(bytes.data() + 1, 7), expected_checksum(bytes.data() + 1, 7));
}

TEST(FastChecksum, ZeroOnlyForZeroData) {
    // One's complement has two zeros; lwIP answers 0 for all-zero data and 0xFFFF for data
    // that sums to negative zero, and checksum fields depend on which.
    std::vector<std::uint8_t> bytes(65535, 0);
    EXPECT_EQ(pinhole_fast_checksum(bytes.data(), 65535), 0);
    EXPECT_EQ(pinhole_fast_checksum(bytes.data(), 0), 0);
    std::fill(bytes.begin(), bytes.end(), 0xFF);
    for (int length : {2, 64, 1400, 65534})
        EXPECT_EQ(pinhole_fast_checksum(bytes.data(), length), 0xFFFF) << "length " << length;
    const std::array<std::uint8_t, 4> cancelling{0x12, 0x34, 0xED, 0xCB};   // 0x1234 + ~0x1234
    EXPECT_EQ(pinhole_fast_checksum(cancelling.data(), 4), 0xFFFF);
}

TEST(FastChecksum, LargestPbufOfAllOnesCarriesCorrectly) {
    // 0xFFFF-byte pbufs are lwIP's largest: the accumulators' carries must fold back in.
    std::vector<std::uint8_t> bytes(65535 + 7);
    std::mt19937_64 random(1071);
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(0xF0 | (random() & 0x0F));
    for (std::size_t offset = 0; offset <= 7; ++offset)
        EXPECT_EQ(pinhole_fast_checksum(bytes.data() + offset, 65535),
                  expected_checksum(bytes.data() + offset, 65535))
            << "offset " << offset;
}

// The board's lwipopts.h selects ours (lwIP's own routine is then not compiled at all).
#ifndef LWIP_CHKSUM
#error "lwipopts.h must define LWIP_CHKSUM as pinhole_fast_checksum"
#endif

TEST(FastChecksum, IsTheChecksumLwipUses) {
    // lwIP's inet_chksum is the complement of LWIP_CHKSUM.
    const std::array<std::uint8_t, 5> bytes{0x45, 0x00, 0x00, 0x54, 0x1C};
    const std::uint16_t ours = pinhole_fast_checksum(bytes.data(), 5);
    EXPECT_EQ(inet_chksum(bytes.data(), 5), static_cast<std::uint16_t>(~ours));
}

}  // namespace
}  // namespace pinhole
