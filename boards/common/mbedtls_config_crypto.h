/* The mbedTLS modules every board needs, and how mbedTLS gets memory. Included by each board's
 * mbedtls_config.h, which adds its own modules (TLS on Linux) before check_config.h runs.
 *
 * Memory: mbedTLS never calls the C library's allocator. MBEDTLS_PLATFORM_MEMORY routes
 * mbedtls_calloc/free through function pointers whose defaults refuse every request; a port
 * that needs mbedTLS memory (TLS) installs a static arena with mbedtls_memory_buffer_alloc_init
 * at start-up. */
#ifndef PINHOLE_MBEDTLS_CONFIG_CRYPTO_H
#define PINHOLE_MBEDTLS_CONFIG_CRYPTO_H

#include <stddef.h>

/* WireGuard's AEAD and the gateway channel's. */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_HKDF_C
/* The relay channel's WebSocket handshake: Sec-WebSocket-Accept is base64(SHA-1(key + GUID))
 * (RFC 6455). Not used for anything secret; X.509 and TLS keep SHA-1 out of their defaults. */
#define MBEDTLS_SHA1_C

/* X25519 from Everest (HACL*-derived, constant time, heap free when its scalar multiplication
 * is called directly). It is compiled only as an ECDH variant, hence ECDH/ECP/bignum. */
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECP_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
/* ECP's internal blinding RNG serves the generic bignum path, which we never call. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG

#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8 /* its default (4) misaligns 64-bit fields */
#define MBEDTLS_PLATFORM_STD_CALLOC pinhole_mbedtls_calloc_refused
#define MBEDTLS_PLATFORM_STD_FREE pinhole_mbedtls_free_refused

#ifdef __cplusplus
extern "C" {
#endif
/* Defined in boards/common/mbedtls_no_heap.c: always NULL / a no-op. */
void *pinhole_mbedtls_calloc_refused(size_t count, size_t size);
void pinhole_mbedtls_free_refused(void *pointer);
#ifdef __cplusplus
}
#endif

#endif
