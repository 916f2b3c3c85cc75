/* lwIP's architecture header, shared by every board. lwIP is built NO_SYS (no threads); the
 * three hooks below are implemented by the platform port (port/posix, port/lwip), never by
 * lwIP's callers, so lwIP's own diagnostics go through the same port as ours. */
#ifndef PINHOLE_LWIP_ARCH_CC_H
#define PINHOLE_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Called on an lwIP invariant violation (our bug or lwIP's, never network input): never returns. */
void pinhole_lwip_assert(const char *message, const char *file, int line);
/* A uniformly random 32-bit value from the port's random source (ports, ISNs, MLD delays). */
uint32_t pinhole_lwip_rand(void);
#ifdef __cplusplus
}
#endif

#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) pinhole_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() pinhole_lwip_rand()

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pinhole's boards are little-endian; a big-endian board must set BYTE_ORDER here"
#endif

#endif
