/* lwIP options every board derives the same way from its board_budget.h, and the checks that
 * keep them consistent. Included at the end of each board's lwipopts.h. */
#ifndef PINHOLE_LWIPOPTS_DERIVED_H
#define PINHOLE_LWIPOPTS_DERIVED_H

/* No threads, no BSD socket layer: the node's event loop drives lwIP's raw API. */
#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_ICMP 1

/* The overlay is a host, never a router: a peer's packet never leaves through another netif. */
#define IP_FORWARD 0
#define LWIP_IPV6_FORWARD 0
/* Each peer netif holds the node's key-derived IPv6 address and up to four configured ones;
 * lwIP keeps slot 0 for a link-local address. */
#define LWIP_IPV6_NUM_ADDRESSES 6
/* One netif per peer (core/overlay): the destination picks the peer whose overlay address or
 * allowed IPs contain it, through lwIP's routing hooks. */
#define LWIP_HOOK_FILENAME "pinhole_lwip_hooks.h"
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) pinhole_overlay_route_ip4((src), (dest))
#define LWIP_HOOK_IP6_ROUTE(src, dest) pinhole_overlay_route_ip6((src), (dest))
/* The exit proxy (core/overlay/streams.h): a peer netif takes TCP to any destination; each
 * exit destination gets its own listener, sharing an address:port with others (SO_REUSE). */
#define LWIP_HOOK_IP4_INPUT_ACCEPT_ANY(netif) pinhole_overlay_accepts_any_ip4(netif)
#define LWIP_HOOK_IP6_INPUT_ACCEPT_ANY(netif) pinhole_overlay_accepts_any_ip6(netif)
#define SO_REUSE 1

/* Memory: lwIP's own static heap and pools, never the C library's allocator. */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0

/* The overlay MTU is the same on relay and direct paths, so the MSS never changes. The IPv6
 * header (40) and TCP header (20) come off the MTU. */
#define PINHOLE_IPV6_TCP_HEADERS_BYTES 60
#define TCP_MSS (PINHOLE_BUDGET_OVERLAY_MTU_BYTES - PINHOLE_IPV6_TCP_HEADERS_BYTES)
#define TCP_WND PINHOLE_BUDGET_TCP_WINDOW_BYTES
#define TCP_SND_BUF PINHOLE_BUDGET_TCP_WINDOW_BYTES
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
/* The default TCP_SNDLOWAT overflows lwIP's u16 check for large send buffers: it must stay
 * 4 MSS below 0xFFFF. */
#define PINHOLE_SNDLOWAT_MAX (0xFFFF - 4 * TCP_MSS - 1)
#define TCP_SNDLOWAT ((TCP_SND_BUF / 2) < PINHOLE_SNDLOWAT_MAX ? (TCP_SND_BUF / 2) : PINHOLE_SNDLOWAT_MAX)
#define TCP_OVERSIZE TCP_MSS
#define LWIP_NETIF_TX_SINGLE_PBUF 1

/* Streams, and as many built-in echo/discard connections (tests, benchmarks). */
#define MEMP_NUM_TCP_PCB (2 * PINHOLE_BUDGET_MAX_STREAMS + 2)
/* The built-in services' listeners, and one per exit destination waiting for its handshake. */
#define MEMP_NUM_TCP_PCB_LISTEN (PINHOLE_BUDGET_MAX_STREAMS + 4)
#define MEMP_NUM_TCP_SEG (PINHOLE_BUDGET_MAX_STREAMS * TCP_SND_QUEUELEN)
/* The node's own UDP services, and one per client-side UDP flow. */
#define MEMP_NUM_UDP_PCB (8 + PINHOLE_BUDGET_MAX_UDP_FLOWS)
/* Every stream's full receive window fits in the pool at once, plus headroom for ACKs and UDP. */
#define PBUF_POOL_SIZE (PINHOLE_BUDGET_MAX_STREAMS * (TCP_WND / TCP_MSS + 1) + 16)
/* Outgoing segments are PBUF_RAM from lwIP's heap: room for every stream's full send buffer in
 * full-sized segments, each with its headers (74), struct pbuf (24) and heap header (16). */
#define PINHOLE_TCP_SEGMENT_OVERHEAD_BYTES 128
#define PINHOLE_TCP_SEGMENTS_PER_SND_BUF (TCP_SND_BUF / TCP_MSS + 1)
#define MEM_SIZE (PINHOLE_BUDGET_MAX_STREAMS * PINHOLE_TCP_SEGMENTS_PER_SND_BUF * \
                  (TCP_MSS + PINHOLE_TCP_SEGMENT_OVERHEAD_BYTES) + 16 * 1024)

/* A board may enable the loopback interface (the firmware's self-test uses it). */
#ifndef LWIP_HAVE_LOOPIF
#define LWIP_HAVE_LOOPIF 0
#endif
#ifndef LWIP_NETIF_LOOPBACK
#define LWIP_NETIF_LOOPBACK LWIP_HAVE_LOOPIF
#endif

#if TCP_WND > 0xFFFF
#define LWIP_WND_SCALE 1
/* A window of exactly 2^(16+n) needs n+1 scale bits: 0xFFFF << n is one short of it. */
#if TCP_WND <= (0xFFFF << 2)
#define TCP_RCV_SCALE 2
#elif TCP_WND <= (0xFFFF << 3)
#define TCP_RCV_SCALE 3
#elif TCP_WND <= (0xFFFF << 5)
#define TCP_RCV_SCALE 5
#else
#error "TCP window larger than lwIP's window scaling supports here"
#endif
#endif

#if TCP_SND_QUEUELEN > 0xFFFF
#error "TCP_SND_QUEUELEN must fit lwIP's u16: lower PINHOLE_BUDGET_TCP_WINDOW_BYTES"
#endif
#if MEMP_NUM_TCP_SEG < TCP_SND_QUEUELEN
#error "MEMP_NUM_TCP_SEG must be at least TCP_SND_QUEUELEN"
#endif
#if PINHOLE_BUDGET_MAX_STREAMS * TCP_WND > PBUF_POOL_SIZE * TCP_MSS
#error "max streams x window must fit in the pbuf pool (no unbounded receive buffering)"
#endif
/* The pool check above counts one pool pbuf per received segment: a whole overlay packet must
 * fit in one (lwIP's default size is TCP_MSS plus IPv6, TCP and link headers). */
#ifdef PBUF_POOL_BUFSIZE
#if PBUF_POOL_BUFSIZE < PINHOLE_BUDGET_OVERLAY_MTU_BYTES
#error "PBUF_POOL_BUFSIZE must hold a whole overlay packet"
#endif
#elif TCP_MSS + PINHOLE_IPV6_TCP_HEADERS_BYTES < PINHOLE_BUDGET_OVERLAY_MTU_BYTES
#error "TCP_MSS plus IPv6 and TCP headers must cover the overlay MTU (lwIP sizes pool pbufs from it)"
#endif
/* The queue (one pbuf per segment, LWIP_NETIF_TX_SINGLE_PBUF) holds a full send buffer twice
 * over in full segments: room for the part-filled ones small writes make. */
#if TCP_SND_QUEUELEN < 2 * PINHOLE_TCP_SEGMENTS_PER_SND_BUF
#error "TCP_SND_QUEUELEN must hold at least two send buffers' worth of full segments"
#endif
#if !LWIP_NETIF_TX_SINGLE_PBUF || TCP_OVERSIZE != TCP_MSS
#error "each TCP segment must be one pbuf (sealed in one pass): LWIP_NETIF_TX_SINGLE_PBUF and TCP_OVERSIZE TCP_MSS"
#endif
#if PINHOLE_BUDGET_OVERLAY_MTU_BYTES < 1280
#error "the overlay carries IPv6: its MTU must be at least 1280"
#endif

#endif
