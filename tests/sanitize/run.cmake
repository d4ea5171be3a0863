# The steps of the sanitize.* and fuzz.* tests (see CMakeLists.txt here). cmake -P with:
#   MODE=sanitize    SOURCE_DIR, WORK_DIR, CXX, GENERATOR, MAKE_PROGRAM, SANITIZE, REFDATA, and
#                    optionally TARGETS (what to build), TESTS and EXCLUDE (ctest -R and -E regexes)
#   MODE=fuzz_build  SOURCE_DIR, WORK_DIR, CXX (clang++), GENERATOR, MAKE_PROGRAM
#   MODE=fuzz_run    FUZZER, WORK_DIR, SEEDS (|-separated directories), SECONDS, and REGRESSIONS (a
#                    directory of files the fuzzer once failed on, or empty for none)
cmake_minimum_required(VERSION 3.21)

function(run)
  string(JOIN " " shown ${ARGN})
  message(STATUS "run: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${shown}")
  endif()
endfunction()

function(configure source build)
  set(generator -G "${GENERATOR}")
  if(MAKE_PROGRAM)
    list(APPEND generator "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  run("${CMAKE_COMMAND}" -S "${source}" -B "${build}" ${generator} "-DCMAKE_CXX_COMPILER=${CXX}" ${ARGN})
endfunction()

if(MODE STREQUAL "sanitize")
  # Kept between runs, as the main build is: a rebuild compiles only what changed.
  set(build "${WORK_DIR}/build")
  # -O1, as the sanitizers' documentation advises: with -O3 and the sanitizers' instrumentation, g++
  # takes several times as long to compile our templates.
  configure("${SOURCE_DIR}" "${build}" "-DCTRESNET_SANITIZE=${SANITIZE}" "-DCTRESNET_REFDATA_DIR=${REFDATA}"
            -DCTRESNET_INSTALL=OFF -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG")
  set(targets "")
  if(TARGETS)
    set(targets --target ${TARGETS})
  endif()
  run("${CMAKE_COMMAND}" --build "${build}" -j2 ${targets})
  set(select "")
  if(TESTS)
    set(select -R "${TESTS}")
  endif()
  if(EXCLUDE)
    list(APPEND select -E "${EXCLUDE}")
  endif()
  run("${CMAKE_COMMAND}" -E env "UBSAN_OPTIONS=print_stacktrace=1" "ASAN_OPTIONS=detect_leaks=1"
      "${CMAKE_CTEST_COMMAND}" --test-dir "${build}" -j2 --output-on-failure --no-tests=error ${select})
elseif(MODE STREQUAL "fuzz_build")
  set(build "${WORK_DIR}/build")
  configure("${SOURCE_DIR}/tests/fuzz" "${build}")
  run("${CMAKE_COMMAND}" --build "${build}" -j2)
elseif(MODE STREQUAL "fuzz_run")
  # Each known finding first: its file must now pass. A REGRESSIONS directory that is missing or
  # empty (renamed?) fails, rather than leaving them out.
  if(REGRESSIONS)
    file(GLOB regressions "${REGRESSIONS}/*")
    if(NOT regressions)
      message(FATAL_ERROR "run.cmake: no regression files in '${REGRESSIONS}'")
    endif()
    run("${FUZZER}" ${regressions})
  endif()
  # Then fuzzing, from the seeds, into a fresh corpus; a finding fails the test and is kept in
  # WORK_DIR as crash-*, leak-*, timeout-* or oom-*. A fixed seed makes every run try the same
  # inputs in the same order (a faster machine only gets further), so that the suite's result does
  # not depend on luck; longer runs by hand (docs/security.md) explore with other seeds.
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}/corpus")
  string(REPLACE "|" ";" seeds "${SEEDS}")
  run("${FUZZER}" -seed=1 -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=30 -print_final_stats=1
      "-artifact_prefix=${WORK_DIR}/" "${WORK_DIR}/corpus" ${seeds})
else()
  message(FATAL_ERROR "run.cmake: unknown MODE '${MODE}'")
endif()
