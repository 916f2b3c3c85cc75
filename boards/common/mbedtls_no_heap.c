/* mbedTLS's allocator before a port installs a static arena: it refuses, so a missing arena
 * shows up as a clean MBEDTLS_ERR_*_ALLOC_FAILED, never as a call into the C library's heap. */
#include <stddef.h>

void *pinhole_mbedtls_calloc_refused(size_t count, size_t size)
{
    (void)count;
    (void)size;
    return NULL;
}

void pinhole_mbedtls_free_refused(void *pointer)
{
    (void)pointer;
}
