# WebAssembly with SIMD, through Debian's emscripten (3.1.6); the test programs run under Node.
#
#   cmake --preset wasm                       (the same: the preset names this file)
#   cmake -S . -B build-wasm --toolchain cmake/toolchains/wasm.cmake
#
# This file includes emscripten's own toolchain file (what `emcmake` passes), so emcmake is not
# needed. On top of it: -msimd128 everywhere (the kernels then take kernels/wasm_packet.hpp's
# packets), C++ exceptions that can be caught (emscripten's default only lets them end the
# program), and the header-only dependencies (Eigen, doctest, nlohmann/json, stb) from the host's
# Debian packages, as the aarch64 toolchain file next to this one takes them.
set(CMAKE_SYSTEM_PROCESSOR wasm32)

# emscripten's toolchain file, beside emcc (Debian: /usr/share/emscripten; emsdk: upstream/emscripten).
find_program(CTRESNET_EMCC emcc DOC "emscripten's compiler (Debian's emscripten)")
if(NOT CTRESNET_EMCC)
  message(FATAL_ERROR "The wasm build needs emscripten: apt-get install emscripten node-acorn")
endif()
file(REAL_PATH "${CTRESNET_EMCC}" emcc_file)
get_filename_component(emscripten_root "${emcc_file}" DIRECTORY)
if(NOT EXISTS "${emscripten_root}/cmake/Modules/Platform/Emscripten.cmake")
  message(FATAL_ERROR "emscripten's toolchain file is not at ${emscripten_root}/cmake/Modules/Platform/Emscripten.cmake")
endif()
include("${emscripten_root}/cmake/Modules/Platform/Emscripten.cmake")

# emcc links with JavaScript tools run by Node, which finds Debian's acorn (node-acorn) only through
# NODE_PATH: set here for CMake's own checks, and by a launcher for every link of the build.
if(NOT DEFINED ENV{NODE_PATH} AND EXISTS /usr/share/nodejs/acorn)
  set(ENV{NODE_PATH} /usr/share/nodejs)
  set(CMAKE_CXX_LINKER_LAUNCHER env NODE_PATH=/usr/share/nodejs)
endif()

set(CMAKE_CXX_FLAGS_INIT "-msimd128 -fexceptions")
set(CMAKE_C_FLAGS_INIT "-msimd128")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fexceptions -sALLOW_MEMORY_GROWTH=1")

set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)  # the header-only packages' CMake files in /usr
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)  # stb_image.h: /usr/include/stb holds only stb's headers

# doctest's and nlohmann/json's headers, linked into a directory that holds nothing else: their
# CMake packages name /usr/include, whose C library headers must never reach emcc.
set(CTRESNET_HOST_HEADERS "${CMAKE_BINARY_DIR}/host-headers")
foreach(package IN ITEMS doctest nlohmann)
  if(EXISTS "/usr/include/${package}" AND NOT EXISTS "${CTRESNET_HOST_HEADERS}/${package}")
    file(MAKE_DIRECTORY "${CTRESNET_HOST_HEADERS}")
    file(CREATE_LINK "/usr/include/${package}" "${CTRESNET_HOST_HEADERS}/${package}" SYMBOLIC)
  endif()
endforeach()
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${CTRESNET_HOST_HEADERS}")
set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/host-usr-include-is-implicit.cmake")

# ctresnet's defaults for this target: no -march=native, no install rules, and of the examples
# and tests only the digits page (examples/web) and what tests/wasm builds (the command-line tools
# read files and start threads).
set(CTRESNET_NATIVE OFF CACHE BOOL "Compile the tests and examples for this machine's CPU (-march=native)")
set(CTRESNET_INSTALL OFF CACHE BOOL "Generate the install rules (headers, CMake package, pkg-config file)")
