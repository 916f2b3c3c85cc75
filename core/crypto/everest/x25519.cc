// X25519 from mbedTLS's Everest directory (HACL*, formally verified, constant time). Called
// directly: mbedTLS's ECP wrapper around it allocates. Everest uses 128-bit arithmetic, which
// 32-bit cores emulate slowly: such boards may bring their own backend.
#include "core/crypto/backend/x25519.h"

#include <cstdint>

extern "C" void Hacl_Curve25519_crypto_scalarmult(std::uint8_t* out, std::uint8_t* scalar,
                                                  std::uint8_t* point);

namespace pinhole::crypto::backend {

void x25519_scalarmult(X25519Key& result, X25519Key& clamped_scalar, X25519Key& point) noexcept {
    Hacl_Curve25519_crypto_scalarmult(result.data(), clamped_scalar.data(), point.data());
}

}  // namespace pinhole::crypto::backend
