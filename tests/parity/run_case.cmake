# Runs one TEST_CASE of a doctest program and passes only if exactly that case ran, and passed:
#
#   cmake -DCASE=name -P run_case.cmake -- COMMAND...
#
# runs COMMAND... --test-case=CASE (COMMAND: the program, after an emulator if any, and its options).
# doctest exits with 0 when --test-case matches no case ("0 passed"), so the exit status alone would
# let a renamed case pass untested. This script also reads the summary that doctest 2.4's console
# reporter prints last on stdout,
#
#   [doctest] test cases: 1 | 1 passed | 0 failed | 11 skipped
#
# (each count right-aligned to the width of the largest one, so there may be more spaces), and
# requires 1 case, 1 passed, 0 failed, as well as exit status 0: a crash or a sanitizer's report at
# exit after the summary still fails. Output goes through as it comes.
cmake_minimum_required(VERSION 3.21)

include("${CMAKE_CURRENT_LIST_DIR}/../command_after_separator.cmake")
ctresnet_command_after_separator(command)
if(NOT command OR NOT CASE OR CASE MATCHES "[*?,\\]")
  message(FATAL_ERROR "usage: cmake -DCASE=name -P run_case.cmake -- COMMAND... "
                      "(a name, not a doctest pattern: no *, ?, comma or backslash)")
endif()

list(APPEND command "--test-case=${CASE}")
string(JOIN " " shown ${command})
execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ECHO_OUTPUT_VARIABLE)

# Each message starts with its verdict (CMake wraps the rest).
if(NOT status STREQUAL "0")
  message(FATAL_ERROR "exit status '${status}': ${shown}")
endif()
string(ASCII 27 escape)
string(REGEX REPLACE "${escape}\\[[0-9;]*m" "" out "${out}")  # colours, had they been forced
if(NOT out MATCHES "\\[doctest\\] test cases: +([0-9]+) \\| +([0-9]+) passed \\| +([0-9]+) failed \\|")
  message(FATAL_ERROR "no doctest summary line ('[doctest] test cases: ...'): ${shown}")
endif()
set(cases ${CMAKE_MATCH_1})
set(passed ${CMAKE_MATCH_2})
set(failed ${CMAKE_MATCH_3})
if(cases EQUAL 0)
  message(FATAL_ERROR "no test case ran: no TEST_CASE is named '${CASE}' (renamed? Then rename its test too): ${shown}")
elseif(NOT cases EQUAL 1 OR NOT passed EQUAL 1 OR NOT failed EQUAL 0)
  message(FATAL_ERROR "${cases} test cases ran (${passed} passed, ${failed} failed), not the one named '${CASE}': ${shown}")
endif()
