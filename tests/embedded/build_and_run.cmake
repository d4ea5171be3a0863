# Compiles one test program with another compiler than the build's and runs it:
#   cmake -DCOMPILER=clang++ -DARGS=a|b|c -DOUTPUT=program [-DEMULATOR=x|y] -P build_and_run.cmake
# (ARGS: the compiler's arguments, sources included, joined with |; EMULATOR, the command that runs
# the program for another architecture, such as env|QEMU_LD_PREFIX=...|qemu-aarch64.)
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${COMPILER}" ${args} -o "${OUTPUT}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${COMPILER} could not build ${OUTPUT} (exit status ${status})")
endif()
string(REPLACE "|" ";" emulator "${EMULATOR}")
execute_process(COMMAND ${emulator} "${OUTPUT}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${OUTPUT} failed (exit status ${status})")
endif()
