# The steps of the cross tests (see CMakeLists.txt here), run as `cmake -DSTEP=... -P run.cmake`.
#
#   STEP=build  configure SOURCE_DIR with TOOLCHAIN and the compiler flags CROSS_FLAGS into WORK_DIR
#               and build TARGETS (comma-separated)
#   STEP=test   run the tests of WORK_DIR that match INCLUDE_REGEX and not EXCLUDE_REGEX; each
#               alternative of INCLUDE_REGEX (split at every |) must select at least one of them
cmake_minimum_required(VERSION 3.21)

# Runs a command with its output shown; stops with an error unless it exits with 0.
function(run)
  list(JOIN ARGN " " shown)
  message(STATUS "run: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status STREQUAL "0")
    message(FATAL_ERROR "failed (${status}): ${shown}")
  endif()
endfunction()

if(STEP STREQUAL "build")
  file(REMOVE_RECURSE "${WORK_DIR}")
  # CROSS_FLAGS, where given, name the target CPU (and qemu's); without them the toolchain file's
  # own initial flags stand (the wasm build's -msimd128 -fexceptions).
  set(cpu_flags "")
  if(CROSS_FLAGS)
    set(cpu_flags "-DCMAKE_CXX_FLAGS=${CROSS_FLAGS}")
  endif()
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}" "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}"
      --toolchain "${TOOLCHAIN}" -DCMAKE_BUILD_TYPE=Release
      -DCTRESNET_NATIVE=OFF ${cpu_flags}
      -DCTRESNET_CROSS_TESTS=OFF    # no cross build inside the cross build
      -DCTRESNET_INSTALL=OFF "-DCTRESNET_REFDATA_DIR=${REFDATA}" "-DCTRESNET_PYTHON=${PYTHON}")
  string(REPLACE "," ";" TARGETS "${TARGETS}")
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}" -j2 --target ${TARGETS})

elseif(STEP STREQUAL "test")
  # --no-tests=error below fails an empty selection; this fails one that lost a part of itself, such
  # as a renamed test. (-FA: fixtures' setup tests are not counted.)
  string(REPLACE "|" ";" alternatives "${INCLUDE_REGEX}")
  foreach(alternative IN LISTS alternatives)
    execute_process(COMMAND "${CMAKE_CTEST_COMMAND}" --test-dir "${WORK_DIR}" -N -FA ".*" -R "${alternative}"
                            -E "${EXCLUDE_REGEX}"
                    RESULT_VARIABLE status OUTPUT_VARIABLE listed ERROR_VARIABLE errors)
    if(NOT status STREQUAL "0" OR NOT listed MATCHES "\nTotal Tests: ([0-9]+)" OR CMAKE_MATCH_1 EQUAL 0)
      message(FATAL_ERROR "'${alternative}', a part of INCLUDE_REGEX, selects no test:\n${listed}${errors}")
    endif()
  endforeach()
  run("${CMAKE_CTEST_COMMAND}" --test-dir "${WORK_DIR}" -j2 --output-on-failure --no-tests=error
      -R "${INCLUDE_REGEX}" -E "${EXCLUDE_REGEX}")

else()
  message(FATAL_ERROR "unknown STEP '${STEP}'")
endif()
