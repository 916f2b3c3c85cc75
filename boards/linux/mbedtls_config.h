/* mbedTLS configuration of the Linux board: the crypto every board has, plus TLS 1.2 for the
 * relay channel's tls:// transport (client in core, server in the gateway) and the X.509 and
 * ECDSA P-256 code `pinhole gateway init` needs to make its self-signed certificate. */
#ifndef PINHOLE_MBEDTLS_CONFIG_H
#define PINHOLE_MBEDTLS_CONFIG_H

#include "board_budget.h"
#include "../common/mbedtls_config_crypto.h"

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_AESNI_C /* compiled only on x86-64; portable AES elsewhere */

/* TLS 1.2 with ECDHE only (forward secrecy), ECDSA or RSA certificates, AES-GCM or
 * ChaCha20-Poly1305 records. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
#define MBEDTLS_SHA512_C /* SHA-384 suites and signatures */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_ERROR_C /* mbedtls_strerror for the gateway's messages */

/* Records we send stay small (relay frames are < 2 KiB); what we receive may come from any
 * server (nginx sends 16 KiB records), so the input buffer keeps the protocol's maximum. */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#if !PINHOLE_BOARD_HAS_TLS
#error "the Linux board's budget must say PINHOLE_BOARD_HAS_TLS 1: this configuration builds TLS"
#endif
/* One TLS client: two record buffers, the handshake's ECDHE and certificate parsing, the CA. */
#if PINHOLE_BUDGET_MBEDTLS_ARENA_BYTES < MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN + 24 * 1024
#error "the Linux board's mbedTLS arena is too small for a TLS client"
#endif

#include "mbedtls/check_config.h"
#endif
