/* This board's lwIP options: the mps2 family's, unchanged. */
#include "../mps2/lwipopts.h"
