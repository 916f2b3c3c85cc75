/* lwIP options for the Linux board: lwIP is only the overlay stack (one netif per peer, no
 * Ethernet, no ARP); the kernel is the system stack. Sizes come from board_budget.h. */
#ifndef PINHOLE_LWIPOPTS_H
#define PINHOLE_LWIPOPTS_H

#include "board_budget.h"

#define MEM_ALIGNMENT 8
#define LWIP_ARP 0
#define LWIP_ETHERNET 0
#define LWIP_STATS 1
/* IPv6 reassembly keeps its bookkeeping inside the fragment header unless told otherwise; a
 * 64-bit pointer does not fit there (lwIP asserts at the first reassembly timer). */
#define IPV6_FRAG_COPYHEADER 1

/* WireGuard authenticates every overlay packet before lwIP sees it, so verifying lwIP's
 * checksums on the way in only costs time (~0.3 us per full packet). They are still generated
 * (CHECKSUM_GEN_* keep their default 1): the peer's stack may check them. */
#define CHECKSUM_CHECK_IP 0
#define CHECKSUM_CHECK_UDP 0
#define CHECKSUM_CHECK_TCP 0
#define CHECKSUM_CHECK_ICMP 0
#define CHECKSUM_CHECK_ICMP6 0
/* Our checksum (boards/common/lwip/pinhole_fast_checksum.c): 64-bit accumulators instead of
 * lwIP's carry test per word; 34-51 ns per 1400 bytes on x86-64 against 180-270 for lwIP's
 * fastest (LWIP_CHKSUM_ALGORITHM 3), which is then not compiled. LWIP_CHECKSUM_ON_COPY stays
 * off: it sums the same bytes, only earlier (in tcp_write), so it would save little of ~40 ns. */
#include "pinhole_fast_checksum.h"
#define LWIP_CHKSUM pinhole_fast_checksum
/* Debug builds check patch 0002's cached unacked tail against a walk on every tcp_output. */
#ifndef NDEBUG
#define PINHOLE_LWIP_CHECK_UNACKED_TAIL 1
#endif

#include "lwipopts_derived.h"

#endif
