# Cross-compiling for 64-bit Arm Linux with Debian's g++-aarch64-linux-gnu; the test programs run
# under qemu-user's qemu-aarch64 (CTest and doctest_discover_tests run them through the emulator).
#
#   cmake -S . -B build-aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake
#
# Libraries come from the aarch64 sysroot only. The header-only dependencies (Eigen, doctest,
# nlohmann/json) are the host's Debian packages, whose headers serve every architecture; but their
# CMake packages name /usr/include, where the host's (x86-64) C library headers also are, and those
# must never reach the cross compiler. So /usr/include counts as one of the compiler's own
# directories (CMake then leaves it out of every command line, as it does natively), and the
# compiler gets a directory of its own that holds only those three packages' headers.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CTRESNET_AARCH64_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${CTRESNET_AARCH64_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${CTRESNET_AARCH64_TRIPLE}-g++)
set(CTRESNET_AARCH64_SYSROOT "/usr/${CTRESNET_AARCH64_TRIPLE}")

find_program(CTRESNET_QEMU_AARCH64 qemu-aarch64 DOC "qemu-user's emulator, to run the aarch64 test programs")
find_program(CTRESNET_ENV env REQUIRED)
if(CTRESNET_QEMU_AARCH64)
  # QEMU_LD_PREFIX: the dynamic loader, libc and libstdc++ of the aarch64 sysroot. (Given as
  # qemu's -L instead, it would be taken by `cmake -P` when a test runs through a CMake script.)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${CTRESNET_ENV};QEMU_LD_PREFIX=${CTRESNET_AARCH64_SYSROOT};${CTRESNET_QEMU_AARCH64}")
endif()

set(CMAKE_FIND_ROOT_PATH "${CTRESNET_AARCH64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # tools (python3, clang++) run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)    # aarch64 libraries only (the host's libstb.so is x86-64)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)    # stb_image.h: /usr/include/stb holds only stb's headers
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)    # the header-only packages' CMake files in /usr

# doctest's and nlohmann/json's headers, linked into a directory that holds nothing else.
set(CTRESNET_HOST_HEADERS "${CMAKE_BINARY_DIR}/host-headers")
foreach(package IN ITEMS doctest nlohmann)
  if(EXISTS "/usr/include/${package}" AND NOT EXISTS "${CTRESNET_HOST_HEADERS}/${package}")
    file(MAKE_DIRECTORY "${CTRESNET_HOST_HEADERS}")
    file(CREATE_LINK "/usr/include/${package}" "${CTRESNET_HOST_HEADERS}/${package}" SYMBOLIC)
  endif()
endforeach()
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${CTRESNET_HOST_HEADERS}")
# After project(): compiler detection has set the implicit directories by then.
set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/host-usr-include-is-implicit.cmake")
