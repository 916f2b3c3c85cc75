# QEMU mps2-an385: Arm MPS2 FPGA image AN385, a Cortex-M3 at 25 MHz, LAN9118 Ethernet.
set(PINHOLE_CPU_FLAGS -mcpu=cortex-m3 -mthumb -mfloat-abi=soft)
include("${CMAKE_CURRENT_LIST_DIR}/../mps2/mps2.cmake")
