/* Memory budget of the Linux board: every table, queue and pool in core, lwIP and mbedTLS is
 * sized from these numbers at compile time. Plain #defines so C (lwIP, mbedTLS) can use them. */
#ifndef PINHOLE_BOARD_BUDGET_H
#define PINHOLE_BOARD_BUDGET_H

#define PINHOLE_BOARD_NAME "linux"
#define PINHOLE_BUDGET_MAX_PEERS 64
#define PINHOLE_BUDGET_MAX_ALLOWED_IPS 256      /* allowed-source prefixes over all peers */
#define PINHOLE_BUDGET_MAX_STREAMS 32           /* concurrent overlay TCP connections */
#define PINHOLE_BUDGET_OVERLAY_MTU_BYTES 1420   /* WireGuard's default; config may lower it */
#define PINHOLE_BUDGET_STREAM_CHUNK_BYTES (64 * 1024)   /* what a stream reads from its socket at once */
#define PINHOLE_BUDGET_TCP_WINDOW_BYTES (256 * 1024)
#define PINHOLE_BUDGET_MAX_UDP_FLOWS 64         /* UDP through the exit or a forward -u */
#define PINHOLE_BUDGET_MAX_UDP_SOCKETS (PINHOLE_BUDGET_MAX_UDP_FLOWS + 16)
#define PINHOLE_BUDGET_MAX_TCP_CONNECTIONS 256  /* outgoing: to the gateway and to services */
#define PINHOLE_BUDGET_MAX_RESOLUTIONS 16      /* name resolutions in flight */
#define PINHOLE_BUDGET_RELAY_SEND_BYTES (512 * 1024)   /* the relay channel's queue to the gateway */
#define PINHOLE_BUDGET_RELAY_RECEIVE_BYTES (64 * 1024) /* and what one read takes from it */
#define PINHOLE_BUDGET_MBEDTLS_ARENA_BYTES (96 * 1024)  /* TLS to the gateway: records, handshake, CA */
#define PINHOLE_BOARD_HAS_TLS 1                 /* tls:// relay channels */
#define PINHOLE_BUDGET_TLS_CA_BYTES (64 * 1024)  /* a gateway.ca_file, PEM */

#endif
