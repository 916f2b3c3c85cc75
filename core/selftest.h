// Known-answer tests of the cryptography the core relies on, run at start-up by every node and
// firmware image: a miscompiled or misconfigured primitive on a new board or compiler stops the
// node before it talks to anyone.
#pragma once

#include <cstdint>

namespace pinhole {

enum class SelfTestResult : std::uint8_t {
    ok,
    x25519_mismatch,         // RFC 7748 section 5.2, first vector
    chachapoly_setup_failed,
    chachapoly_tag_mismatch, // RFC 8439 section 2.8.2
    chachapoly_open_failed,  // the sealed vector does not open again
    blake2s_mismatch,        // RFC 7693 appendix B ("abc")
};

[[nodiscard]] SelfTestResult run_crypto_self_test() noexcept;
[[nodiscard]] const char* describe(SelfTestResult result) noexcept;

}  // namespace pinhole
