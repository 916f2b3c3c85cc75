/* pinhole's replacement for lwIP's checksum routine (LWIP_CHKSUM in a board's lwipopts.h). */
#ifndef PINHOLE_FAST_CHECKSUM_H
#define PINHOLE_FAST_CHECKSUM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The 16-bit one's-complement sum (RFC 1071) of `length` bytes at `data`, any alignment, NOT
 * complemented, as lwIP's lwip_standard_chksum returns it: stored in memory as it is, the value
 * reads as the sum in network byte order. 0 only when every byte is 0. */
uint16_t pinhole_fast_checksum(const void *data, int length);
#ifdef __cplusplus
}
#endif

#endif
