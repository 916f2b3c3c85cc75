#include "core/crypto/kdf.h"

#include <array>
#include <cstring>

#include "core/crypto/ct.h"
#include "core/crypto/hmac_blake2s.h"

namespace pinhole::crypto {
namespace {

constexpr std::size_t kdf_max_outputs = 3;

// Fills outputs[0..count) with τ1..τcount; τ0 is computed before any output is written, so an
// output may be the chaining key.
void kdf(std::array<Blake2s256*, kdf_max_outputs> outputs, std::size_t count,
         const Blake2s256& chaining_key, std::span<const std::uint8_t> input) noexcept {
    Blake2s256 tau0;
    hmac_blake2s(tau0, chaining_key, input);
    std::array<std::uint8_t, blake2s_256_bytes + 1> previous_and_index;  // τ(i-1) ‖ i
    Blake2s256 tau;
    std::size_t message_bytes = 1;  // τ1 = HMAC(τ0, 0x1): no previous output yet
    for (std::size_t i = 1; i <= count; i++) {
        previous_and_index[message_bytes - 1] = static_cast<std::uint8_t>(i);
        hmac_blake2s(tau, tau0, std::span(previous_and_index).first(message_bytes));
        *outputs[i - 1] = tau;
        std::memcpy(previous_and_index.data(), tau.data(), tau.size());
        message_bytes = previous_and_index.size();
    }
    zeroize_object(tau0);
    zeroize_object(tau);
    zeroize_object(previous_and_index);
}

}  // namespace

void kdf1(Blake2s256& tau1, const Blake2s256& chaining_key,
          std::span<const std::uint8_t> input) noexcept {
    kdf({&tau1, nullptr, nullptr}, 1, chaining_key, input);
}

void kdf2(Blake2s256& tau1, Blake2s256& tau2, const Blake2s256& chaining_key,
          std::span<const std::uint8_t> input) noexcept {
    kdf({&tau1, &tau2, nullptr}, 2, chaining_key, input);
}

void kdf3(Blake2s256& tau1, Blake2s256& tau2, Blake2s256& tau3, const Blake2s256& chaining_key,
          std::span<const std::uint8_t> input) noexcept {
    kdf({&tau1, &tau2, &tau3}, 3, chaining_key, input);
}

}  // namespace pinhole::crypto
