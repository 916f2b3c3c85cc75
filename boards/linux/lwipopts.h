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

#include "lwipopts_derived.h"

#endif
