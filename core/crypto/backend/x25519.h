// What an X25519 backend provides (core/crypto/<backend>/x25519.cc): the bare scalar
// multiplication. The front end (core/crypto/x25519.cc) has already clamped the scalar and
// cleared the point's top bit, and it checks the result; a backend may overwrite its inputs
// (they are the front end's stack copies) and must run in time independent of the scalar.
#pragma once

#include "core/crypto/x25519.h"

namespace pinhole::crypto::backend {

void x25519_scalarmult(X25519Key& result, X25519Key& clamped_scalar, X25519Key& point) noexcept;

}  // namespace pinhole::crypto::backend
