/* lwIP's hooks (LWIP_HOOK_FILENAME): the overlay (core/overlay) picks the peer netif for a
 * destination. lwIP includes this file in ip4.c and ip6.c; the functions are defined in
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
#ifdef __cplusplus
}
#endif

#endif
