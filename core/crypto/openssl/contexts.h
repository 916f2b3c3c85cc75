// The OpenSSL backend's EVP contexts: one for sealing and one for opening per thread, made on
// first use (in the programs, the start-up self-test) and reused for every packet after it, so
// that sealing and opening never allocate. They are the backend's only state and hold nothing
// of a node between calls: each call sets key and nonce, and wipes the key before returning.
//
// This file's .cc is its own library (pinhole_crypto_openssl, core/crypto/CMakeLists.txt): it
// is the one place where core code keeps static storage, a thread_local cache that
// tests/build/check-no-global-state would rightly flag in pinhole_core.
#pragma once

#include <openssl/types.h>

namespace pinhole::crypto::openssl {

enum class AeadDirection { seal, open };

// This thread's ChaCha20-Poly1305 context for `direction`, cipher already fetched; nullptr if
// OpenSSL cannot make one (out of memory, or no provider offers the cipher).
[[nodiscard]] EVP_CIPHER_CTX* chacha20poly1305_context(AeadDirection direction) noexcept;

}  // namespace pinhole::crypto::openssl
