# The test cortex_m7.digits: builds this directory's project for a Cortex-M7 with Debian's
# arm-none-eabi toolchain, prints the sizes of its sections, runs it on QEMU's mps2-an500 (a
# Cortex-M7 board) with semihosting and checks that it reports logits that match the host's.
#   cmake -DSOURCE_DIR=... -DBUILD_DIR=... -DGENERATED_DIR=... -DCTRESNET_INCLUDE_DIR=...
#         -DEIGEN_INCLUDE_DIR=... -DGENERATOR=... [-DMAKE_PROGRAM=...] -P run.cmake
set(packages "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm")
foreach(tool arm-none-eabi-g++ arm-none-eabi-size qemu-system-arm)
  string(MAKE_C_IDENTIFIER "${tool}" var)
  find_program(${var} ${tool})
  if(NOT ${var})
    message(FATAL_ERROR "cortex_m7: ${tool} was not found; the Cortex-M7 test needs: apt-get install ${packages}")
  endif()
endforeach()

file(REMOVE_RECURSE "${BUILD_DIR}")
set(make_program)
if(MAKE_PROGRAM)
  set(make_program "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BUILD_DIR}" -G "${GENERATOR}" ${make_program}
                        "-DCMAKE_TOOLCHAIN_FILE=${SOURCE_DIR}/toolchain.cmake" "-DGENERATED_DIR=${GENERATED_DIR}"
                        "-DCTRESNET_INCLUDE_DIR=${CTRESNET_INCLUDE_DIR}" "-DEIGEN_INCLUDE_DIR=${EIGEN_INCLUDE_DIR}"
                RESULT_VARIABLE status OUTPUT_VARIABLE configure_output ERROR_VARIABLE configure_output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: configuring the arm-none-eabi project failed:\n${configure_output}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: building the arm-none-eabi project failed")
endif()

set(elf "${BUILD_DIR}/digits_m7.elf")
execute_process(COMMAND "${arm_none_eabi_size}" -A "${elf}" OUTPUT_VARIABLE sizes RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: arm-none-eabi-size failed on ${elf}")
endif()
string(REGEX MATCHALL "\n\\.(vectors|text|rodata|data|bss) +[0-9]+" rows "${sizes}")
string(REPLACE "\n" "" rows "${rows}")
string(REPLACE ";" "\n  " rows "${rows}")
message("cortex_m7: section sizes of digits_m7.elf (bytes; weights in .rodata, workspace in .bss):\n  ${rows}")

execute_process(COMMAND "${qemu_system_arm}" -M mps2-an500 -nographic -monitor none -serial none
                        -semihosting-config enable=on,target=native -kernel "${elf}"
                TIMEOUT 120 RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: the program under qemu-system-arm -M mps2-an500 ended with '${status}'")
endif()
if(NOT output MATCHES "cortex_m7: the logits match the host's")
  message(FATAL_ERROR "cortex_m7: the program did not report logits matching the host's")
endif()
