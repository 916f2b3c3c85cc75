// Any bytes given to the service directory's parsers: nothing crashes, a parsed reply writes
// back to a datagram that parses to the same id and list, and a parsed request to one with
// the same id.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/overlay/service_directory_wire.h"

namespace {

using namespace pinhole::overlay;

std::span<const std::uint8_t> as_bytes(std::span<const char> text, std::size_t length) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), length};
}

void check_request(std::span<const std::uint8_t> datagram) {
    const auto id = parse_directory_request(datagram);
    if (!id.ok()) {
        if (id.error() != pinhole::Errc::malformed) __builtin_trap();
        return;
    }
    std::array<char, service_directory_max_datagram_bytes> out{};
    const auto length = encode_directory_request(id.value(), out);
    if (!length.ok()) __builtin_trap();
    const auto again = parse_directory_request(as_bytes(out, length.value()));
    if (!again.ok() || again.value() != id.value()) __builtin_trap();
    // Ids are read with or without leading zeros, so only a canonical datagram is the same.
    if (length.value() > datagram.size()) __builtin_trap();
}

void check_reply(std::span<const std::uint8_t> datagram) {
    const auto reply = parse_directory_reply(datagram);
    if (!reply.ok()) {
        if (reply.error() != pinhole::Errc::malformed) __builtin_trap();
        return;
    }
    const ServiceList& services = reply.value().services;
    for (const PublishedService& service : services) {
        if (!is_valid_name(service.name.view()) || service.port == 0) __builtin_trap();
        if (find_service_port(services, service.name.view()) != service.port) __builtin_trap();
    }
    std::array<char, service_directory_max_datagram_bytes> out{};
    const auto length = encode_directory_reply(reply.value().id, services, out);
    if (!length.ok() || length.value() > datagram.size()) __builtin_trap();
    const auto again = parse_directory_reply(as_bytes(out, length.value()));
    if (!again.ok() || again.value().id != reply.value().id) __builtin_trap();
    if (again.value().services.size() != services.size()) __builtin_trap();
    for (std::size_t i = 0; i < services.size(); ++i) {
        if (!(again.value().services[i] == services[i])) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> datagram(data, size);
    check_request(datagram);
    check_reply(datagram);
    return 0;
}
