/* mps2-an386 (Cortex-M4): the mps2 family's budget. */
#ifndef PINHOLE_BOARD_BUDGET_H
#define PINHOLE_BOARD_BUDGET_H
#define PINHOLE_BOARD_NAME "mps2-an386"
#define PINHOLE_BOARD_CPU "Cortex-M4"
#include "../mps2/mps2_budget.h"
#endif
