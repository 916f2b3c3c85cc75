#include "core/crypto/x25519.h"

#include "core/crypto/backend/x25519.h"
#include "core/crypto/ct.h"

namespace pinhole::crypto {
namespace {

constexpr X25519Key x25519_base_point = {9};

}  // namespace

void x25519_clamp(X25519Key& private_key) noexcept {
    private_key[0] &= 248;
    private_key[31] &= 127;
    private_key[31] |= 64;
}

Status x25519(X25519Key& shared, const X25519Key& private_key,
              const X25519Key& public_key) noexcept {
    X25519Key scalar = private_key;
    x25519_clamp(scalar);
    X25519Key point = public_key;
    point[31] &= 127;  // RFC 7748 section 5: the top bit of a u-coordinate is ignored
    X25519Key result;
    backend::x25519_scalarmult(result, scalar, point);
    const bool weak = constant_time_is_zero(result);
    shared = result;
    zeroize_object(scalar);
    zeroize_object(result);
    return weak ? Status(Errc::weak_key) : Status();
}

Status x25519_public_key(X25519Key& public_key, const X25519Key& private_key) noexcept {
    return x25519(public_key, private_key, x25519_base_point);
}

Status x25519_generate(X25519Key& private_key, port::Random& random) noexcept {
    const Status filled = random.fill(private_key);
    if (filled.ok()) {
        x25519_clamp(private_key);
    } else {
        zeroize_object(private_key);  // never hand out a partially random key
    }
    return filled;
}

}  // namespace pinhole::crypto
