// The mps2 firmware image: prints its banner through the port's log, proves the crypto, the
// entropy source and UDP on lwIP (through its loopback interface), and exits with the result.
// The agent's node loop joins here in later issues.
#include <lwip/init.h>
#include <lwip/netif.h>
#include <lwip/timeouts.h>

#include <array>
#include <cstdint>

#include "board_budget.h"
#include "boards/mps2/mps2.h"
#include "core/selftest.h"
#include "core/util/format.h"
#include "core/version.h"
#include "port/lwip/platform.h"

namespace pinhole::mps2 {
namespace {

template <typename... Arguments>
void log_line(port::LogSink& log, std::string_view format, const Arguments&... arguments) noexcept {
    std::array<char, 160> line{};
    const std::size_t length = format_to(line, format, arguments...);
    log.write(port::LogLevel::info, std::string_view(line.data(), length));
}

bool entropy_works(port::Random& random) noexcept {
    std::array<std::uint8_t, 16> bytes{};
    if (!random.fill(bytes).ok()) return false;
    std::uint8_t any = 0;
    for (const std::uint8_t b : bytes) any |= b;
    return any != 0;  // 16 zero bytes from a real source: 2^-128
}

struct Inbox final : port::UdpReceiver {
    void on_datagram(port::UdpSocketId, const net::Endpoint&,
                     std::span<const std::uint8_t> payload) noexcept override {
        received_bytes = payload.size();
        first_byte = payload.empty() ? 0 : payload[0];
    }
    std::size_t received_bytes = 0;
    std::uint8_t first_byte = 0;
};

// One datagram from one lwIP UDP socket to another through the port, over 127.0.0.1.
bool udp_loopback_works(port::Udp& udp) noexcept {
    Inbox sender_inbox, receiver_inbox;
    const net::IpAddress loopback = net::IpAddress::v4(127, 0, 0, 1);
    const Result<port::UdpSocketId> sender = udp.open(net::Endpoint{loopback, 0}, sender_inbox);
    const Result<port::UdpSocketId> receiver = udp.open(net::Endpoint{loopback, 7}, receiver_inbox);
    if (!sender.ok() || !receiver.ok()) return false;
    const std::uint8_t ping[] = {0x70, 0x69, 0x6e, 0x67};
    bool delivered = udp.send(sender.value(), net::Endpoint{loopback, 7}, ping).ok();
    for (int round = 0; delivered && round < 8 && receiver_inbox.received_bytes == 0; round++) {
        netif_poll_all();  // the loopback interface delivers when polled (NO_SYS)
    }
    delivered = delivered && receiver_inbox.received_bytes == sizeof ping &&
                receiver_inbox.first_byte == ping[0];
    udp.close(sender.value());
    udp.close(receiver.value());
    return delivered;
}

}  // namespace

int firmware_main() noexcept {
    lwip_port::LwipPlatform platform_instance;
    const port::Platform platform = platform_instance.platform();
    const BuildInfo info = build_info();
    log_line(platform.log, "pinhole {} ({}) firmware for {} (" PINHOLE_BOARD_CPU "), lwIP {}, mbedTLS {}",
             info.version, info.git_revision, info.board, info.lwip_version, info.mbedtls_version);

    const SelfTestResult crypto = run_crypto_self_test();
    log_line(platform.log, "crypto self-test: {}", describe(crypto));
    const bool entropy = entropy_works(platform.random);
    log_line(platform.log, "entropy: {}", entropy ? "ok" : "FAILED (semihosting /dev/urandom)");
    lwip_init();
    const bool udp = udp_loopback_works(platform.udp);
    log_line(platform.log, "udp over lwIP loopback: {}", udp ? "ok" : "FAILED");
    log_line(platform.log, "uptime: {} ms", platform.clock.monotonic_ms());
    return crypto == SelfTestResult::ok && entropy && udp ? 0 : 1;
}

}  // namespace pinhole::mps2
