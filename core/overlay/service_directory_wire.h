// The service directory: which services of an agent a peer may reach, and on which port of the
// agent's overlay address. The agent answers one UDP datagram on service_directory_port with
// one datagram; both are ASCII text, every line ending in LF and nothing after the last one:
//
//   request:  pinhole-services/1 <id>\n
//   reply:    pinhole-services/1 <id>\n
//             <name> <port>\n          (zero to config::max_services lines, names unique)
//
// <id> is 1..8 lowercase hex digits, chosen by the client and echoed so it can match replies
// (it is written without leading zeros; they are read). <name> follows the config's rule for
// service names (is_valid_name); <port> is 1..65535 in decimal without leading zeros or sign.
// A datagram is at most service_directory_max_datagram_bytes (a full list needs about 640).
// Parsers are strict: anything else, a CR or a NUL included, is Errc::malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "config/schema.h"
#include "core/util/fixed_vector.h"
#include "core/util/result.h"

namespace pinhole::overlay {

inline constexpr std::uint16_t service_directory_port = 7070;
// Below every overlay MTU (1280 at least) with the IPv6 and UDP headers.
inline constexpr std::size_t service_directory_max_datagram_bytes = 1200;
inline constexpr std::string_view service_directory_tag = "pinhole-services/1";

struct PublishedService {
    config::Name name;
    std::uint16_t port = 0;
    friend bool operator==(const PublishedService&, const PublishedService&) = default;
};
using ServiceList = FixedVector<PublishedService, config::max_services>;

struct DirectoryReply {
    std::uint32_t id = 0;
    ServiceList services;
};

// A peer or service name as the config accepts it (config/values.cc, check_name): 1 to
// config::max_name_chars of lowercase letters, digits and '-', starting with a letter and not
// ending with '-'. Names become DNS labels (<service>.<agent>).
[[nodiscard]] bool is_valid_name(std::string_view text) noexcept;

// Each writer returns the datagram's length (no NUL is added). Errc::no_space when `out` is
// too small; Errc::invalid_argument for a service list the parser would refuse (a bad name,
// port 0, a duplicate name).
[[nodiscard]] Result<std::size_t> encode_directory_request(std::uint32_t id,
                                                           std::span<char> out) noexcept;
[[nodiscard]] Result<std::size_t> encode_directory_reply(std::uint32_t id,
                                                         const ServiceList& services,
                                                         std::span<char> out) noexcept;

// The request's id, or Errc::malformed.
[[nodiscard]] Result<std::uint32_t> parse_directory_request(
    std::span<const std::uint8_t> datagram) noexcept;
// The reply's id and services in the order sent, or Errc::malformed.
[[nodiscard]] Result<DirectoryReply> parse_directory_reply(
    std::span<const std::uint8_t> datagram) noexcept;

// The port of the service called `name`, if the list has it.
[[nodiscard]] std::optional<std::uint16_t> find_service_port(const ServiceList& services,
                                                             std::string_view name) noexcept;

}  // namespace pinhole::overlay
