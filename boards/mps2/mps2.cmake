# Shared by the mps2 boards (QEMU's mps2-an385 and mps2-an386): bare metal, newlib-nano, lwIP as
# the system stack. A board's board.cmake sets PINHOLE_CPU_FLAGS and includes this file.
set(PINHOLE_PLATFORM baremetal)
set(PINHOLE_MPS2_DIR "${CMAKE_CURRENT_LIST_DIR}")
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Generic" OR NOT CMAKE_C_COMPILER MATCHES "arm-none-eabi")
  message(FATAL_ERROR "Board '${PINHOLE_BOARD}' is bare-metal Cortex-M: configure it with "
                      "toolchains/arm-none-eabi.cmake (presets cortex-m3, cortex-m4).")
endif()
add_compile_options(${PINHOLE_CPU_FLAGS} -ffunction-sections -fdata-sections
                    "$<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions;-fno-rtti;-fno-use-cxa-atexit>")
add_link_options(${PINHOLE_CPU_FLAGS} -nostartfiles --specs=nano.specs -Wl,--gc-sections)

# The firmware image: pinhole-firmware.elf with its linker map and a size table per component.
function(pinhole_mps2_firmware keyword qemu_machine)
  add_executable(pinhole-firmware
    "${PINHOLE_MPS2_DIR}/startup.cc" "${PINHOLE_MPS2_DIR}/board.cc"
    "${PINHOLE_MPS2_DIR}/firmware_main.cc")
  set(map "${CMAKE_BINARY_DIR}/pinhole-firmware.map")
  target_link_options(pinhole-firmware PRIVATE
    "-T${PINHOLE_MPS2_DIR}/mps2.ld" "-Wl,-Map=${map}" -Wl,--no-warn-rwx-segments)
  set_target_properties(pinhole-firmware PROPERTIES SUFFIX .elf
                        LINK_DEPENDS "${PINHOLE_MPS2_DIR}/mps2.ld")
  target_link_libraries(pinhole-firmware PRIVATE
    pinhole_core pinhole_port pinhole_driver_cmsdk_uart lwip pinhole_mbedtls pinhole_strict)
  add_custom_command(TARGET pinhole-firmware POST_BUILD
    COMMAND python3 "${CMAKE_SOURCE_DIR}/scripts/size-table" "${map}"
            --board "${PINHOLE_BOARD}" --output "${CMAKE_BINARY_DIR}/size-table.txt"
    VERBATIM)
  set(PINHOLE_FIRMWARE_QEMU_MACHINE "${qemu_machine}" CACHE INTERNAL "")
endfunction()
