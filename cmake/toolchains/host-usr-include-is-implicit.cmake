# Included at the end of project() by the cross toolchain files in this directory: the host's
# /usr/include (x86-64 C library headers) must never reach the cross compiler's command line, so
# CMake treats it as an implicit directory and drops it from the imported targets' include paths.
list(APPEND CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES /usr/include)
list(APPEND CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES /usr/include)
