// The Linux port against the real kernel: loopback sockets, a real listening socket, the
// resolver's worker thread, files in a temporary directory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "port/posix/platform.h"

namespace {

using pinhole::Errc;
using pinhole::net::Endpoint;
using pinhole::net::IpAddress;

class PosixPort : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/pinhole-port-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        directory_ = pattern;
        ASSERT_TRUE(platform_.open(directory_ + "/data").ok());
    }
    void TearDown() override { (void)!system(("rm -rf " + directory_).c_str()); }

    // Runs the loop until `done` holds; bounded so a broken port fails instead of hanging.
    template <typename Predicate>
    bool run_until(Predicate done) {
        for (int round = 0; round < 200 && !done(); round++) {
            if (!platform_.loop().run_once(10).ok()) return false;
        }
        return done();
    }

    std::string directory_;
    pinhole::posix::PosixPlatform platform_;
};

struct Inbox final : pinhole::port::UdpReceiver {
    void on_datagram(pinhole::port::UdpSocketId, const Endpoint& from_endpoint,
                     std::span<const std::uint8_t> payload) noexcept override {
        from = from_endpoint;
        received.assign(payload.begin(), payload.end());
        count++;
    }
    Endpoint from;
    std::vector<std::uint8_t> received;
    int count = 0;
};

Endpoint endpoint_v4_loopback(std::uint16_t port) {
    return Endpoint{IpAddress::v4(127, 0, 0, 1), port};
}

Endpoint endpoint_v6_loopback(std::uint16_t port) {
    std::array<std::uint8_t, 16> bytes{};
    bytes[15] = 1;
    return Endpoint{IpAddress::v6(bytes), port};
}


TEST_F(PosixPort, UdpRoundTripOverIpv4AndIpv6) {
    pinhole::port::Udp& udp = platform_.platform().udp;
    for (const Endpoint& any_port : {endpoint_v4_loopback(0), endpoint_v6_loopback(0)}) {
        Inbox inbox_a, inbox_b;
        auto a = udp.open(any_port, inbox_a);
        auto b = udp.open(any_port, inbox_b);
        ASSERT_TRUE(a.ok() && b.ok());
        auto b_address = udp.local_endpoint(b.value());
        ASSERT_TRUE(b_address.ok());
        ASSERT_NE(b_address.value().port, 0);
        const std::uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
        ASSERT_TRUE(udp.send(a.value(), b_address.value(), hello).ok());
        ASSERT_TRUE(run_until([&] { return inbox_b.count == 1; }));
        EXPECT_EQ(inbox_b.received, std::vector<std::uint8_t>(hello, hello + 5));
        EXPECT_EQ(inbox_b.from, udp.local_endpoint(a.value()).value());
        udp.close(a.value());
        udp.close(b.value());
    }
}

TEST_F(PosixPort, DualStackSocketSeesIpv4SendersAsIpv4) {
    pinhole::port::Udp& udp = platform_.platform().udp;
    Inbox inbox_any, inbox_v4;
    auto any = udp.open(Endpoint{}, inbox_any);  // family none: dual-stack, any address
    auto v4 = udp.open(endpoint_v4_loopback(0), inbox_v4);
    ASSERT_TRUE(any.ok() && v4.ok());
    const std::uint16_t any_port = udp.local_endpoint(any.value()).value().port;
    const std::uint8_t ping[] = {1};
    ASSERT_TRUE(udp.send(v4.value(), endpoint_v4_loopback(any_port), ping).ok());
    ASSERT_TRUE(run_until([&] { return inbox_any.count == 1; }));
    EXPECT_TRUE(inbox_any.from.address.is_v4());
    // ...and answers them through the same socket.
    ASSERT_TRUE(udp.send(any.value(), inbox_any.from, ping).ok());
    ASSERT_TRUE(run_until([&] { return inbox_v4.count == 1; }));
}

struct DatagramLog final : pinhole::port::UdpReceiver {
    void on_datagram(pinhole::port::UdpSocketId, const Endpoint&,
                     std::span<const std::uint8_t> payload) noexcept override {
        received.emplace_back(payload.begin(), payload.end());
    }
    std::vector<std::vector<std::uint8_t>> received;
};

// What a tunnel sends: runs of full-sized datagrams (GSO runs), a few short ones, one large.
std::vector<std::vector<std::uint8_t>> tunnel_like_datagrams() {
    std::vector<std::vector<std::uint8_t>> datagrams;
    const auto add = [&](std::size_t count, std::size_t bytes) {
        for (std::size_t i = 0; i < count; i++) {
            std::vector<std::uint8_t> datagram(bytes);
            for (std::size_t b = 0; b < bytes; b++) datagram[b] = static_cast<std::uint8_t>(datagrams.size() * 7 + b);
            datagrams.push_back(std::move(datagram));
        }
    };
    add(150, 1452);
    add(3, 100);
    add(1, 60000);
    add(1, 0);
    add(40, 1452);
    add(1, 900);
    return datagrams;
}

// Every batching mode delivers every datagram, whole and in order, over loopback; the batched
// modes use fewer system calls than datagrams, and offload sends GSO runs.
TEST_F(PosixPort, UdpBatchingModesDeliverEveryDatagramInOrder) {
    using pinhole::posix::UdpBatching;
    pinhole::posix::PosixUdp& udp = platform_.posix_udp();
    const std::vector<std::vector<std::uint8_t>> sent = tunnel_like_datagrams();
    for (const UdpBatching mode : {UdpBatching::single, UdpBatching::mmsg, UdpBatching::offload}) {
        udp.set_batching(mode);
        const pinhole::posix::UdpCounters before = udp.counters();
        DatagramLog sender_log, receiver_log;
        auto sender = udp.open(endpoint_v4_loopback(0), sender_log);
        auto receiver = udp.open(endpoint_v4_loopback(0), receiver_log);
        ASSERT_TRUE(sender.ok() && receiver.ok());
        const Endpoint to = udp.local_endpoint(receiver.value()).value();
        for (std::size_t i = 0; i < sent.size(); i++) {
            ASSERT_TRUE(udp.send(sender.value(), to, sent[i]).ok()) << i;
            if (i % 50 == 49) {
                ASSERT_TRUE(platform_.loop().run_once(0).ok());  // bursts, as a loop turn
            }
        }
        ASSERT_TRUE(run_until([&] { return receiver_log.received.size() >= sent.size(); }));
        ASSERT_EQ(receiver_log.received.size(), sent.size());
        for (std::size_t i = 0; i < sent.size(); i++) ASSERT_EQ(receiver_log.received[i], sent[i]) << i;
        const pinhole::posix::UdpCounters& after = udp.counters();
        EXPECT_EQ(after.datagrams_sent - before.datagrams_sent, sent.size());
        EXPECT_EQ(after.send_dropped, before.send_dropped);
        if (mode != UdpBatching::single) {
            EXPECT_LT(after.send_calls - before.send_calls, sent.size() / 4);
            EXPECT_LT(after.receive_calls - before.receive_calls, sent.size() / 2);
        }
        if (udp.batching() == UdpBatching::offload) {
            EXPECT_GT(after.offload_messages, before.offload_messages);
            // Loopback hands a GSO run to a socket with UDP_GRO whole (Linux 5.0+).
            EXPECT_GT(after.offload_received, before.offload_received);
        }
        udp.close(sender.value());
        udp.close(receiver.value());
    }
}

// A datagram queued just before its socket closes still leaves.
TEST_F(PosixPort, UdpCloseSendsWhatWasQueued) {
    pinhole::posix::PosixUdp& udp = platform_.posix_udp();
    udp.set_batching(pinhole::posix::UdpBatching::offload);
    DatagramLog sender_log, receiver_log;
    auto sender = udp.open(endpoint_v4_loopback(0), sender_log);
    auto receiver = udp.open(endpoint_v4_loopback(0), receiver_log);
    ASSERT_TRUE(sender.ok() && receiver.ok());
    const std::uint8_t last[] = {'b', 'y', 'e'};
    ASSERT_TRUE(udp.send(sender.value(), udp.local_endpoint(receiver.value()).value(), last).ok());
    udp.close(sender.value());
    ASSERT_TRUE(run_until([&] { return receiver_log.received.size() == 1; }));
    EXPECT_EQ(receiver_log.received[0], std::vector<std::uint8_t>(last, last + 3));
}

struct TcpRecorder final : pinhole::port::TcpEvents {
    void on_connected(pinhole::port::TcpConnectionId, Errc result) noexcept override {
        connect_result = result;
        connected_calls++;
    }
    void on_readable(pinhole::port::TcpConnectionId) noexcept override { readable_calls++; }
    void on_writable(pinhole::port::TcpConnectionId) noexcept override {}
    void on_closed(pinhole::port::TcpConnectionId, Errc reason) noexcept override {
        close_reason = reason;
        closed_calls++;
    }
    Errc connect_result = Errc::ok;
    Errc close_reason = Errc::ok;
    int connected_calls = 0, readable_calls = 0, closed_calls = 0;
};

int listen_on_loopback(std::uint16_t& port) {
    const int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(server, reinterpret_cast<sockaddr*>(&address), length) != 0) return -1;
    if (listen(server, 4) != 0) return -1;
    getsockname(server, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    return server;
}

TEST_F(PosixPort, TcpConnectsWritesReadsAndHalfCloses) {
    pinhole::port::Tcp& tcp = platform_.platform().tcp;
    std::uint16_t port = 0;
    const int server = listen_on_loopback(port);
    ASSERT_GE(server, 0);
    TcpRecorder events;
    auto connection = tcp.connect(endpoint_v4_loopback(port), events);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(run_until([&] { return events.connected_calls == 1; }));
    ASSERT_EQ(events.connect_result, Errc::ok);
    const int peer = accept(server, nullptr, nullptr);
    ASSERT_GE(peer, 0);

    const std::uint8_t request[] = {'p', 'i', 'n', 'g'};
    auto written = tcp.write(connection.value(), request);
    ASSERT_TRUE(written.ok());
    EXPECT_EQ(written.value(), sizeof request);
    char seen[4] = {};
    ASSERT_EQ(recv(peer, seen, sizeof seen, MSG_WAITALL), 4);
    ASSERT_EQ(send(peer, "pong", 4, 0), 4);
    shutdown(peer, SHUT_WR);

    std::array<std::uint8_t, 16> buffer{};
    std::string answer;
    bool end_of_stream = false;
    ASSERT_TRUE(run_until([&] {
        auto got = tcp.read(connection.value(), buffer);
        if (got.ok() && got.value() == 0) end_of_stream = true;
        if (got.ok()) answer.append(reinterpret_cast<char*>(buffer.data()), got.value());
        return end_of_stream;
    }));
    EXPECT_EQ(answer, "pong");
    EXPECT_GE(events.readable_calls, 1);
    ASSERT_TRUE(tcp.shutdown_write(connection.value()).ok());
    EXPECT_EQ(recv(peer, seen, sizeof seen, 0), 0);  // our half-close reached the peer
    tcp.close(connection.value(), false);
    close(peer);
    close(server);
}

TEST_F(PosixPort, TcpConnectToAClosedPortIsRefused) {
    std::uint16_t port = 0;
    const int server = listen_on_loopback(port);
    close(server);  // the port is now closed
    TcpRecorder events;
    auto connection = platform_.platform().tcp.connect(endpoint_v4_loopback(port), events);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(run_until([&] { return events.connected_calls == 1; }));
    EXPECT_EQ(events.connect_result, Errc::refused);
}

struct ResolveRecorder final : pinhole::port::ResolveEvents {
    void on_resolved(pinhole::port::ResolveId, Errc result_code,
                     std::span<const IpAddress> found) noexcept override {
        result = result_code;
        addresses.assign(found.begin(), found.end());
        calls++;
    }
    Errc result = Errc::io;
    std::vector<IpAddress> addresses;
    int calls = 0;
};

TEST_F(PosixPort, ResolverAnswersFromItsWorkerWithoutBlockingTheLoop) {
    ResolveRecorder answer;
    auto id = platform_.platform().resolver.resolve("localhost", pinhole::net::Family::v4, answer);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(run_until([&] { return answer.calls == 1; }));
    ASSERT_EQ(answer.result, Errc::ok);
    ASSERT_FALSE(answer.addresses.empty());
    EXPECT_EQ(answer.addresses[0], IpAddress::v4(127, 0, 0, 1));
}

TEST_F(PosixPort, ResolverRejectsBadNamesAndHonoursCancel) {
    pinhole::port::Resolver& resolver = platform_.platform().resolver;
    ResolveRecorder answer;
    EXPECT_EQ(resolver.resolve("", pinhole::net::Family::none, answer).error(), Errc::invalid_argument);
    EXPECT_EQ(resolver.resolve(std::string(300, 'a'), pinhole::net::Family::none, answer).error(),
              Errc::invalid_argument);
    auto id = resolver.resolve("localhost", pinhole::net::Family::none, answer);
    ASSERT_TRUE(id.ok());
    resolver.cancel(id.value());
    for (int round = 0; round < 20; round++) ASSERT_TRUE(platform_.loop().run_once(5).ok());
    EXPECT_EQ(answer.calls, 0);
}

TEST_F(PosixPort, StorageWritesSecretsPrivatelyAndRefusesExposedOnes) {
    pinhole::port::Storage& storage = platform_.platform().storage;
    const std::uint8_t secret[] = {1, 2, 3};
    ASSERT_TRUE(storage.write("agent_key", pinhole::port::Secrecy::secret, secret).ok());
    const std::string path = directory_ + "/data/agent_key";
    struct stat info{};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);

    std::array<std::uint8_t, 8> buffer{};
    auto got = storage.read("agent_key", pinhole::port::Secrecy::secret, buffer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.value(), 3u);
    ASSERT_EQ(chmod(path.c_str(), 0644), 0);
    EXPECT_EQ(storage.read("agent_key", pinhole::port::Secrecy::secret, buffer).error(),
              Errc::permission);
    EXPECT_TRUE(storage.read("agent_key", pinhole::port::Secrecy::public_record, buffer).ok());
}

TEST_F(PosixPort, StorageRejectsBadNamesMissingAndOversizedRecords) {
    pinhole::port::Storage& storage = platform_.platform().storage;
    std::array<std::uint8_t, 2> small{};
    const std::uint8_t data[] = {1, 2, 3};
    EXPECT_EQ(storage.write("../escape", pinhole::port::Secrecy::secret, data).error(),
              Errc::invalid_argument);
    EXPECT_EQ(storage.write(".hidden", pinhole::port::Secrecy::secret, data).error(),
              Errc::invalid_argument);
    EXPECT_EQ(storage.read("absent", pinhole::port::Secrecy::public_record, small).error(),
              Errc::not_found);
    ASSERT_TRUE(storage.write("three", pinhole::port::Secrecy::public_record, data).ok());
    EXPECT_EQ(storage.read("three", pinhole::port::Secrecy::public_record, small).error(),
              Errc::no_space);
}

TEST_F(PosixPort, ClockRandomAndInterfacesAnswer) {
    pinhole::port::Platform port = platform_.platform();
    const std::uint32_t before = port.clock.monotonic_ms();
    EXPECT_LE(static_cast<std::uint32_t>(port.clock.monotonic_ms() - before), 1000u);
    EXPECT_GT(port.clock.wall_time().seconds, 1'600'000'000u);
    std::array<std::uint8_t, 32> bytes{};
    ASSERT_TRUE(port.random.fill(bytes).ok());
    EXPECT_NE(bytes, (std::array<std::uint8_t, 32>{}));
    std::array<IpAddress, 16> addresses{};
    EXPECT_TRUE(port.interfaces.local_addresses(addresses).ok());
}

}  // namespace
