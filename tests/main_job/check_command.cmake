# Runs a command and checks both its exit status and its output, which CTest's own properties
# cannot do together (PASS_REGULAR_EXPRESSION ignores the exit status):
#
#   cmake -DEXPECT_EXIT=0 [-DEXPECT_STDOUT=regex] [-DEXPECT_STDERR=regex] -P check_command.cmake -- COMMAND ARG...
#
# EXPECT_EXIT is the exit status the command must end with; a crash (a signal) never passes. With
# a non-zero EXPECT_EXIT, stderr must be exactly one line, and match EXPECT_STDERR. A command that
# runs longer than TIMEOUT seconds (default 120) fails: no hang goes unnoticed.
cmake_minimum_required(VERSION 3.21)

include("${CMAKE_CURRENT_LIST_DIR}/../command_after_separator.cmake")
ctresnet_command_after_separator(command)
if(NOT command OR NOT DEFINED EXPECT_EXIT)
  message(FATAL_ERROR "usage: cmake -DEXPECT_EXIT=N [-DEXPECT_STDOUT=regex] [-DEXPECT_STDERR=regex] "
                      "-P check_command.cmake -- COMMAND ARG...")
endif()
if(NOT DEFINED TIMEOUT)
  set(TIMEOUT 120)
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT ${TIMEOUT})
string(REPLACE ";" " " shown "${command}")
set(report "command: ${shown}\nexit status: ${status}\n--- stdout ---\n${out}--- stderr ---\n${err}---")

if(NOT status STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "expected exit status ${EXPECT_EXIT}\n${report}")
endif()
if(DEFINED EXPECT_STDOUT AND NOT out MATCHES "${EXPECT_STDOUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_STDOUT}'\n${report}")
endif()
if(DEFINED EXPECT_STDERR AND NOT err MATCHES "${EXPECT_STDERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR}'\n${report}")
endif()
if(NOT EXPECT_EXIT STREQUAL "0")
  string(REGEX MATCHALL "\n" line_ends "${err}")
  list(LENGTH line_ends lines)
  if(NOT lines EQUAL 1 OR NOT err MATCHES "\n$")
    message(FATAL_ERROR "stderr is not exactly one line\n${report}")
  endif()
endif()
message(STATUS "passed\n${report}")
