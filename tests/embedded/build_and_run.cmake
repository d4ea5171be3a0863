# Compiles one test program with another compiler than the build's and runs it:
#   cmake -DCOMPILER=clang++ -DARGS=a|b|c -DOUTPUT=program -P build_and_run.cmake
# (ARGS: the compiler's arguments, sources included, joined with |.)
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${COMPILER}" ${args} -o "${OUTPUT}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${COMPILER} could not build ${OUTPUT} (exit status ${status})")
endif()
execute_process(COMMAND "${OUTPUT}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${OUTPUT} failed (exit status ${status})")
endif()
