// Capacities of the simulation, fixed at compile time like everything in a port. A World holds
// all of them inline (a few MiB): a test keeps it in a fixture or another heap object, never
// on the stack.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pinhole::sim {

inline constexpr std::size_t max_hosts_per_world = 16;
inline constexpr std::size_t max_addresses_per_host = 4;
inline constexpr std::size_t max_host_label_bytes = 15;  // "alice", "gateway": for log lines

// Datagrams, stream packets, resolver answers and alarms waiting for their delivery time.
inline constexpr std::size_t max_events_in_flight = 1024;
// Kept free for stream control (window updates, resets, notifications) so that a flood of
// datagrams cannot wedge a stream: only datagrams and stream data use the rest.
inline constexpr std::size_t events_reserved_for_control = 64;
// A datagram larger than this is refused (Errc::invalid_argument), as a 1500-byte MTU would.
inline constexpr std::size_t max_datagram_bytes = 1500;

inline constexpr std::size_t max_udp_sockets_per_host = 8;
inline constexpr std::size_t max_tcp_connections_per_host = 16;  // outgoing and accepted
inline constexpr std::size_t max_listeners_per_host = 4;
// Per direction and side: a writer's unsent bytes, a reader's unread bytes.
inline constexpr std::size_t stream_buffer_bytes = 4096;
inline constexpr std::size_t stream_segment_bytes = 1024;  // the MSS of the stream model

inline constexpr std::size_t max_resolver_names = 32;
inline constexpr std::size_t max_resolutions_per_host = 8;

inline constexpr std::size_t max_storage_records_per_host = 8;
inline constexpr std::size_t max_storage_name_bytes = 64;
inline constexpr std::size_t max_storage_record_bytes = 512;


inline constexpr std::size_t max_log_lines_kept = 64;
inline constexpr std::size_t max_log_line_bytes = 320;  // a core line (256) and its prefix

}  // namespace pinhole::sim
