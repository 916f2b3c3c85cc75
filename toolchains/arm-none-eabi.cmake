# Bare-metal Cortex-M: arm-none-eabi-gcc with newlib-nano. The CPU flags come from the board
# (boards/<board>/board.cmake), so one toolchain file serves every Cortex-M board.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(PINHOLE_TRIPLE arm-none-eabi)
set(CMAKE_C_COMPILER ${PINHOLE_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${PINHOLE_TRIPLE}-g++)
set(CMAKE_ASM_COMPILER ${PINHOLE_TRIPLE}-gcc)
# Compiler checks cannot link a bare-metal program without a board's startup code.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
