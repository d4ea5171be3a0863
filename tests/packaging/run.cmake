# The packaging tests' steps, run as `cmake -DMODE=... -P run.cmake` (see CMakeLists.txt here).
#
#   MODE=install         install the build tree BUILD_DIR into a fresh PREFIX and check what arrived
#   MODE=cmake_consumer  configure, build and run consumer/ in a fresh WORK_DIR with CACHE_ARGS
#   MODE=pkg_config      compile consumer/main.cpp with the flags pkg-config gives for PREFIX, and run it
#   MODE=configure_fails configure consumer/ with CACHE_ARGS; it must fail with a message matching EXPECT_ERROR
#
# A consumer must print "logits: 10", "C++ EXPECT_CPLUSPLUS" and, with EXPECT_SAFETENSORS, that it
# saved and loaded a weights file.
cmake_minimum_required(VERSION 3.21)

function(fail)
  string(JOIN "" message ${ARGN})
  message(FATAL_ERROR "${message}")
endfunction()

# Runs a command; stops the test with its output unless it exits with 0. OUTPUT_VARIABLE gets stdout.
function(run)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUTPUT_VARIABLE;WORKING_DIRECTORY" "COMMAND")
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  list(JOIN arg_COMMAND " " shown)
  message(STATUS "run: ${shown}")
  execute_process(COMMAND ${arg_COMMAND} WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}"
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status STREQUAL "0")
    fail("failed (${status}): ${shown}\n--- stdout:\n${out}\n--- stderr:\n${err}")
  endif()
  if(arg_OUTPUT_VARIABLE)
    set(${arg_OUTPUT_VARIABLE} "${out}" PARENT_SCOPE)
  endif()
endfunction()

function(check_consumer_output out)
  set(expected "logits: 10\n")
  if(EXPECT_SAFETENSORS)
    string(APPEND expected "safetensors: saved and loaded\n")
  else()
    string(APPEND expected "safetensors: not used\n")
  endif()
  string(APPEND expected "C++ ${EXPECT_CPLUSPLUS}\n")
  if(NOT out STREQUAL expected)
    fail("the consumer printed\n${out}\ninstead of\n${expected}")
  endif()
  message(STATUS "the consumer printed:\n${out}")
endfunction()

string(REPLACE "|" ";" CACHE_ARGS "${CACHE_ARGS}")  # CMakeLists.txt here passes the list with | for ;

# The configure arguments every consumer gets: the outer build's compiler and generator, -O1 and no
# build type (a quick compile, assertions on).
set(consumer_source "${CMAKE_CURRENT_LIST_DIR}/consumer")
set(consumer_configure "${CMAKE_COMMAND}" -S "${consumer_source}" -B "${WORK_DIR}" -G "${GENERATOR}"
    "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}" "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=-O1"
    "-DCMAKE_CXX_STANDARD=${CXX_STANDARD}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF ${CACHE_ARGS})

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  run(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" --config "${CONFIG}")

  # Exactly the headers, the CMake package and the pkg-config file: no tests, examples or benchmarks.
  file(GLOB_RECURSE installed RELATIVE "${PREFIX}" LIST_DIRECTORIES false "${PREFIX}/*")
  file(GLOB_RECURSE headers RELATIVE "${SOURCE_DIR}/include" LIST_DIRECTORIES false "${SOURCE_DIR}/include/ctresnet/*")
  list(TRANSFORM headers PREPEND "${INCLUDEDIR}/")
  set(expected ${headers} ${CMAKEDIR}/ctresnetConfig.cmake ${CMAKEDIR}/ctresnetConfigVersion.cmake
               ${CMAKEDIR}/ctresnetTargets.cmake ${PKGCONFIGDIR}/ctresnet.pc)
  list(SORT installed)
  list(SORT expected)
  if(NOT installed STREQUAL expected)
    set(extra ${installed})
    list(REMOVE_ITEM extra ${expected})
    set(missing ${expected})
    list(REMOVE_ITEM missing ${installed})
    fail("the install differs from the headers and the package files.\nextra: ${extra}\nmissing: ${missing}")
  endif()
  list(LENGTH headers count)
  message(STATUS "installed ${count} headers and the package files into ${PREFIX}")

  file(STRINGS "${PREFIX}/${PKGCONFIGDIR}/ctresnet.pc" prefix_line REGEX "^prefix=")
  if(NOT prefix_line STREQUAL "prefix=${PREFIX}")
    fail("ctresnet.pc has '${prefix_line}', not prefix=${PREFIX}")
  endif()

  # A staged install (DESTDIR, as distribution packages are made) names the final prefix.
  set(stage "${PREFIX}-destdir")
  file(REMOVE_RECURSE "${stage}")
  set(ENV{DESTDIR} "${stage}")
  run(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix /opt/ctresnet --config "${CONFIG}")
  unset(ENV{DESTDIR})
  file(STRINGS "${stage}/opt/ctresnet/${PKGCONFIGDIR}/ctresnet.pc" prefix_line REGEX "^prefix=")
  if(NOT prefix_line STREQUAL "prefix=/opt/ctresnet")
    fail("with DESTDIR, ctresnet.pc has '${prefix_line}', not prefix=/opt/ctresnet")
  endif()
  if(NOT EXISTS "${stage}/opt/ctresnet/${CMAKEDIR}/ctresnetConfig.cmake")
    fail("with DESTDIR, no ${stage}/opt/ctresnet/${CMAKEDIR}/ctresnetConfig.cmake")
  endif()
  file(REMOVE_RECURSE "${stage}")

elseif(MODE STREQUAL "cmake_consumer")
  file(REMOVE_RECURSE "${WORK_DIR}")
  run(COMMAND ${consumer_configure} OUTPUT_VARIABLE out)
  if(EXPECT_CTRESNET_DIR)  # the package found is the one just installed
    file(STRINGS "${WORK_DIR}/CMakeCache.txt" dir_line REGEX "^ctresnet_DIR:")
    if(NOT dir_line STREQUAL "ctresnet_DIR:PATH=${EXPECT_CTRESNET_DIR}")
      fail("find_package found '${dir_line}', not ${EXPECT_CTRESNET_DIR}")
    endif()
  endif()
  run(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}")
  set(program "${WORK_DIR}/consumer")
  if(NOT EXISTS "${program}")  # a multi-config generator's: WORK_DIR/<config>/consumer
    file(GLOB program LIST_DIRECTORIES false "${WORK_DIR}/*/consumer")
    list(GET program 0 program)
  endif()
  run(COMMAND "${program}" "${WORK_DIR}/scratch.safetensors" OUTPUT_VARIABLE out)
  check_consumer_output("${out}")

elseif(MODE STREQUAL "pkg_config")
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${PKGCONFIGDIR}")
  run(COMMAND "${PKG_CONFIG}" --modversion ctresnet OUTPUT_VARIABLE version)
  string(STRIP "${version}" version)
  if(NOT version STREQUAL EXPECT_VERSION)
    fail("pkg-config says ctresnet ${version}, not ${EXPECT_VERSION}")
  endif()
  run(COMMAND "${PKG_CONFIG}" --cflags ctresnet nlohmann_json OUTPUT_VARIABLE cflags)
  string(STRIP "${cflags}" cflags)
  message(STATUS "pkg-config --cflags ctresnet nlohmann_json: ${cflags}")
  string(FIND " ${cflags} " " -I${PREFIX}/${INCLUDEDIR} " position)
  if(position EQUAL -1)
    fail("pkg-config's flags do not name ${PREFIX}/${INCLUDEDIR}: ${cflags}")
  endif()
  separate_arguments(cflags UNIX_COMMAND "${cflags}")
  run(COMMAND "${CXX}" -std=c++${CXX_STANDARD} -O1 -Wall -Wextra -Wpedantic -Werror -DCONSUMER_WITH_SAFETENSORS
                ${cflags} "${consumer_source}/main.cpp" -o "${WORK_DIR}/consumer")
  run(COMMAND "${WORK_DIR}/consumer" "${WORK_DIR}/scratch.safetensors" OUTPUT_VARIABLE out)
  check_consumer_output("${out}")

elseif(MODE STREQUAL "configure_fails")
  file(REMOVE_RECURSE "${WORK_DIR}")
  execute_process(COMMAND ${consumer_configure} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(status STREQUAL "0")
    fail("configuring succeeded, and should have failed:\n${out}")
  endif()
  if(NOT err MATCHES "${EXPECT_ERROR}")
    fail("configuring failed without the message '${EXPECT_ERROR}':\n${err}")
  endif()
  message(STATUS "configuring failed as it should:\n${err}")
  file(REMOVE_RECURSE "${WORK_DIR}")

else()
  fail("unknown MODE '${MODE}'")
endif()
