# Pipes `CLASSIFY --model MODEL --graph LEVEL` through `DOT -Tsvg -o OUTPUT` and fails unless both
# succeed, neither writes to stderr (dot warns there of what it could not lay out or parse), and
# the SVG names the network's first stage:
#
#   cmake -DCLASSIFY=... -DDOT=... -DMODEL=resnet18 -DLEVEL=full -DOUTPUT=resnet18.svg -P render.cmake
cmake_minimum_required(VERSION 3.21)

foreach(variable CLASSIFY DOT MODEL LEVEL OUTPUT)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "render.cmake: -D${variable}=... is missing")
  endif()
endforeach()

file(REMOVE "${OUTPUT}")
execute_process(COMMAND "${CLASSIFY}" --model "${MODEL}" --graph "${LEVEL}"
                COMMAND "${DOT}" -Tsvg -o "${OUTPUT}"
                RESULTS_VARIABLE statuses ERROR_VARIABLE errors TIMEOUT 120)
if(NOT statuses STREQUAL "0;0" OR NOT errors STREQUAL "")
  message(FATAL_ERROR "ctresnet-classify --model ${MODEL} --graph ${LEVEL} | dot -Tsvg: exit statuses ${statuses}\n"
                      "--- stderr ---\n${errors}---")
endif()
file(READ "${OUTPUT}" svg)
if(NOT svg MATCHES "<svg" OR NOT svg MATCHES ">layer1<")
  message(FATAL_ERROR "${OUTPUT} is not an SVG of the network (no <svg> or no layer1)")
endif()
