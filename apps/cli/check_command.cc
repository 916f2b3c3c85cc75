// check: validate a node or gateway configuration the way `nginx -t` does: load it, load the
// node's key, print what was resolved, and exit non-zero on any error.
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "apps/cli/commands.h"
#include "config/load.h"
#include "core/crypto/ct.h"
#include "core/keys/keys.h"
#include "core/util/format.h"
#include "port/posix/services.h"
#include "port/posix/storage.h"

namespace pinhole::cli {
namespace {

// Only a gateway config has these at the top level (DESIGN §3b).
bool looks_like_gateway_config(const char* path) {
    std::ifstream in(path);
    std::string line;
    for (int count = 0; count < 10000 && std::getline(in, line); count++) {
        if (line.rfind("authorized_keys:", 0) == 0 || line.rfind("listen:", 0) == 0 ||
            line.rfind("limits:", 0) == 0) {
            return true;
        }
    }
    return false;
}

template <typename... Arguments>
void line(std::string_view format, const Arguments&... arguments) {
    std::array<char, 512> text{};
    const std::size_t length = format_to(text, format, arguments...);
    std::printf("%.*s\n", static_cast<int>(length), text.data());
}

std::string key_text(const config::KeyBytes& key) {
    std::array<char, keys::key_text_bytes + 1> text{};
    return keys::format_key(key, text).ok() ? std::string(text.data()) : std::string("?");
}

// The node's public key: from key.private_key, else from data_dir's agent_key (never created
// here: check changes nothing).
bool print_identity(const config::NodeConfig& node) {
    Result<keys::KeyPair> pair = Errc::not_found;
    std::string source = "key.private_key";
    if (node.key.has_private_key) {
        pair = keys::key_pair_from_private(node.key.private_key);
    } else if (node.key.data_dir.size() != 0) {
        source = std::string(node.key.data_dir.view()) + "/" + keys::private_key_record;
        posix::PosixStorage storage;
        posix::PosixRandom random;
        const Status opened = storage.open(node.key.data_dir.view(), false);
        pair = opened.ok() ? keys::load_identity({}, storage, random, false)
                           : Result<keys::KeyPair>(opened.error());
    }
    if (!pair.ok() && pair.error() == Errc::not_found) {
        line("public key:      none yet: the node creates {} at first start", source);
        return node.key.data_dir.size() != 0;
    }
    if (!pair.ok()) {
        explain_identity_error("check", pair.error(), source.c_str());
        return false;
    }
    line("public key:      {} (from {})", key_text(pair.value().public_key), source);
    line("overlay address: {}", keys::overlay_address(pair.value().public_key));
    crypto::zeroize_object(pair.value());
    return true;
}

void print_node(const config::NodeConfig& node) {
    line("listen port:     {} (UDP){}", node.listen_port, node.listen_port == 0 ? ", any free port" : "");
    line("mtu:             {}", node.mtu_bytes);
    for (const auto& address : node.address) line("address:         {}/{}", address.address, address.prefix_length);
    if (node.has_gateway) {
        static constexpr std::string_view schemes[] = {"tcp", "tls", "ws", "wss"};
        const config::HostPort& server = node.gateway.url.server;
        const auto scheme = schemes[static_cast<std::size_t>(node.gateway.url.transport) % 4];
        if (server.host_name.size() != 0) {
            line("gateway:         {}://{}:{}{} key {}", scheme, server.host_name.view(),
                 server.endpoint.port, node.gateway.url.path.view(), key_text(node.gateway.public_key));
        } else {
            line("gateway:         {}://{}{} key {}", scheme, server.endpoint,
                 node.gateway.url.path.view(), key_text(node.gateway.public_key));
        }
    }
    for (const auto& service : node.services) {
        line("service:         {} on port {} -> {}{}", service.name.view(), service.port,
             service.target.host_name.size() != 0 ? service.target.host_name.view() : std::string_view(),
             service.target.endpoint);
    }
    for (const auto& peer : node.peers) {
        line("peer:            {} key {}, {} allow rule(s){}", peer.name.view(), key_text(peer.public_key),
             peer.allow.size(), peer.has_endpoint ? ", static endpoint" : "");
    }
}

void print_gateway(const config::GatewayConfig& gateway) {
    for (const auto& endpoint : gateway.listen) line("listen:          {} (TCP{})", endpoint, gateway.has_tls ? ", TLS" : "");
    for (const auto& endpoint : gateway.udp) line("udp:             {}", endpoint);
    line("authorized_keys: {}", gateway.authorized_keys.view());
    line("limits:          {} channels, {} bytes per channel buffer", gateway.limits.max_channels,
         gateway.limits.channel_buffer_bytes);
}

}  // namespace

int check(Arguments arguments) {
    if (arguments.size() != 2 || std::string_view(arguments[0]) != "-c") {
        complain("check", "usage: pinhole check -c FILE");
        return 2;
    }
    const char* path = arguments[1];
    if (looks_like_gateway_config(path)) {
        const auto gateway = config::load_gateway_config(path);
        if (!gateway.ok()) {
            std::fprintf(stderr, "%s\n", gateway.error().to_string().c_str());
            return 1;
        }
        line("config:          {} (gateway)", std::string_view(path));
        print_gateway(gateway.value());
    } else {
        const auto node = config::load_node_config(path);
        if (!node.ok()) {
            std::fprintf(stderr, "%s\n", node.error().to_string().c_str());
            return 1;
        }
        line("config:          {} (node)", std::string_view(path));
        if (!print_identity(node.value())) return 1;
        print_node(node.value());
    }
    std::printf("pinhole check: %s is ok\n", path);
    return 0;
}

}  // namespace pinhole::cli
