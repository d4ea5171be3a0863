# The tests cortex_m7.digits and cortex_m7.digits_int8: build this directory's project (PROGRAM
# digits_m7 or digits_int8_m7) for a Cortex-M7 with Debian's arm-none-eabi toolchain, print the
# sizes of its sections, run it on QEMU's mps2-an500 (a Cortex-M7 board) with semihosting and check
# that it prints PASS_LINE.
#   cmake -DSOURCE_DIR=... -DBUILD_DIR=... -DGENERATED_DIR=... -DCTRESNET_INCLUDE_DIR=...
#         -DEIGEN_INCLUDE_DIR=... -DGENERATOR=... [-DMAKE_PROGRAM=...] [-DPROGRAM=digits_m7]
#         [-DPASS_LINE=...] [-DMAX_RODATA=bytes] [-DMAX_RAM=bytes] [-DNO_HEAP=ON] -P run.cmake
# MAX_RODATA bounds .rodata (the weights and test vectors: flash); MAX_RAM bounds .data + .bss + the
# stack the program reports having used ("stack used: N bytes"), the RAM it needs with no heap.
# NO_HEAP fails a program that links malloc or _sbrk.
if(NOT PROGRAM)
  set(PROGRAM digits_m7)
endif()
if(NOT PASS_LINE)
  set(PASS_LINE "cortex_m7: the logits match the host's")
endif()
set(packages "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm")
foreach(tool arm-none-eabi-g++ arm-none-eabi-size arm-none-eabi-nm qemu-system-arm)
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
                        "-DPROGRAM=${PROGRAM}"
                RESULT_VARIABLE status OUTPUT_VARIABLE configure_output ERROR_VARIABLE configure_output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: configuring the arm-none-eabi project failed:\n${configure_output}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: building the arm-none-eabi project failed")
endif()

set(elf "${BUILD_DIR}/${PROGRAM}.elf")
execute_process(COMMAND "${arm_none_eabi_size}" -A "${elf}" OUTPUT_VARIABLE sizes RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: arm-none-eabi-size failed on ${elf}")
endif()
string(REGEX MATCHALL "\n\\.(vectors|text|rodata|data|bss) +[0-9]+" rows "${sizes}")
string(REPLACE "\n" "" rows "${rows}")
foreach(section vectors text rodata data bss)
  set(${section}_bytes 0)
  if(sizes MATCHES "\n\\.${section} +([0-9]+)")
    set(${section}_bytes ${CMAKE_MATCH_1})
  endif()
endforeach()
string(REPLACE ";" "\n  " rows "${rows}")
message("cortex_m7: section sizes of ${PROGRAM}.elf (bytes; weights in .rodata, workspace in .bss):\n  ${rows}")

if(NO_HEAP)
  execute_process(COMMAND "${arm_none_eabi_nm}" "${elf}" OUTPUT_VARIABLE symbols RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "cortex_m7: arm-none-eabi-nm failed on ${elf}")
  endif()
  if(symbols MATCHES " T (malloc|_malloc_r|_sbrk|_sbrk_r)\n")
    message(FATAL_ERROR "cortex_m7: ${PROGRAM}.elf links ${CMAKE_MATCH_1}: something in it uses the heap")
  endif()
  message("cortex_m7: ${PROGRAM}.elf links no malloc and no _sbrk: no heap")
endif()
if(MAX_RODATA AND rodata_bytes GREATER MAX_RODATA)
  message(FATAL_ERROR "cortex_m7: .rodata takes ${rodata_bytes} bytes, more than the ${MAX_RODATA} allowed")
endif()

execute_process(COMMAND "${qemu_system_arm}" -M mps2-an500 -nographic -monitor none -serial none
                        -semihosting-config enable=on,target=native -kernel "${elf}"
                TIMEOUT 120 RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cortex_m7: the program under qemu-system-arm -M mps2-an500 ended with '${status}'")
endif()
string(FIND "${output}" "${PASS_LINE}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "cortex_m7: the program did not report '${PASS_LINE}'")
endif()
if(MAX_RAM)
  if(NOT output MATCHES "stack used: ([0-9]+) bytes")
    message(FATAL_ERROR "cortex_m7: the program did not report the stack it used")
  endif()
  math(EXPR ram "${data_bytes} + ${bss_bytes} + ${CMAKE_MATCH_1}")
  message("cortex_m7: RAM: .data ${data_bytes} + .bss ${bss_bytes} + stack ${CMAKE_MATCH_1} = ${ram} bytes "
          "(at most ${MAX_RAM}); flash: .text ${text_bytes} + .rodata ${rodata_bytes} bytes")
  if(ram GREATER MAX_RAM)
    message(FATAL_ERROR "cortex_m7: the program needs ${ram} bytes of RAM, more than the ${MAX_RAM} allowed")
  endif()
endif()
