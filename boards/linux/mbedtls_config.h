/* mbedTLS configuration of the Linux board. */
#ifndef PINHOLE_MBEDTLS_CONFIG_H
#define PINHOLE_MBEDTLS_CONFIG_H

#include "board_budget.h"
#include "../common/mbedtls_config_crypto.h"

#define MBEDTLS_HAVE_ASM

#if PINHOLE_BUDGET_MBEDTLS_ARENA_BYTES < 16 * 1024
#error "the Linux board's mbedTLS arena is too small for a TLS client"
#endif

#include "mbedtls/check_config.h"
#endif
