/* This board's mbedTLS configuration: the mps2 family's, unchanged. */
#include "../mps2/mbedtls_config.h"
