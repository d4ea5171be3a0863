# The 360 held-out digits (examples/digits/test) as an ImageFolder tree, for ctresnet-classify --eval:
# OUT/0/ ... OUT/9/, each image copied into the folder of its label in labels.txt.
#
#   cmake -DDIGITS_DIR=examples/digits -DOUT=dir -P make_digits_image_folder.cmake
cmake_minimum_required(VERSION 3.21)
if(NOT DIGITS_DIR OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DDIGITS_DIR=examples/digits -DOUT=dir -P make_digits_image_folder.cmake")
endif()
file(REMOVE_RECURSE "${OUT}")
file(STRINGS "${DIGITS_DIR}/test/labels.txt" lines REGEX "^[^#]")
set(count 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^([^ \t]+)[ \t]+([0-9])$")
    message(FATAL_ERROR "${DIGITS_DIR}/test/labels.txt: cannot read the line '${line}'")
  endif()
  file(COPY "${DIGITS_DIR}/test/${CMAKE_MATCH_1}" DESTINATION "${OUT}/${CMAKE_MATCH_2}")
  math(EXPR count "${count} + 1")
endforeach()
if(NOT count EQUAL 360)
  message(FATAL_ERROR "${DIGITS_DIR}/test/labels.txt lists ${count} images, not the 360 held-out digits")
endif()
message(STATUS "${count} images in ${OUT}")
