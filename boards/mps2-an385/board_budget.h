/* mps2-an385 (Cortex-M3): the mps2 family's budget. */
#ifndef PINHOLE_BOARD_BUDGET_H
#define PINHOLE_BOARD_BUDGET_H
#define PINHOLE_BOARD_NAME "mps2-an385"
#define PINHOLE_BOARD_CPU "Cortex-M3"
#include "../mps2/mps2_budget.h"
#endif
