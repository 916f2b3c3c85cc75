// Shared pieces of the simulation tests: a fixture that owns a world and traces its seed, and
// recorders for the events the port delivers. Tests may allocate; the port never does.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "port/sim/world.h"

namespace pinhole {

// Failure messages name errors ("timed out"), not bytes.
inline void PrintTo(Errc error, std::ostream* out) { *out << describe(error); }

}  // namespace pinhole

namespace pinhole::sim::testing_support {

inline net::IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return net::IpAddress::v4(a, b, c, d);
}

inline net::IpAddress v6(std::uint16_t first_group, std::uint16_t last_group) {
    net::IpAddress address{net::Family::v6, {}};
    address.bytes[0] = static_cast<std::uint8_t>(first_group >> 8);
    address.bytes[1] = static_cast<std::uint8_t>(first_group);
    address.bytes[14] = static_cast<std::uint8_t>(last_group >> 8);
    address.bytes[15] = static_cast<std::uint8_t>(last_group);
    return address;
}

inline std::string seed_message(std::uint64_t seed) {
    return "sim seed: " + std::to_string(seed) + " (replay: PINHOLE_SIM_SEED=" +
           std::to_string(seed) + ")";
}

// A world on the heap (it is a few MiB) whose seed every failure message carries.
class SimulationTest : public ::testing::Test {
protected:
    explicit SimulationTest(WorldOptions options = default_options())
        : world_(std::make_unique<World>(options)),
          seed_trace_(__FILE__, __LINE__, seed_message(world_->seed())) {}

    static WorldOptions default_options() {
        WorldOptions options;
        options.seed = 20260101;
        return options;
    }

    Host& add_host(const char* label, std::vector<net::IpAddress> addresses) {
        addresses_.push_back(std::move(addresses));
        return world_->add_host(HostOptions{label, addresses_.back()});
    }

    void run_for(std::uint64_t duration_ms) { ASSERT_TRUE(world_->run_for(duration_ms).ok()); }

    World& world() { return *world_; }

private:
    std::unique_ptr<World> world_;
    ::testing::ScopedTrace seed_trace_;
    std::vector<std::vector<net::IpAddress>> addresses_;
};

struct ReceivedDatagram {
    std::uint64_t at_ms;
    port::UdpSocketId socket;
    net::Endpoint from;
    std::vector<std::uint8_t> payload;
};

class UdpInbox final : public port::UdpReceiver {
public:
    explicit UdpInbox(const World& world) : world_(world) {}
    void on_datagram(port::UdpSocketId socket, const net::Endpoint& from,
                     std::span<const std::uint8_t> payload) noexcept override {
        received.push_back({world_.now_ms(), socket, from, {payload.begin(), payload.end()}});
    }
    std::vector<ReceivedDatagram> received;

private:
    const World& world_;
};

// Records one connection's events and reads everything readable into `bytes`.
class StreamRecorder : public port::TcpEvents {
public:
    StreamRecorder(World& world, HostTcp& tcp) : world_(world), tcp_(tcp) {}
    virtual ~StreamRecorder() = default;  // tests own them through unique_ptr

    void on_connected(port::TcpConnectionId connection, Errc result) noexcept override {
        connected_result = result;
        connected_at_ms = world_.now_ms();
        if (result == Errc::ok) id = connection;
    }
    void on_readable(port::TcpConnectionId connection) noexcept override {
        ++readable_calls;
        if (read_automatically) drain(connection);
    }
    void on_writable(port::TcpConnectionId) noexcept override { ++writable_calls; }
    void on_closed(port::TcpConnectionId, Errc reason) noexcept override {
        closed_reason = reason;
        closed = true;
    }

    // Reads until would_block or end of stream.
    void drain(port::TcpConnectionId connection) {
        std::uint8_t buffer[700];  // not a multiple of the segment size, on purpose
        for (int i = 0; i < 10000; ++i) {
            const Result<std::size_t> got = tcp_.read(connection, buffer);
            if (!got.ok()) {
                last_read_error = got.error();
                return;
            }
            if (got.value() == 0) {
                end_of_stream = true;
                return;
            }
            bytes.insert(bytes.end(), buffer, buffer + got.value());
        }
    }

    std::optional<Errc> connected_result;
    std::uint64_t connected_at_ms = 0;
    port::TcpConnectionId id = 0;
    bool read_automatically = true;
    int readable_calls = 0;
    int writable_calls = 0;
    bool closed = false;
    Errc closed_reason = Errc::ok;
    Errc last_read_error = Errc::ok;
    bool end_of_stream = false;
    std::vector<std::uint8_t> bytes;

private:
    World& world_;
    HostTcp& tcp_;
};

// Writes all of `data`, a chunk at a time, going on whenever the port says it may.
class BulkSender final : public StreamRecorder {
public:
    BulkSender(World& world, HostTcp& tcp, std::vector<std::uint8_t> data)
        : StreamRecorder(world, tcp), tcp_(tcp), data_(std::move(data)) {}

    void on_connected(port::TcpConnectionId connection, Errc result) noexcept override {
        StreamRecorder::on_connected(connection, result);
        if (result == Errc::ok) send_more();
    }
    void on_writable(port::TcpConnectionId connection) noexcept override {
        StreamRecorder::on_writable(connection);
        send_more();
    }
    void send_more() {
        for (int i = 0; i < 1000 && offset < data_.size(); ++i) {
            const std::size_t chunk = std::min<std::size_t>(1500, data_.size() - offset);
            const Result<std::size_t> written =
                tcp_.write(id, std::span(data_).subspan(offset, chunk));
            if (!written.ok()) {
                last_write_error = written.error();
                return;
            }
            offset += written.value();
        }
        if (offset == data_.size() && close_when_done) tcp_.close(id, false);
    }

    std::size_t offset = 0;
    bool close_when_done = false;
    Errc last_write_error = Errc::ok;

private:
    HostTcp& tcp_;
    std::vector<std::uint8_t> data_;
};

// A test server: accepts every connection (unless told to refuse) and records each in its own
// StreamRecorder.
class TestServer final : public TcpAcceptor {
public:
    TestServer(World& world, Host& host) : world_(world), host_(host) {}

    port::TcpEvents* on_accept(port::TcpConnectionId connection,
                               const net::Endpoint& from) noexcept override {
        if (refuse) return nullptr;
        accepted.push_back(std::make_unique<StreamRecorder>(world_, host_.tcp()));
        accepted.back()->id = connection;
        peers.push_back(from);
        if (!greeting.empty()) {
            EXPECT_EQ(host_.tcp().write(connection, greeting).value(), greeting.size());
        }
        if (close_at_once) host_.tcp().close(connection, false);
        return accepted.back().get();
    }

    bool refuse = false;
    std::vector<std::uint8_t> greeting;  // written from inside on_accept
    bool close_at_once = false;          // closed (orderly) from inside on_accept
    std::vector<std::unique_ptr<StreamRecorder>> accepted;
    std::vector<net::Endpoint> peers;

private:
    World& world_;
    Host& host_;
};

// Bytes that reveal a reordering or a loss: position-dependent.
inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t salt = 0) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<std::uint8_t>((i * 131 + (i >> 8) * 7 + salt) & 0xFF);
    }
    return bytes;
}

}  // namespace pinhole::sim::testing_support
