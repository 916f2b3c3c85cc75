// The WireGuard device's cost on one core, next to the crypto seam's raw primitives measured
// in the same run: complete handshakes per second between two Devices in memory (initiation,
// response, consumption and the confirming keepalive), and transport throughput at the
// overlay MTU (1420-byte IP packets) through Device::send and Device::receive. Run by
// `scripts/bench wg`; figures are printed, never asserted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

#include "core/crypto/chacha20poly1305.h"
#include "core/crypto/x25519.h"
#include "core/wireguard/device.h"
#include "port/posix/services.h"

namespace {

using namespace pinhole;
namespace wg = pinhole::wireguard;

constexpr int rounds = 7;
constexpr double seconds_per_run = 0.2;
constexpr std::size_t packet_bytes = 1420;
constexpr std::size_t batch_datagrams = 4096;  // decrypt runs over fresh datagrams

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "bench_wg: %s\n", what);
        std::exit(1);
    }
}

// Calls per second of `operation`, the best of `rounds` runs.
double best_calls_per_second(const std::function<void()>& operation) {
    using Clock = std::chrono::steady_clock;
    double best = 0;
    for (int round = 0; round < rounds; ++round) {
        std::uint64_t calls = 0;
        const Clock::time_point start = Clock::now();
        double elapsed_seconds = 0;
        while (elapsed_seconds < seconds_per_run) {
            operation();
            ++calls;
            elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        }
        best = std::max(best, static_cast<double>(calls) / elapsed_seconds);
    }
    return best;
}

// Keeps the last datagram sent and counts deliveries.
struct MemoryOutput final : wg::DeviceOutput {
    void send_datagram(const wg::Endpoint&, std::span<const std::uint8_t> datagram) noexcept override {
        last.assign(datagram.begin(), datagram.end());
        ++sent;
    }
    void deliver(wg::PeerId, std::span<const std::uint8_t> packet) noexcept override {
        delivered_bytes += packet.size();
    }
    std::vector<std::uint8_t> last;
    std::uint64_t sent = 0;
    std::uint64_t delivered_bytes = 0;
};

struct Side {
    explicit Side(std::uint8_t key_seed, port::Random& random, const wg::DeviceSettings& settings) {
        identity.private_key.fill(key_seed);
        crypto::x25519_clamp(identity.private_key);
        require(crypto::x25519_public_key(identity.public_key, identity.private_key).ok(), "key");
        device = std::make_unique<wg::Device>(identity, random, output, settings);
    }
    wg::StaticIdentity identity;
    MemoryOutput output;
    std::unique_ptr<wg::Device> device;
    wg::PeerId peer = 0;
};

// Two devices that know each other, and the clock both read.
struct Pair {
    explicit Pair(port::Random& random) : alice(0x11, random, settings()), bob(0x22, random, settings()) {
        const net::Prefix alice_source{net::IpAddress::v4(10, 0, 0, 1), 32};
        const net::Prefix bob_source{net::IpAddress::v4(10, 0, 0, 2), 32};
        alice.peer = add(alice, bob, bob_source);
        bob.peer = add(bob, alice, alice_source);
    }
    static wg::DeviceSettings settings() {
        wg::DeviceSettings settings;
        settings.under_load_handshakes_per_window = ~std::uint32_t{0};  // never: no cookies here
        return settings;
    }
    wg::PeerId add(Side& to, const Side& other, const net::Prefix& source) {
        wg::PeerConfig config;
        config.public_key = other.identity.public_key;
        config.endpoint = wg::Endpoint::direct({net::IpAddress::v4(192, 0, 2, 9), 51820});
        config.allowed_sources = std::span(&source, 1);
        const Result<wg::PeerId> peer = to.device->add_peer(config, now_ms);
        require(peer.ok(), "add_peer");
        return peer.value();
    }
    // Time moves 25 ms per handshake: past the responder's 20 ms flood limit and the 16.8 ms
    // grain of TAI64N, so every initiation is fresh.
    void advance() {
        now_ms += 25;
        wall.nanoseconds += 25'000'000;
        if (wall.nanoseconds >= 1'000'000'000) {
            wall.nanoseconds -= 1'000'000'000;
            ++wall.seconds;
        }
    }
    // One complete handshake: initiation, response, and the keepalive that confirms it.
    void handshake() {
        advance();
        require(alice.device->initiate_handshake(alice.peer, now_ms, wall).ok(), "initiate");
        bob.device->receive(from, alice.output.last, now_ms, wall);
        alice.device->receive(from, bob.output.last, now_ms, wall);
        bob.device->receive(from, alice.output.last, now_ms, wall);
    }

    Side alice;
    Side bob;
    std::uint32_t now_ms = 1'000;
    port::WallTime wall{1'767'225'600, 0};
    wg::Endpoint from = wg::Endpoint::direct({net::IpAddress::v4(192, 0, 2, 9), 51820});
};

std::vector<std::uint8_t> ip_packet() {
    std::vector<std::uint8_t> packet(packet_bytes, 0xA5);
    packet[0] = 0x45;
    packet[2] = static_cast<std::uint8_t>(packet_bytes >> 8);
    packet[3] = static_cast<std::uint8_t>(packet_bytes);
    const std::uint8_t source[] = {10, 0, 0, 1};
    const std::uint8_t destination[] = {10, 0, 0, 2};
    std::copy(std::begin(source), std::end(source), packet.begin() + 12);
    std::copy(std::begin(destination), std::end(destination), packet.begin() + 16);
    return packet;
}

double megabytes_per_second(double calls_per_second) {
    return calls_per_second * packet_bytes / 1e6;
}

// Decryption needs datagrams never seen before: fresh batches from alice, each timed whole.
double best_receive_calls_per_second(Pair& pair, const std::vector<std::uint8_t>& packet) {
    using Clock = std::chrono::steady_clock;
    double best = 0;
    std::vector<std::vector<std::uint8_t>> batch(batch_datagrams);
    for (int round = 0; round < rounds; ++round) {
        for (auto& datagram : batch) {
            require(pair.alice.device->send(pair.alice.peer, packet, pair.now_ms, pair.wall).ok(), "send");
            datagram = pair.alice.output.last;
        }
        const std::uint64_t delivered_before = pair.bob.output.delivered_bytes;
        const Clock::time_point start = Clock::now();
        for (const auto& datagram : batch) pair.bob.device->receive(pair.from, datagram, pair.now_ms, pair.wall);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        require(pair.bob.output.delivered_bytes - delivered_before == batch.size() * packet_bytes,
                "every datagram decrypts and is delivered");
        best = std::max(best, static_cast<double>(batch.size()) / seconds);
    }
    return best;
}

}  // namespace

int main() {
    posix::PosixRandom random;
    Pair pair(random);

    // Raw seam figures from this run.
    crypto::ChaCha20Poly1305Key key{};
    key.fill(7);
    const crypto::ChaCha20Poly1305Nonce nonce = crypto::chacha20poly1305_counter_nonce(1);
    std::vector<std::uint8_t> plaintext(packet_bytes, 0x5A), sealed(packet_bytes + 16), opened(packet_bytes);
    const double raw_seal = best_calls_per_second([&] {
        require(crypto::chacha20poly1305_seal(sealed, key, nonce, {}, plaintext).ok(), "seal");
    });
    const double raw_open = best_calls_per_second([&] {
        require(crypto::chacha20poly1305_open(opened, key, nonce, {}, sealed).ok(), "open");
    });
    crypto::X25519Key shared{};
    const double raw_x25519 = best_calls_per_second([&] {
        require(crypto::x25519(shared, pair.alice.identity.private_key, pair.bob.identity.public_key).ok(), "x25519");
    });

    // Handshakes between the two devices.
    const std::uint64_t completed_before =
        pair.alice.device->peer_counters(pair.alice.peer)->handshakes_completed;
    const double handshakes = best_calls_per_second([&] { pair.handshake(); });
    require(pair.alice.device->peer_counters(pair.alice.peer)->handshakes_completed > completed_before,
            "handshakes complete");
    require(pair.bob.device->has_session(pair.bob.peer, pair.now_ms), "bob has a session");

    // Transport under the last session.
    const std::vector<std::uint8_t> packet = ip_packet();
    const double sends = best_calls_per_second([&] {
        require(pair.alice.device->send(pair.alice.peer, packet, pair.now_ms, pair.wall).ok(), "send");
    });
    const double receives = best_receive_calls_per_second(pair, packet);

    std::printf("WireGuard device, one core (build: %s, chacha20poly1305=%s, x25519=%s)\n",
                PINHOLE_BENCH_BUILD_TYPE, PINHOLE_BENCH_CHACHA20POLY1305, PINHOLE_BENCH_X25519);
    std::printf("  %-40s %9.0f /s    X25519 (seam) %9.0f /s  = %.1f X25519 per handshake\n",
                "handshakes (init+resp+consume+confirm)", handshakes, raw_x25519,
                raw_x25519 / handshakes);
    std::printf("  %-40s %9.1f MB/s  ChaCha20-Poly1305 seal (seam) %7.1f MB/s  (%.2fx)\n",
                "transport encrypt, 1420 B (send)", megabytes_per_second(sends),
                megabytes_per_second(raw_seal), sends / raw_seal);
    std::printf("  %-40s %9.1f MB/s  ChaCha20-Poly1305 open (seam) %7.1f MB/s  (%.2fx)\n",
                "transport decrypt, 1420 B (receive)", megabytes_per_second(receives),
                megabytes_per_second(raw_open), receives / raw_open);
    return 0;
}
