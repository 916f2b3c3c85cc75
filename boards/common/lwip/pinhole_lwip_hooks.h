/* lwIP's hooks (LWIP_HOOK_FILENAME): the overlay (core/overlay) picks the peer netif for a
 * destination, and says which netifs accept any destination (the ACCEPT_ANY hooks are added to
 * lwIP by boards/deps/patches/lwip/0001-hook-accept-any-destination.patch). lwIP includes this file in ip4.c and ip6.c; the functions are defined in
 * core/overlay/overlay_stack.cc and answer NULL when no peer routes the destination. */
#ifndef PINHOLE_LWIP_HOOKS_H
#define PINHOLE_LWIP_HOOKS_H

struct netif;
struct ip4_addr;
struct ip6_addr;

#ifdef __cplusplus
extern "C" {
#endif
struct netif *pinhole_overlay_route_ip4(const struct ip4_addr *src, const struct ip4_addr *dest);
struct netif *pinhole_overlay_route_ip6(const struct ip6_addr *src, const struct ip6_addr *dest);
/* Whether a peer netif takes the current TCP packet whatever its destination (the exit proxy). */
int pinhole_overlay_accepts_any_ip4(const struct netif *netif);
int pinhole_overlay_accepts_any_ip6(const struct netif *netif);
#ifdef __cplusplus
}
#endif

#endif
