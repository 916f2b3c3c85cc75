/* mbedTLS configuration of the mps2 boards: crypto only, no OS, no time, no file system. */
#ifndef PINHOLE_MBEDTLS_CONFIG_H
#define PINHOLE_MBEDTLS_CONFIG_H

#include "../common/mbedtls_config_crypto.h"

/* bignum's inline assembly assumes DSP instructions a Cortex-M3 lacks: portable C instead. */
#undef MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY

#include "mbedtls/check_config.h"
#endif
