// The mps2 firmware image: prints its banner, proves the crypto, entropy and lwIP it links,
// and exits with the result. The agent's node loop joins here in later issues.
#include <lwip/init.h>

#include <cstdint>
#include <cstring>

#include "board_budget.h"
#include "boards/mps2/mps2.h"
#include "core/selftest.h"
#include "core/version.h"
#include "port/lwip/board.h"

namespace pinhole::mps2 {
namespace {

void print(const char* text) noexcept { board::console_write(text, std::strlen(text)); }

bool entropy_works() noexcept {
    std::uint8_t bytes[16] = {};
    if (!board::random_bytes(bytes, sizeof bytes)) return false;
    std::uint8_t any = 0;
    for (const std::uint8_t b : bytes) any |= b;
    return any != 0;  // 16 zero bytes from a real source: 2^-128
}

}  // namespace

int firmware_main() noexcept {
    const BuildInfo info = build_info();
    print("pinhole ");
    print(info.version);
    print(" (");
    print(info.git_revision);
    print(") firmware for ");
    print(info.board);
    print(" (" PINHOLE_BOARD_CPU "), lwIP ");
    print(info.lwip_version);
    print(", mbedTLS ");
    print(info.mbedtls_version);
    print("\n");

    const SelfTestResult crypto = run_crypto_self_test();
    print("crypto self-test: ");
    print(describe(crypto));
    print("\n");
    const bool entropy = entropy_works();
    print(entropy ? "entropy: ok\n" : "entropy: FAILED (semihosting /dev/urandom)\n");
    lwip_init();
    print("lwIP: initialised\n");
    return crypto == SelfTestResult::ok && entropy ? 0 : 1;
}

}  // namespace pinhole::mps2
