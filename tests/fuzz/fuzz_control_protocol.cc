// Any bytes given to the control protocol's parsers as one line: nothing crashes, what parses
// writes back to a line that parses to the same thing, and a parsed reply's text is a slice of
// the line.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "apps/node/control_protocol.h"

namespace {

using namespace pinhole::node;

void check_request(std::string_view line) {
    const auto request = parse_request(line);
    if (!request.ok()) {
        if (request.error() != pinhole::Errc::malformed) __builtin_trap();
        return;
    }
    std::array<char, control_line_max_bytes> out{};
    const auto length = format_request(request.value(), out);
    if (!length.ok() || length.value() == 0 || out[length.value() - 1] != '\n') __builtin_trap();
    const auto again = parse_request({out.data(), length.value() - 1});
    if (!again.ok() || !(again.value() == request.value())) __builtin_trap();
}

void check_target(std::string_view text) {
    const auto target = parse_target(text);
    if (!target.ok() && target.error() != pinhole::Errc::malformed) __builtin_trap();
    const auto listen = parse_listen(text);
    if (!listen.ok() && listen.error() != pinhole::Errc::malformed) __builtin_trap();
    // As the CLI uses them: a parsed target in a connect request formats and parses back.
    if (!target.ok()) return;
    Request request;
    request.command = Command::connect;
    if (!request.agent.assign("fuzz").ok()) __builtin_trap();
    request.target = target.value();
    std::array<char, control_line_max_bytes> out{};
    const auto length = format_request(request, out);
    if (!length.ok()) __builtin_trap();
    const auto again = parse_request({out.data(), length.value() - 1});
    if (!again.ok() || !(again.value() == request)) __builtin_trap();
}

void check_reply(std::string_view line) {
    const auto reply = parse_reply(line);
    if (!reply.ok()) {
        if (reply.error() != pinhole::Errc::malformed) __builtin_trap();
        return;
    }
    const std::string_view text = reply.value().text;
    if (!text.empty() && (text.data() < line.data() ||
                          text.data() + text.size() != line.data() + line.size())) {
        __builtin_trap();
    }
    std::array<char, control_line_max_bytes> out{};
    const auto length = format_reply(reply.value().code, text, out);
    // The canonical line is the one parsed, with its LF.
    if (!length.ok() || std::string_view(out.data(), length.value() - 1) != line) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    check_request(line);
    check_target(line);
    check_reply(line);
    return 0;
}
