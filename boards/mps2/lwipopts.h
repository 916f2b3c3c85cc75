/* lwIP options for the mps2 boards: lwIP is the system stack (LAN9118 Ethernet, ARP, IPv4 and
 * IPv6) and the overlay stack at once. Sizes come from the board's board_budget.h. */
#ifndef PINHOLE_LWIPOPTS_H
#define PINHOLE_LWIPOPTS_H

#include "board_budget.h" /* the board's own, found on the include path */

#define MEM_ALIGNMENT 4
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_STATS 0
#define PBUF_LINK_HLEN 14
/* The firmware's self-test sends UDP through lwIP's loopback interface (127.0.0.1). */
#define LWIP_HAVE_LOOPIF 1

#include "lwipopts_derived.h"

#endif
