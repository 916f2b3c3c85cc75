#include "core/version.h"

#include <lwip/init.h>
#include <mbedtls/version.h>

#include "board_budget.h"
#include "core/version_info.h"

namespace pinhole {

BuildInfo build_info() noexcept {
    return BuildInfo{
        .version = PINHOLE_VERSION,
        .git_revision = PINHOLE_GIT_REVISION,
        .board = PINHOLE_BOARD_NAME,
        .lwip_version = LWIP_VERSION_STRING,
        .mbedtls_version = MBEDTLS_VERSION_STRING,
        .aead_backend = PINHOLE_AEAD_BACKEND,
    };
}

}  // namespace pinhole
