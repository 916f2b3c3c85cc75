// The node's control socket (DESIGN §1 "A node"): client commands (`connect`, `forward`,
// `status`, `down`) attach to the one running node for a key over a 0600 Unix stream socket and
// speak apps/node/control_protocol.h. A `connect` session's socket becomes the stream itself;
// a `forward` session owns a TCP listener whose connections become streams, for as long as the
// command stays attached.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/node/control_protocol.h"
#include "core/overlay/dns_client.h"
#include "core/overlay/service_directory.h"
#include "core/overlay/streams.h"
#include "core/overlay/udp_flows.h"
#include "port/posix/event_loop.h"
#include "port/posix/tcp.h"
#include "port/udp.h"

namespace pinhole::node {

// What a control session needs from the node.
class NodeControl {
public:
    [[nodiscard]] virtual std::optional<overlay::PeerId> peer_by_name(std::string_view name) = 0;
    [[nodiscard]] virtual net::IpAddress peer_overlay_address(overlay::PeerId peer) = 0;
    [[nodiscard]] virtual overlay::StreamTable& streams() = 0;
    [[nodiscard]] virtual overlay::ServiceDirectory& directory() = 0;
    [[nodiscard]] virtual overlay::DnsClient& names() = 0;  // host names, resolved at the agent
    [[nodiscard]] virtual port::Clock& clock() = 0;
    [[nodiscard]] virtual port::Udp& udp() = 0;
    [[nodiscard]] virtual overlay::UdpFlows& udp_flows() = 0;
    [[nodiscard]] virtual std::vector<std::string> status_lines() = 0;
    virtual void stop() = 0;

protected:
    ~NodeControl() = default;
};

class ControlSession;

class ControlServer final : private posix::FdHandler {
public:
    static constexpr std::size_t max_sessions = 64;

    ControlServer(posix::EventLoop& loop, posix::PosixTcp& tcp, NodeControl& node) noexcept;
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;
    ~ControlServer();

    // Listens at `path` (mode 0600). A stale socket file (nobody answering) is replaced; a live
    // one means another node runs with this key: Errc::already_exists.
    [[nodiscard]] Status open(const std::string& path);
    // Sessions that finished (called from the node's loop, outside their callbacks).
    void collect();

    posix::PosixTcp& tcp() { return tcp_; }
    NodeControl& node() { return node_; }

private:
    void on_fd_events(int fd, std::uint32_t events) noexcept override;

    posix::EventLoop& loop_;
    posix::PosixTcp& tcp_;
    NodeControl& node_;
    int fd_ = -1;
    std::string path_;
    std::vector<std::unique_ptr<ControlSession>> sessions_;
};

// The socket path for a node key: $PINHOLE_CONTROL_DIR, else $XDG_RUNTIME_DIR/pinhole, else
// /tmp/pinhole-<uid>; the file is named after the key's overlay address (one node per key).
[[nodiscard]] std::string control_socket_path(const net::IpAddress& overlay_address);
// Creates the socket's directory (0700) if missing; false with a message on stderr otherwise.
[[nodiscard]] bool prepare_control_directory(const std::string& socket_path);

}  // namespace pinhole::node
