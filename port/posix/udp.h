// UDP on Linux sockets: dual-stack when bound to "any", a bounded amount of work per wake-up so
// one busy socket cannot starve the others, and batched system calls for a tunnel's bursts:
//   receive  recvmmsg into a few 64 KiB slots; with UDP_GRO the kernel hands over a run of
//            same-sized datagrams from one sender as one buffer, split here again
//   send     datagrams are queued (a bounded arena) and leave when the loop is about to wait,
//            or when the queue is full: one sendmmsg per socket, and with UDP_SEGMENT (GSO)
//            a run of same-sized datagrams to one destination as one message
// The loop is single-threaded: one receive arena and one send queue serve every socket.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>

#include "board_budget.h"
#include "port/posix/event_loop.h"
#include "port/udp.h"

namespace pinhole::posix {

// How datagrams cross the kernel boundary (PosixUdp::set_batching; `pinhole` reads
// PINHOLE_UDP_BATCHING): one system call per datagram, batches of them, or batches with the
// kernel's segmentation offload (GSO out, GRO in) where it has it.
enum class UdpBatching : std::uint8_t { single, mmsg, offload };

struct UdpCounters {
    std::uint64_t datagrams_sent = 0;
    std::uint64_t send_calls = 0;           // sendto/sendmmsg calls
    std::uint64_t offload_messages = 0;     // messages that carried more than one datagram (GSO)
    std::uint64_t send_dropped = 0;         // the kernel refused them (a full buffer, no route)
    std::uint64_t datagrams_received = 0;
    std::uint64_t receive_calls = 0;
    std::uint64_t offload_received = 0;     // buffers that carried more than one datagram (GRO)
    std::uint64_t receive_truncated = 0;    // longer than a slot: dropped (cannot happen for UDP)
};

class PosixUdp final : public port::Udp, private FdHandler, private LoopFlusher {
public:
    static constexpr std::size_t max_sockets = PINHOLE_BUDGET_MAX_UDP_SOCKETS;
    static constexpr std::size_t max_datagram_bytes = 65535;
    // recvmmsg slots: each holds the largest datagram, or a GRO run of them.
    static constexpr std::size_t receive_slots = 8;
    static constexpr int max_receive_calls_per_wake = 8;
    // The send queue: what one loop turn's bursts fill before they leave together.
    static constexpr std::size_t max_queued_datagrams = 64;
    static constexpr std::size_t send_arena_bytes = 128 * 1024;
    // A GSO message: the kernel takes at most 64 segments and one IP packet's length.
    static constexpr std::size_t max_segments_per_message = 64;
    static constexpr std::size_t max_segmented_bytes = 65000;

    explicit PosixUdp(EventLoop& loop) noexcept : loop_(loop) { loop_.set_flusher(*this); }
    PosixUdp(const PosixUdp&) = delete;
    PosixUdp& operator=(const PosixUdp&) = delete;
    ~PosixUdp();

    // Before the first open(). offload falls back to mmsg where the kernel lacks UDP_SEGMENT;
    // batching() says what is in use.
    void set_batching(UdpBatching wanted) noexcept;
    [[nodiscard]] UdpBatching batching() const noexcept { return batching_; }
    [[nodiscard]] const UdpCounters& counters() const noexcept { return counters_; }

    [[nodiscard]] Result<port::UdpSocketId> open(const net::Endpoint& local,
                                                 port::UdpReceiver& receiver) noexcept override;
    [[nodiscard]] Result<net::Endpoint> local_endpoint(port::UdpSocketId socket) noexcept override;
    // Queued unless batching is `single`: Errc::would_block only then. A queued datagram the
    // kernel refuses later is dropped and counted, as a full socket buffer drops.
    [[nodiscard]] Status send(port::UdpSocketId socket, const net::Endpoint& to,
                              std::span<const std::uint8_t> payload) noexcept override;
    void close(port::UdpSocketId socket) noexcept override;
    // Sends what is queued (the loop calls it before it waits).
    void flush() noexcept;

private:
    struct Socket {
        int fd = -1;
        int family = 0;
        port::UdpReceiver* receiver = nullptr;
    };
    struct Queued {
        port::UdpSocketId socket = 0;
        socklen_t to_length = 0;
        sockaddr_storage to{};
        std::uint32_t offset = 0;  // in send_arena_
        std::uint32_t length = 0;
    };
    void on_fd_events(int fd, std::uint32_t events) noexcept override;
    void before_wait() noexcept override { flush(); }
    Socket* lookup(port::UdpSocketId socket) noexcept;
    void receive_single(std::size_t index) noexcept;
    void receive_batches(std::size_t index) noexcept;
    [[nodiscard]] bool deliver(std::size_t index, int fd, const sockaddr_storage& from,
                               std::span<const std::uint8_t> buffer, std::size_t segment_bytes) noexcept;
    [[nodiscard]] std::size_t run_end(std::size_t first) const noexcept;
    std::size_t send_runs(std::size_t first, std::size_t end) noexcept;
    void send_each(std::size_t first, std::size_t end) noexcept;

    EventLoop& loop_;
    UdpBatching batching_ = UdpBatching::offload;
    bool offload_probed_ = false;
    UdpCounters counters_{};
    std::array<Socket, max_sockets> sockets_{};
    std::array<Queued, max_queued_datagrams> queue_{};
    std::size_t queued_ = 0;
    std::size_t arena_used_bytes_ = 0;
    std::array<std::uint8_t, send_arena_bytes> send_arena_{};
    std::array<std::uint8_t, receive_slots * max_datagram_bytes> receive_arena_{};
};

}  // namespace pinhole::posix
