// Bulk TCP between two lwIP endpoints over a seeded faulty wire, in virtual time: every byte
// arrives in order exactly once, the connection finishes, retransmission timeouts and fast
// retransmits recover, and the unacked tail that boards/deps/patches/lwip/0002 caches in each
// pcb always matches the list. lwIP is one per process, so the two endpoints are two netifs of
// it with their own addresses; the wire carries whatever either sends to the netif owning the
// destination. PINHOLE_SIM_SEED=<seed> replays a failing run.
#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/ip6_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/tcp.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/unit/fakes.h"

namespace {

// A full overlay packet fits one pool pbuf, so the pool check in lwipopts_derived.h holds.
static_assert(PBUF_POOL_BUFSIZE >= PINHOLE_BUDGET_OVERLAY_MTU_BYTES);

constexpr std::uint16_t mtu_bytes = 1420;
constexpr std::uint16_t server_port = 5001;
constexpr std::uint64_t link_delay_ms = 1;
constexpr std::uint64_t timer_interval_ms = TCP_TMR_INTERVAL;
constexpr std::size_t ipv6_header_bytes = 40;

// The byte at `offset` of the stream: position-dependent, so a lost, doubled or misplaced
// segment shows.
std::uint8_t stream_byte(std::uint64_t offset) {
    std::uint64_t x = (offset >> 3) + 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return static_cast<std::uint8_t>(x >> ((offset & 7) * 8));
}

std::uint64_t seed_or(std::uint64_t fallback) {
    const char* text = std::getenv("PINHOLE_SIM_SEED");
    return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

struct Faults {
    double drop = 0;       // probability a packet is lost
    double reorder = 0;    // probability it is held back 1-4 ms, so later ones overtake it
    double duplicate = 0;  // probability a second copy follows
};

// One TCP data packet as the wire sees it.
struct TcpView {
    std::uint16_t source_port = 0;
    std::uint32_t sequence = 0;
    std::size_t payload_bytes = 0;
};

std::uint32_t be32(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
}

std::optional<TcpView> tcp_view(const std::vector<std::uint8_t>& packet) {
    if (packet.size() < ipv6_header_bytes + 20 || (packet[0] >> 4) != 6 || packet[6] != IP_PROTO_TCP) {
        return std::nullopt;
    }
    const std::size_t tcp = ipv6_header_bytes;
    const std::size_t header_bytes = static_cast<std::size_t>(packet[tcp + 12] >> 4) * 4;
    TcpView view;
    view.source_port = static_cast<std::uint16_t>((packet[tcp] << 8) | packet[tcp + 1]);
    view.sequence = be32(packet, tcp + 4);
    view.payload_bytes = packet.size() - tcp - header_bytes;
    return view;
}

// The simulated link: a seeded fault injector and a queue ordered by arrival time.
class Wire {
public:
    explicit Wire(std::uint64_t seed) : random_(seed) {}

    void send(std::vector<std::uint8_t> packet, std::uint64_t now_ms) {
        ++sent;
        note_retransmission(packet);
        if (blackout || chance(faults.drop) || (drop_next && drop_next(packet))) {
            ++dropped;
            return;
        }
        std::uint64_t due = now_ms + link_delay_ms;
        if (chance(faults.reorder)) due += 1 + random_() % 4;
        if (chance(faults.duplicate)) {
            ++duplicated;
            queue_.emplace(std::make_tuple(due + random_() % 3, next_order_++), packet);
        }
        queue_.emplace(std::make_tuple(due, next_order_++), std::move(packet));
    }

    // Removes and returns the packets due by `now_ms`, in arrival order.
    std::vector<std::vector<std::uint8_t>> take_due(std::uint64_t now_ms) {
        std::vector<std::vector<std::uint8_t>> due;
        while (!queue_.empty() && std::get<0>(queue_.begin()->first) <= now_ms) {
            due.push_back(std::move(queue_.begin()->second));
            queue_.erase(queue_.begin());
        }
        return due;
    }

    bool empty() const { return queue_.empty(); }
    std::uint64_t next_due_ms() const { return std::get<0>(queue_.begin()->first); }

    Faults faults;
    bool blackout = false;
    bool in_timer = false;  // set while lwIP's timers run: what they send is timer-driven
    std::function<bool(const std::vector<std::uint8_t>&)> drop_next;
    std::uint64_t sent = 0, dropped = 0, duplicated = 0;
    std::uint64_t timer_retransmissions = 0, input_retransmissions = 0;

private:
    bool chance(double probability) {
        return probability > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < probability;
    }

    // A data segment that ends at or before the furthest its sender has reached was sent before.
    void note_retransmission(const std::vector<std::uint8_t>& packet) {
        const std::optional<TcpView> view = tcp_view(packet);
        if (!view || view->payload_bytes == 0) return;
        const std::uint32_t end = view->sequence + static_cast<std::uint32_t>(view->payload_bytes);
        auto [furthest, fresh] = furthest_sent_.try_emplace(view->source_port, end);
        if (fresh) return;
        if (static_cast<std::int32_t>(end - furthest->second) <= 0) {
            ++(in_timer ? timer_retransmissions : input_retransmissions);
        } else {
            furthest->second = end;
        }
    }

    std::mt19937_64 random_;
    std::map<std::tuple<std::uint64_t, std::uint64_t>, std::vector<std::uint8_t>> queue_;
    std::uint64_t next_order_ = 0;
    std::map<std::uint16_t, std::uint32_t> furthest_sent_;
};

// Writes `total_bytes` of the stream as fast as lwIP takes them, then closes.
struct Sender {
    tcp_pcb* pcb = nullptr;
    std::uint64_t total_bytes = 0;
    std::uint64_t written_bytes = 0;
    bool connected = false;
    bool close_sent = false;
    bool failed = false;
    std::uint32_t most_in_flight_bytes = 0;

    // Sent and not yet acknowledged, at its largest so far (the pcb is ours until we close).
    void note_flight() {
        if (connected && !close_sent && !failed) {
            most_in_flight_bytes = std::max(most_in_flight_bytes, pcb->snd_nxt - pcb->lastack);
        }
    }

    void push() {
        if (!connected || close_sent || failed) return;
        std::uint8_t chunk[16 * 1024];
        while (written_bytes < total_bytes) {
            const std::uint64_t room = std::min<std::uint64_t>(tcp_sndbuf(pcb), sizeof chunk);
            const auto length = static_cast<std::uint16_t>(std::min(room, total_bytes - written_bytes));
            if (length == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4) break;
            for (std::uint16_t i = 0; i < length; ++i) chunk[i] = stream_byte(written_bytes + i);
            if (tcp_write(pcb, chunk, length, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
            written_bytes += length;
        }
        if (written_bytes == total_bytes && tcp_close(pcb) == ERR_OK) {
            close_sent = true;  // lwIP owns the pcb from here
            return;
        }
        tcp_output(pcb);
    }
};

// Checks each byte against the stream as it arrives; closes at the end of the stream.
struct Receiver {
    tcp_pcb* pcb = nullptr;
    std::uint64_t received_bytes = 0;
    std::uint64_t wrong_bytes = 0;
    bool end_of_stream = false;
    bool failed = false;

    void take(pbuf* data) {
        for (const pbuf* part = data; part != nullptr; part = part->next) {
            const auto* bytes = static_cast<const std::uint8_t*>(part->payload);
            for (u16_t i = 0; i < part->len; ++i) {
                if (bytes[i] != stream_byte(received_bytes + i)) ++wrong_bytes;
            }
            received_bytes += part->len;
        }
    }
};

class LwipLossyBulk : public ::testing::Test {
protected:
    void SetUp() override {
        pinhole::fakes::initialise_lwip_once();
        add_endpoint(client_netif, "fd00:a::1", client_address);
        add_endpoint(server_netif, "fd00:b::1", server_address);
    }

    void TearDown() override {
        abort_our_pcbs();
        netif_remove(&client_netif);
        netif_remove(&server_netif);
    }

    void add_endpoint(netif& endpoint, const char* text, ip_addr_t& address) {
        ASSERT_EQ(ipaddr_aton(text, &address), 1);
        ASSERT_NE(netif_add_noaddr(&endpoint, this, &LwipLossyBulk::init_netif, &ip_input), nullptr);
        endpoint.mtu = mtu_bytes;
        s8_t index = 0;
        ASSERT_EQ(netif_add_ip6_address(&endpoint, ip_2_ip6(&address), &index), ERR_OK);
        netif_ip6_addr_set_state(&endpoint, index, IP6_ADDR_PREFERRED);
        netif_set_up(&endpoint);
        netif_set_link_up(&endpoint);
    }

    static err_t init_netif(netif* endpoint) {
        endpoint->name[0] = 't';
        endpoint->name[1] = 'b';
        endpoint->output_ip6 = &LwipLossyBulk::output_ip6;
        endpoint->flags = 0;  // point to point: no MLD, no ND
#if LWIP_IPV6_SEND_ROUTER_SOLICIT
        endpoint->rs_count = 0;
#endif
        return ERR_OK;
    }

    static err_t output_ip6(netif* endpoint, pbuf* packet, const ip6_addr_t*) {
        auto& test = *static_cast<LwipLossyBulk*>(endpoint->state);
        if (test.wire == nullptr) return ERR_OK;
        std::vector<std::uint8_t> bytes(packet->tot_len);
        pbuf_copy_partial(packet, bytes.data(), packet->tot_len, 0);
        test.wire->send(std::move(bytes), test.now_ms);
        return ERR_OK;
    }

    // The netif that owns the packet's destination address takes it; anything else is lost.
    void deliver(const std::vector<std::uint8_t>& packet) {
        if (packet.size() < ipv6_header_bytes) return;
        ip6_addr_t destination{};
        std::memcpy(&destination.addr, &packet[24], 16);
        ip6_addr_clear_zone(&destination);
        netif* owner = nullptr;
        for (netif* endpoint : {&client_netif, &server_netif}) {
            if (netif_get_ip6_addr_match(endpoint, &destination) >= 0) owner = endpoint;
        }
        if (owner == nullptr) return;
        pbuf* copy = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(packet.size()), PBUF_POOL);
        ASSERT_NE(copy, nullptr) << "pbuf pool exhausted";
        pbuf_take(copy, packet.data(), static_cast<u16_t>(packet.size()));
        if (owner->input(copy, owner) != ERR_OK) pbuf_free(copy);
        check_unacked_tails();
    }

    // Patch 0002's invariant: each pcb's cached tail is unknown (NULL) or the list's last.
    static void check_unacked_tails() {
        for (tcp_pcb* pcb = tcp_active_pcbs; pcb != nullptr; pcb = pcb->next) {
            const tcp_seg* last = pcb->unacked;
            while (last != nullptr && last->next != nullptr) last = last->next;
            ASSERT_TRUE(pcb->unacked_tail == nullptr || pcb->unacked_tail == last)
                << "cached unacked tail is stale";
        }
    }

    bool ours(const tcp_pcb* pcb) const {
        return ip_addr_cmp(&pcb->local_ip, &client_address) || ip_addr_cmp(&pcb->local_ip, &server_address);
    }

    void abort_our_pcbs() {
        for (tcp_pcb** list : {&tcp_active_pcbs, &tcp_tw_pcbs}) {
            for (tcp_pcb* pcb = *list; pcb != nullptr;) {
                tcp_pcb* next = pcb->next;
                if (ours(pcb)) {
                    tcp_arg(pcb, nullptr);
                    tcp_err(pcb, nullptr);
                    tcp_abort(pcb);
                    next = *list;  // the list changed: start again
                }
                pcb = next;
            }
        }
        if (listener != nullptr) tcp_close(listener);
        listener = nullptr;
    }

    bool any_of_ours_left() const {
        for (tcp_pcb* list : {tcp_active_pcbs, tcp_tw_pcbs}) {
            for (tcp_pcb* pcb = list; pcb != nullptr; pcb = pcb->next) {
                if (ours(pcb)) return true;
            }
        }
        return false;
    }

    void start(std::uint64_t seed, std::uint64_t total_bytes);
    void advance();
    bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms);
    void expect_complete_and_closed();

    netif client_netif{};
    netif server_netif{};
    ip_addr_t client_address{};
    ip_addr_t server_address{};
    std::unique_ptr<Wire> wire;
    std::uint64_t now_ms = 0;
    std::uint64_t next_timer_ms = timer_interval_ms;
    tcp_pcb* listener = nullptr;
    Sender sender;
    Receiver receiver;
};

err_t on_received(void* arg, tcp_pcb* pcb, pbuf* data, err_t) {
    auto& receiver = *static_cast<Receiver*>(arg);
    if (data == nullptr) {
        receiver.end_of_stream = true;
        tcp_arg(pcb, nullptr);
        tcp_recv(pcb, nullptr);
        tcp_err(pcb, nullptr);
        if (tcp_close(pcb) != ERR_OK) receiver.failed = true;
        return ERR_OK;
    }
    receiver.take(data);
    tcp_recved(pcb, data->tot_len);
    pbuf_free(data);
    return ERR_OK;
}

err_t on_accepted(void* arg, tcp_pcb* pcb, err_t error) {
    if (error != ERR_OK || pcb == nullptr) return ERR_VAL;
    auto& receiver = *static_cast<Receiver*>(arg);
    receiver.pcb = pcb;
    tcp_arg(pcb, &receiver);
    tcp_recv(pcb, &on_received);
    tcp_err(pcb, [](void* receiver_arg, err_t) { static_cast<Receiver*>(receiver_arg)->failed = true; });
    return ERR_OK;
}

// What the server says after the client closes: nothing, but a FIN to take.
err_t on_sender_received(void*, tcp_pcb* pcb, pbuf* data, err_t) {
    if (data != nullptr) {
        tcp_recved(pcb, data->tot_len);
        pbuf_free(data);
    }
    return ERR_OK;
}

void LwipLossyBulk::start(std::uint64_t seed, std::uint64_t total_bytes) {
    wire = std::make_unique<Wire>(seed);
    listener = tcp_new_ip_type(IPADDR_TYPE_V6);
    ASSERT_NE(listener, nullptr);
    ASSERT_EQ(tcp_bind(listener, &server_address, server_port), ERR_OK);
    listener = tcp_listen(listener);
    ASSERT_NE(listener, nullptr);
    tcp_arg(listener, &receiver);
    tcp_accept(listener, &on_accepted);

    sender.total_bytes = total_bytes;
    sender.pcb = tcp_new_ip_type(IPADDR_TYPE_V6);
    ASSERT_NE(sender.pcb, nullptr);
    ASSERT_EQ(tcp_bind(sender.pcb, &client_address, 0), ERR_OK);
    tcp_arg(sender.pcb, &sender);
    tcp_recv(sender.pcb, &on_sender_received);
    tcp_err(sender.pcb, [](void* sender_arg, err_t) { static_cast<Sender*>(sender_arg)->failed = true; });
    tcp_sent(sender.pcb, [](void* sender_arg, tcp_pcb*, u16_t) -> err_t {
        static_cast<Sender*>(sender_arg)->push();
        return ERR_OK;
    });
    const auto connected = [](void* sender_arg, tcp_pcb*, err_t) -> err_t {
        auto& self = *static_cast<Sender*>(sender_arg);
        self.connected = true;
        self.push();
        return ERR_OK;
    };
    ASSERT_EQ(tcp_connect(sender.pcb, &server_address, server_port, connected), ERR_OK);
}

// One step of virtual time: deliver what is due, run lwIP's timers when due, skip idle time.
void LwipLossyBulk::advance() {
    for (const std::vector<std::uint8_t>& packet : wire->take_due(now_ms)) deliver(packet);
    sender.note_flight();
    if (now_ms >= next_timer_ms) {
        wire->in_timer = true;
        tcp_tmr();
        wire->in_timer = false;
        next_timer_ms += timer_interval_ms;
        check_unacked_tails();
    }
    const std::uint64_t next_event_ms = wire->empty() ? next_timer_ms : std::min(next_timer_ms, wire->next_due_ms());
    now_ms = std::max(now_ms + 1, next_event_ms);
}

bool LwipLossyBulk::run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    const std::uint64_t deadline_ms = now_ms + limit_ms;
    while (now_ms < deadline_ms) {
        if (done()) return true;
        if (::testing::Test::HasFatalFailure()) return false;
        advance();
    }
    return done();
}

// Every byte once and in order, both ends closed, and lwIP let go of both pcbs (TIME_WAIT over).
void LwipLossyBulk::expect_complete_and_closed() {
    EXPECT_TRUE(run_until([this] { return receiver.end_of_stream; }, 3'600'000))
        << "received " << receiver.received_bytes << " of " << sender.total_bytes;
    EXPECT_EQ(receiver.received_bytes, sender.total_bytes);
    EXPECT_EQ(receiver.wrong_bytes, 0u) << "bytes lost, doubled or misplaced";
    EXPECT_FALSE(sender.failed);
    EXPECT_FALSE(receiver.failed);
    EXPECT_TRUE(run_until([this] { return !any_of_ours_left(); }, 2 * TCP_MSL + 60'000))
        << "a pcb did not finish closing";
}

TEST_F(LwipLossyBulk, EveryByteOnceInOrderThroughLossReorderingAndDuplication) {
    const std::uint64_t seed = seed_or(20260110);
    SCOPED_TRACE("sim seed: " + std::to_string(seed) + " (replay: PINHOLE_SIM_SEED=" + std::to_string(seed) + ")");
    start(seed, 4 * 1024 * 1024);
    // A clean start first, so the faults meet a full window of segments in flight.
    ASSERT_TRUE(run_until([this] { return receiver.received_bytes >= 512 * 1024; }, 60'000));
    EXPECT_GE(sender.most_in_flight_bytes, TCP_WND * 3 / 4);
    wire->faults = Faults{0.02, 0.05, 0.01};
    expect_complete_and_closed();
    EXPECT_GT(wire->dropped, 0u);
    EXPECT_GT(wire->duplicated, 0u);
    EXPECT_GT(wire->timer_retransmissions + wire->input_retransmissions, 0u);
}

TEST_F(LwipLossyBulk, ABlackoutIsRecoveredByTheRetransmissionTimeout) {
    start(seed_or(7), 2 * 1024 * 1024);
    ASSERT_TRUE(run_until([this] { return receiver.received_bytes >= 512 * 1024; }, 60'000));
    EXPECT_GE(sender.most_in_flight_bytes, TCP_WND * 3 / 4);
    // Everything in flight, both ways, is lost: no duplicate ACK can start a fast retransmit.
    wire->blackout = true;
    // Longer than lwIP's fast timer (its delayed ACK is lost too), shorter than any timeout.
    run_until([] { return false; }, 300);
    wire->blackout = false;
    EXPECT_EQ(wire->timer_retransmissions, 0u);
    expect_complete_and_closed();
    EXPECT_GT(wire->timer_retransmissions, 0u);
}

TEST_F(LwipLossyBulk, OneLostSegmentIsFastRetransmittedWithoutATimeout) {
    start(seed_or(11), 1024 * 1024);
    // The 100th full data segment: by then the congestion window is wide open.
    int full_segments = 0;
    wire->drop_next = [&full_segments](const std::vector<std::uint8_t>& packet) {
        const std::optional<TcpView> view = tcp_view(packet);
        return view && view->payload_bytes == TCP_MSS && ++full_segments == 100;
    };
    expect_complete_and_closed();
    EXPECT_EQ(wire->dropped, 1u);
    EXPECT_GE(wire->input_retransmissions, 1u) << "the lost segment went again on duplicate ACKs";
    EXPECT_EQ(wire->timer_retransmissions, 0u);
}

}  // namespace
