// The WireGuard device on the deterministic simulation (no lwIP): handshakes over a lossy,
// reordering, duplicating network, traffic both ways, rekeying under load with shortened
// timers, replayed and tampered datagrams, several peers, a handshake flood answered with
// cookies, and roaming. Each scenario runs over many seeds; a failure names its seed, and
// PINHOLE_SIM_SEED=<seed> runs only that one.
#include <algorithm>
#include <map>

#include "core/wireguard/cookie.h"
#include "core/wireguard/handshake.h"
#include "test_wireguard_support.h"

namespace pinhole::sim {
namespace {

using namespace wireguard_support;

constexpr LinkFaults lossy_network{.delay_ms = 20, .jitter_ms = 30,
                                   .loss_ppm = ppm_from_percent(5),
                                   .duplicate_ppm = ppm_from_percent(3)};

net::Prefix host_prefix(const net::IpAddress& address) {
    return {address, static_cast<std::uint8_t>(address.is_v4() ? 32 : 128)};
}

// Overlay addresses: node i has 10.0.0.(i+1) and fd00::(i+1).
net::IpAddress overlay_v4(int node) { return v4(10, 0, 0, static_cast<std::uint8_t>(node + 1)); }
net::IpAddress overlay_v6(int node) { return v6(0xfd00, static_cast<std::uint16_t>(node + 1)); }
net::IpAddress underlay(int node) { return v4(192, 0, 2, static_cast<std::uint8_t>(node + 1)); }

// A world of `count` nodes, every one a peer of every other (node i's peer j has id
// peer_ids[i][j]).
struct Mesh {
    Mesh(std::uint64_t seed, int count, const LinkFaults& faults,
         const wg::DeviceSettings& settings = {}) {
        world = std::make_unique<World>(world_options(seed, faults));
        for (int i = 0; i < count; ++i) {
            addresses.push_back({underlay(i)});
            const std::string label = "node" + std::to_string(i);
            labels.push_back(label);
        }
        for (int i = 0; i < count; ++i) {
            Host& host = world->add_host(HostOptions{labels[static_cast<std::size_t>(i)],
                                                     addresses[static_cast<std::size_t>(i)]});
            nodes.push_back(std::make_unique<WireGuardNode>(*world, host,
                                                            static_cast<std::uint8_t>(0x40 + i), settings));
        }
        peer_ids.assign(static_cast<std::size_t>(count), std::vector<wg::PeerId>(static_cast<std::size_t>(count)));
        for (int i = 0; i < count; ++i) {
            for (int j = 0; j < count; ++j) {
                if (i == j) continue;
                peer_ids[i][j] = node(i).add_peer(node(j), net::Endpoint{underlay(j), wireguard_port},
                                                  {host_prefix(overlay_v4(j)), host_prefix(overlay_v6(j))});
            }
        }
    }
    WireGuardNode& node(int i) { return *nodes[static_cast<std::size_t>(i)]; }
    wg::PeerId peer(int from, int to) { return peer_ids[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)]; }
    // Numbered traffic from `from` to `to`, tagged with the sender's index.
    Traffic& traffic(int from, int to, std::uint32_t interval_ms, bool use_v6 = false) {
        flows.push_back(std::make_unique<Traffic>(
            *world, node(from), peer(from, to), use_v6 ? overlay_v6(from) : overlay_v4(from),
            use_v6 ? overlay_v6(to) : overlay_v4(to), static_cast<std::uint8_t>(from), interval_ms));
        return *flows.back();
    }
    void run_for(std::uint64_t duration_ms) { ASSERT_TRUE(world->run_for(duration_ms).ok()); }

    std::unique_ptr<World> world;
    std::vector<std::vector<net::IpAddress>> addresses;
    std::vector<std::string> labels;
    std::vector<std::unique_ptr<WireGuardNode>> nodes;
    std::vector<std::vector<wg::PeerId>> peer_ids;
    std::vector<std::unique_ptr<Traffic>> flows;  // destroyed before the nodes
};

// Every packet `to` delivered from `from` came once, from the right peer, and was sent.
void expect_clean_delivery(Mesh& mesh, int from, int to, const Traffic& flow, double min_fraction) {
    const Received received = received_with_tag(mesh.node(to), static_cast<std::uint8_t>(from));
    EXPECT_EQ(received.duplicates, 0u) << "node" << from << " -> node" << to;
    if (!received.sequences.empty()) {
        EXPECT_LT(*received.sequences.rbegin(), flow.next_sequence);
    }
    EXPECT_GE(static_cast<double>(received.sequences.size()),
              min_fraction * static_cast<double>(flow.next_sequence))
        << "node" << from << " -> node" << to << ": " << received.sequences.size() << " of "
        << flow.next_sequence << "\n  " << describe_counters(mesh.node(from)) << "\n  "
        << describe_counters(mesh.node(to));
    for (const Delivery& delivery : mesh.node(to).delivered) {
        const std::optional<Marker> marker = read_marker(delivery.packet);
        if (marker && marker->tag == from) {
            EXPECT_EQ(delivery.peer, mesh.peer(to, from));
        }
    }
}

// A lost handshake message costs REKEY_TIMEOUT: 1 s instead of 5 keeps runs short.
wg::DeviceSettings quick_retry_settings() {
    wg::DeviceSettings settings;
    settings.timers.rekey_timeout_ms = 1'000;
    return settings;
}

// Shortened protocol timers: a rekey every 2 s, sessions rejected after 3 s.
wg::DeviceSettings fast_rekey_settings() {
    wg::DeviceSettings settings;
    settings.timers.rekey_after_time_ms = 2'000;
    settings.timers.reject_after_time_ms = 3'000;
    settings.timers.rekey_attempt_time_ms = 9'000;
    settings.timers.rekey_timeout_ms = 500;
    settings.timers.rekey_timeout_jitter_max_ms = 50;
    settings.timers.keepalive_timeout_ms = 1'000;
    return settings;
}

// (a) Two peers over a lossy, reordering, duplicating network.
TEST(SimWireGuard, TwoPeersHandshakeAndExchangeOverALossyNetwork) {
    std::uint64_t duplicates_rejected = 0;
    for_each_seed(1000, 200, [&](std::uint64_t seed) {
        Mesh mesh(seed, 2, lossy_network, quick_retry_settings());
        Traffic& ab = mesh.traffic(0, 1, 50);
        Traffic& ba = mesh.traffic(1, 0, 50, /*use_v6=*/true);
        ab.start();
        ba.start();
        mesh.run_for(8'000);
        ab.stop();
        ba.stop();
        mesh.run_for(500);
        EXPECT_TRUE(mesh.node(0).device().has_session(mesh.peer(0, 1), mesh.node(0).now_ms()));
        EXPECT_TRUE(mesh.node(1).device().has_session(mesh.peer(1, 0), mesh.node(1).now_ms()));
        // Packets sent before the session exists beyond the staging queue are dropped; a lost
        // handshake message costs REKEY_TIMEOUT of them.
        expect_clean_delivery(mesh, 0, 1, ab, 0.5);
        expect_clean_delivery(mesh, 1, 0, ba, 0.5);
        for (int i = 0; i < 2; ++i) {
            const wg::DeviceCounters& counters = mesh.node(i).device().counters();
            duplicates_rejected += counters.messages.replayed_counter;
            EXPECT_EQ(counters.messages.decrypt_data, 0u);
            EXPECT_EQ(counters.messages.bad_mac1, 0u);
        }
    });
    // The network duplicated datagrams: the replay window caught them.
    if (!std::getenv("PINHOLE_SIM_SEED")) {
        EXPECT_GT(duplicates_rejected, 0u);
    }
}

// (b) Rekeys rotate under continuous traffic; nothing is delivered twice.
TEST(SimWireGuard, RekeysRotateUnderContinuousTraffic) {
    for_each_seed(2000, 40, [&](std::uint64_t seed) {
        Mesh mesh(seed, 2, lossy_network, fast_rekey_settings());
        Traffic& ab = mesh.traffic(0, 1, 20);
        Traffic& ba = mesh.traffic(1, 0, 20);
        std::vector<std::vector<std::uint8_t>> captured;
        mesh.node(1).tap = [&](const net::Endpoint&, std::span<const std::uint8_t> datagram) {
            if (datagram.size() > 32 && datagram[0] == 4 && captured.size() < 50) {
                captured.emplace_back(datagram.begin(), datagram.end());
            }
        };
        ab.start();
        ba.start();
        mesh.run_for(12'000);
        ab.stop();
        ba.stop();
        mesh.run_for(500);
        const wg::PeerCounters& a = *mesh.node(0).device().peer_counters(mesh.peer(0, 1));
        const wg::PeerCounters& b = *mesh.node(1).device().peer_counters(mesh.peer(1, 0));
        // 12 s with a rekey every 2 s: several sessions on each side.
        EXPECT_GE(a.handshakes_completed, 4u);
        EXPECT_GE(b.handshakes_completed, 4u);
        expect_clean_delivery(mesh, 0, 1, ab, 0.6);
        expect_clean_delivery(mesh, 1, 0, ba, 0.6);

        // Data from the first session, replayed after it was rotated out: rejected.
        const std::size_t delivered_before = mesh.node(1).delivered.size();
        const wg::MessageCounters before = mesh.node(1).device().counters().messages;
        for (const auto& datagram : captured) {
            mesh.node(1).device().receive(wg::Endpoint::direct({underlay(0), wireguard_port}),
                                          datagram, mesh.node(1).now_ms(), mesh.node(1).wall());
        }
        const wg::MessageCounters& after = mesh.node(1).device().counters().messages;
        EXPECT_EQ(mesh.node(1).delivered.size(), delivered_before);
        EXPECT_EQ(wg::total_rejections(after) - wg::total_rejections(before), captured.size());
    });
}

// (c) A replayed or tampered datagram injected by the test is rejected and counted.
TEST(SimWireGuard, ReplayedAndTamperedDatagramsAreRejectedAndCounted) {
    for_each_seed(3000, 100, [&](std::uint64_t seed) {
        Mesh mesh(seed, 2, lossy_network, quick_retry_settings());
        std::vector<std::vector<std::uint8_t>> data_seen, initiations_seen;
        mesh.node(1).tap = [&](const net::Endpoint&, std::span<const std::uint8_t> datagram) {
            auto& into = datagram[0] == 1 ? initiations_seen : data_seen;
            if (datagram[0] == 1 || (datagram[0] == 4 && datagram.size() > 32)) {
                into.emplace_back(datagram.begin(), datagram.end());
            }
        };
        Traffic& ab = mesh.traffic(0, 1, 100);
        ab.start();
        mesh.run_for(12'000);
        ab.stop();
        mesh.run_for(500);
        ASSERT_FALSE(data_seen.empty());
        ASSERT_FALSE(initiations_seen.empty());
        WireGuardNode& bob = mesh.node(1);
        const wg::Endpoint from_alice = wg::Endpoint::direct({underlay(0), wireguard_port});
        const auto inject = [&](const std::vector<std::uint8_t>& datagram) {
            bob.device().receive(from_alice, datagram, bob.now_ms(), bob.wall());
            bob.reschedule();
        };
        const std::size_t delivered = bob.delivered.size();
        wg::MessageCounters expected = bob.device().counters().messages;

        inject(data_seen.back());  // replay of the newest data message
        ++expected.replayed_counter;
        std::vector<std::uint8_t> tampered = data_seen.back();
        tampered[tampered.size() / 2] ^= 0x01;  // a bit of the ciphertext
        inject(tampered);
        ++expected.decrypt_data;
        tampered = initiations_seen.front();
        tampered[40] ^= 0x80;  // the encrypted static key: mac1 no longer verifies
        inject(tampered);
        ++expected.bad_mac1;
        tampered = data_seen.back();
        tampered[1] = 1;  // a reserved byte
        inject(tampered);
        ++expected.nonzero_reserved;
        tampered.resize(20);
        tampered[1] = 0;
        inject(tampered);  // shorter than any data message
        ++expected.wrong_length;

        const wg::MessageCounters& got = bob.device().counters().messages;
        EXPECT_EQ(got.replayed_counter, expected.replayed_counter);
        EXPECT_EQ(got.decrypt_data, expected.decrypt_data);
        EXPECT_EQ(got.bad_mac1, expected.bad_mac1);
        EXPECT_EQ(got.nonzero_reserved, expected.nonzero_reserved);
        EXPECT_EQ(got.wrong_length, expected.wrong_length);
        EXPECT_EQ(bob.delivered.size(), delivered);

        // A replayed initiation (old timestamp) gets no response.
        const std::uint64_t responses = bob.device().peer_counters(mesh.peer(1, 0))->responses_sent;
        const std::uint64_t refused = got.stale_timestamp + got.flood;
        inject(initiations_seen.front());
        EXPECT_EQ(bob.device().peer_counters(mesh.peer(1, 0))->responses_sent, responses);
        EXPECT_EQ(got.stale_timestamp + got.flood, refused + 1);
    });
}

// A peer may only send from its own allowed sources.
TEST(SimWireGuard, PacketsFromAnotherPeersSourceAreDroppedAndCounted) {
    for_each_seed(3500, 20, [&](std::uint64_t seed) {
        Mesh mesh(seed, 3, LinkFaults{.delay_ms = 10});
        // node0 claims node2's overlay address when it sends to node1.
        Traffic spoofed(*mesh.world, mesh.node(0), mesh.peer(0, 1), overlay_v4(2), overlay_v4(1),
                        0, 100);
        spoofed.start();
        mesh.run_for(3'000);
        spoofed.stop();
        EXPECT_TRUE(mesh.node(1).delivered.empty());
        const wg::PeerCounters& counters = *mesh.node(1).device().peer_counters(mesh.peer(1, 0));
        EXPECT_GE(counters.disallowed_source, spoofed.next_sequence - 2);
        EXPECT_EQ(counters.packets_received, 0u);
    });
}

// (d) Four peers, every one talking to every other.
TEST(SimWireGuard, FourPeersInAFullMesh) {
    for_each_seed(4000, 40, [&](std::uint64_t seed) {
        constexpr int count = 4;
        Mesh mesh(seed, count, lossy_network, quick_retry_settings());
        std::map<std::pair<int, int>, Traffic*> flows;
        for (int i = 0; i < count; ++i) {
            for (int j = 0; j < count; ++j) {
                if (i != j) flows[{i, j}] = &mesh.traffic(i, j, 100, (i + j) % 2 == 1);
            }
        }
        for (auto& [pair, flow] : flows) flow->start();
        mesh.run_for(8'000);
        for (auto& [pair, flow] : flows) flow->stop();
        mesh.run_for(500);
        for (auto& [pair, flow] : flows) {
            expect_clean_delivery(mesh, pair.first, pair.second, *flow, 0.25);
            EXPECT_TRUE(mesh.node(pair.first).device().has_session(
                mesh.peer(pair.first, pair.second), mesh.node(pair.first).now_ms()));
        }
    });
}

crypto::X25519Key public_key_for_seed(std::uint8_t key_seed) {
    crypto::X25519Key private_key{};
    private_key.fill(key_seed);
    crypto::x25519_clamp(private_key);
    crypto::X25519Key public_key{};
    EXPECT_TRUE(crypto::x25519_public_key(public_key, private_key).ok());
    return public_key;
}

// Initiations with a valid mac1 from keys the responder does not know, made once.
std::vector<std::vector<std::uint8_t>> flood_initiations(const crypto::X25519Key& responder, int count) {
    std::vector<std::vector<std::uint8_t>> messages;
    for (int i = 0; i < count; ++i) {
        wg::StaticIdentity stranger;
        stranger.private_key.fill(static_cast<std::uint8_t>(0x90 + i));
        crypto::x25519_clamp(stranger.private_key);
        EXPECT_TRUE(crypto::x25519_public_key(stranger.public_key, stranger.private_key).ok());
        wg::HandshakePeerKeys keys;
        EXPECT_TRUE(wg::make_peer_keys(keys, stranger, responder, {}).ok());
        wg::Handshake handshake;
        wg::InitiationMessage message;
        crypto::X25519Key ephemeral{};
        ephemeral.fill(static_cast<std::uint8_t>(i + 1));
        EXPECT_TRUE(handshake.create_initiation_with_ephemeral(
            message, stranger, keys, port::WallTime{1'767'225'600, 0}, ephemeral,
            static_cast<std::uint32_t>(i)).ok());
        wg::InitiationBytes bytes;
        wg::write_initiation(bytes, message);
        wg::CookieMaker maker;
        maker.initialize(responder);
        EXPECT_TRUE(maker.add_macs(bytes, 0).ok());
        messages.emplace_back(bytes.begin(), bytes.end());
    }
    return messages;
}

// Sends the flood from its own host, one initiation every `interval_ms`.
class Flooder final : public Alarm {
public:
    Flooder(World& world, Host& host, net::Endpoint target,
            const std::vector<std::vector<std::uint8_t>>& messages, std::uint32_t interval_ms)
        : world_(world), host_(host), target_(target), messages_(messages), interval_ms_(interval_ms) {
        socket_ = host.udp().open({{}, 40000}, inbox_).value();
    }
    ~Flooder() { stop(); }
    void start() { schedule(); }
    void stop() {
        if (alarm_) world_.cancel_alarm(*alarm_);
        alarm_.reset();
    }
    void on_alarm() noexcept override {
        alarm_.reset();
        (void)host_.udp().send(socket_, target_, messages_[sent % messages_.size()]);
        ++sent;
        schedule();
    }
    std::size_t sent = 0;

private:
    void schedule() { alarm_ = world_.schedule_alarm(world_.now_ms() + interval_ms_, *this).value(); }
    class Discard final : public port::UdpReceiver {
        void on_datagram(port::UdpSocketId, const net::Endpoint&, std::span<const std::uint8_t>) noexcept override {}
    } inbox_;
    World& world_;
    Host& host_;
    net::Endpoint target_;
    const std::vector<std::vector<std::uint8_t>>& messages_;
    std::uint32_t interval_ms_;
    port::UdpSocketId socket_ = 0;
    std::optional<AlarmId> alarm_;
};

// (e) A flood of initiations puts the responder under load: it answers with cookie replies
// instead of Diffie-Hellman, and a legitimate peer still completes its handshake.
TEST(SimWireGuard, AHandshakeFloodIsAnsweredWithCookiesAndAPeerStillGetsThrough) {
    wg::DeviceSettings settings;
    settings.under_load_handshakes_per_window = 8;
    settings.timers.rekey_timeout_ms = 1'000;
    const crypto::X25519Key responder_key = public_key_for_seed(0x41);  // node1's
    const std::vector<std::vector<std::uint8_t>> flood = flood_initiations(responder_key, 32);
    for_each_seed(5000, 30, [&](std::uint64_t seed) {
        Mesh mesh(seed, 2, LinkFaults{.delay_ms = 15, .jitter_ms = 10,
                                      .loss_ppm = ppm_from_percent(2)}, settings);
        ASSERT_EQ(mesh.node(1).public_key(), responder_key);
        const net::IpAddress mallory_address[] = {v4(203, 0, 113, 66)};
        Host& mallory = mesh.world->add_host({"mallory", mallory_address});
        Flooder flooder(*mesh.world, mallory, {underlay(1), wireguard_port}, flood, 20);
        flooder.start();
        mesh.run_for(1'000);
        Traffic& ab = mesh.traffic(0, 1, 100);
        ab.start();
        mesh.run_for(5'000);
        flooder.stop();
        ab.stop();
        mesh.run_for(500);

        const wg::DeviceCounters& bob = mesh.node(1).device().counters();
        EXPECT_GT(bob.cookie_replies_sent, flooder.sent / 2);
        EXPECT_GE(bob.under_load_windows, 1u);
        // Diffie-Hellman ran only for the messages before the load was noticed.
        EXPECT_LT(bob.messages.unknown_peer, 2 * settings.under_load_handshakes_per_window);
        const wg::PeerCounters& alice = *mesh.node(0).device().peer_counters(mesh.peer(0, 1));
        EXPECT_GE(alice.cookies_received, 1u);
        EXPECT_TRUE(mesh.node(0).device().has_session(mesh.peer(0, 1), mesh.node(0).now_ms()));
        expect_clean_delivery(mesh, 0, 1, ab, 0.5);
    });
}

// (f) Roaming: a peer's address changes mid-stream and the other side follows.
TEST(SimWireGuard, APeerThatMovesIsFollowed) {
    for_each_seed(6000, 100, [&](std::uint64_t seed) {
        Mesh mesh(seed, 2, lossy_network, quick_retry_settings());
        Traffic& ab = mesh.traffic(0, 1, 50);
        Traffic& ba = mesh.traffic(1, 0, 50);
        ab.start();
        ba.start();
        mesh.run_for(6'000);
        mesh.node(0).open_socket(4242);  // node0 moves to another port (a NAT rebinding)
        const std::uint64_t moved_at = ba.next_sequence;
        mesh.run_for(4'000);
        ab.stop();
        ba.stop();
        mesh.run_for(500);
        const std::optional<wg::Endpoint> endpoint =
            mesh.node(1).device().peer_endpoint(mesh.peer(1, 0));
        ASSERT_TRUE(endpoint.has_value());
        EXPECT_EQ(endpoint->udp, (net::Endpoint{underlay(0), 4242}));
        EXPECT_GE(mesh.node(1).device().peer_counters(mesh.peer(1, 0))->roams, 1u);
        // node1's packets reach node0 at its new address.
        const Received received = received_with_tag(mesh.node(0), 1);
        const auto after_move = std::count_if(received.sequences.begin(), received.sequences.end(),
                                              [&](std::uint64_t s) { return s > moved_at + 20; });
        EXPECT_GT(after_move, static_cast<long>((ba.next_sequence - moved_at - 20) / 2));
        expect_clean_delivery(mesh, 0, 1, ab, 0.25);
        expect_clean_delivery(mesh, 1, 0, ba, 0.25);
    });
}

}  // namespace
}  // namespace pinhole::sim
