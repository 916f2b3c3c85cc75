// The value kinds of the schema, each read from one YAML scalar with its own checks and a
// message that says what was expected. The text-level parsers return a Problem: nothing when
// the text is good, else the reason, which the callers prefix with the key's path and the text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/schema.h"
#include "config/walk.h"

namespace pinhole::config {

using Problem = std::optional<std::string>;

// Text level ----------------------------------------------------------------------------

// A port 1..65535 in decimal.
[[nodiscard]] Problem parse_port(std::string_view text, std::uint16_t& port);
// A DNS name: labels of letters, digits, '-' and '_', at most 253 characters; stored lowercase.
// A name whose last label is all digits must be an IPv4 address instead (10.0.0.300 is a typo).
[[nodiscard]] Problem parse_host_name(std::string_view text, HostName& name);
// "192.168.1.0/24", "fd00::/64", or a bare address for one host; host bits must be zero.
[[nodiscard]] Problem parse_network(std::string_view text, net::Prefix& network);
// "80", "80,443", "1000-2000", "*" (every port); at most max_port_ranges_per_rule parts.
[[nodiscard]] Problem parse_port_list(std::string_view text,
                                      FixedVector<PortRange, max_port_ranges_per_rule>& ports);

// YAML level: each fails through the walker, naming the node ------------------------------

// A WireGuard key: base64 of 32 bytes. A secret one is never echoed in the message.
enum class KeySecrecy : std::uint8_t { public_key, private_key };
[[nodiscard]] Status read_key(Walker& walker, const YamlNode& node, std::string_view where,
                              KeySecrecy secrecy, KeyBytes& key);
// 64 hex digits, optionally with colons between bytes (as openssl prints fingerprints).
[[nodiscard]] Status read_sha256(Walker& walker, const YamlNode& node, std::string_view where,
                                 std::array<std::uint8_t, 32>& digest);
// A file or directory; a relative path is resolved against the config file's directory.
[[nodiscard]] Status read_path(Walker& walker, const YamlNode& node, std::string_view where,
                               Path& path);
// A peer or service name: lowercase letters, digits and '-', starting with a letter.
[[nodiscard]] Status read_name(Walker& walker, const YamlNode& node, std::string_view where,
                               Name& name);
// Fails on a name that is not a valid name, as read_name does, for names that are keys.
[[nodiscard]] Status check_name(Walker& walker, const YamlNode& node, std::string_view where,
                                std::string_view text);
// "host:port", "192.0.2.1:22" or "[2001:db8::1]:22"; the host may be a name to resolve later.
[[nodiscard]] Status read_host_port(Walker& walker, const YamlNode& node, std::string_view where,
                                    HostPort& destination);
// A literal "address:port" to bind ("[::]:8443", "0.0.0.0:3478"); port 1..65535.
[[nodiscard]] Status read_bind_endpoint(Walker& walker, const YamlNode& node,
                                        std::string_view where, net::Endpoint& endpoint);
// An overlay address of this node, "10.77.0.2" or "10.77.0.2/24".
[[nodiscard]] Status read_interface_address(Walker& walker, const YamlNode& node,
                                            std::string_view where, InterfaceAddress& address);
[[nodiscard]] Status read_network(Walker& walker, const YamlNode& node, std::string_view where,
                                  net::Prefix& network);
// tcp://host:port, tls://host:port, ws://host[:port][/path], wss://host[:port][/path].
[[nodiscard]] Status read_gateway_url(Walker& walker, const YamlNode& node, std::string_view where,
                                      GatewayUrl& url);

}  // namespace pinhole::config
