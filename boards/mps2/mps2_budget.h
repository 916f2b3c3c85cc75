/* Memory budget shared by the mps2 boards (4 MB code, 4 MB RAM under QEMU; a real part has far
 * less, so this stays small). Plain #defines so C (lwIP, mbedTLS) can use them. */
#ifndef PINHOLE_MPS2_BUDGET_H
#define PINHOLE_MPS2_BUDGET_H

#define PINHOLE_BUDGET_MAX_PEERS 4
#define PINHOLE_BUDGET_MAX_ALLOWED_IPS 16     /* allowed-source prefixes over all peers */
#define PINHOLE_BUDGET_MAX_STREAMS 4
#define PINHOLE_BUDGET_OVERLAY_MTU_BYTES 1420
#define PINHOLE_BUDGET_STREAM_CHUNK_BYTES 512              /* what a stream reads from its socket at once */
#define PINHOLE_BUDGET_TCP_WINDOW_BYTES (8 * 1024)
#define PINHOLE_BUDGET_MAX_UDP_FLOWS 2
#define PINHOLE_BUDGET_MAX_UDP_SOCKETS 4
#define PINHOLE_BUDGET_MAX_TCP_CONNECTIONS 8  /* outgoing: to the gateway and to services */
#define PINHOLE_BUDGET_MAX_RESOLUTIONS 2      /* name resolutions in flight */
#define PINHOLE_BUDGET_RELAY_SEND_BYTES (8 * 1024)
#define PINHOLE_BUDGET_RELAY_RECEIVE_BYTES (4 * 1024)
#define PINHOLE_BUDGET_MBEDTLS_ARENA_BYTES (16 * 1024)
#define PINHOLE_BOARD_HAS_TLS 0                /* relay over tcp:// only; tls:// is refused */
#define PINHOLE_BUDGET_TLS_CA_BYTES 0

#endif
