// What this build is: pinhole's version and the versions of what it was built with.
#pragma once

namespace pinhole {

struct BuildInfo {
    const char* version;       // pinhole's release, e.g. "0.1.0"
    const char* git_revision;  // `git describe` of the tree it was built from
    const char* board;         // boards/<name>
    const char* lwip_version;
    const char* mbedtls_version;
    const char* aead_backend;  // core/crypto's ChaCha20-Poly1305 backend (mbedtls, openssl)
};

[[nodiscard]] BuildInfo build_info() noexcept;

}  // namespace pinhole
