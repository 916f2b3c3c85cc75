# QEMU mps2-an386: Arm MPS2 FPGA image AN386, a Cortex-M4F at 25 MHz, LAN9118 Ethernet.
set(PINHOLE_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
include("${CMAKE_CURRENT_LIST_DIR}/../mps2/mps2.cmake")
