// ctresnet: every ResNet a C++ type. Version and build switches.
#pragma once

#define CTRESNET_VERSION_MAJOR 0
#define CTRESNET_VERSION_MINOR 1
#define CTRESNET_VERSION_PATCH 0
#define CTRESNET_VERSION_STRING "0.1.0"

#include <cstddef>  // also brings the standard library's configuration macros, read below

// Exceptions: with them (the default), errors throw as documented; built with -fno-exceptions,
// the throwing functions are left out and the try_ forms report errors as a ctresnet::status.
#ifndef CTRESNET_EXCEPTIONS
#if defined(__cpp_exceptions)
#define CTRESNET_EXCEPTIONS 1
#else
#define CTRESNET_EXCEPTIONS 0
#endif
#endif

// Threads: thread_pool needs std::thread, which bare-metal standard libraries (newlib's
// libstdc++ for arm-none-eabi) do not have. There the pool is a type that cannot be made, and a
// forward pass runs on the calling thread. Define CTRESNET_THREADS to 0 or 1 to choose yourself.
#ifndef CTRESNET_THREADS
#if (defined(__GLIBCXX__) && !defined(_GLIBCXX_HAS_GTHREADS)) || defined(_LIBCPP_HAS_NO_THREADS)
#define CTRESNET_THREADS 0
#else
#define CTRESNET_THREADS 1
#endif
#endif

// Huge pages: on Linux, a network's state of 32 MiB or more starts on a 2 MiB boundary and is
// advised to the kernel as transparent huge pages (madvise MADV_HUGEPAGE), which kernels whose THP
// setting is "madvise" give only to memory that asks. Define CTRESNET_HUGE_PAGES to 0 to leave the
// state to the allocator alone, the same in every translation unit (a block must be freed with the
// alignment it was allocated with).
#ifndef CTRESNET_HUGE_PAGES
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#define CTRESNET_HUGE_PAGES 1
#else
#define CTRESNET_HUGE_PAGES 0
#endif
#endif

// Functions whose sizes are run-time arguments (the kernels, and the code that visits or loads a
// network's tensors) are compiled once and called from every layer type. Keeping the compiler from
// inlining them into each type's code is what keeps deep networks quick to compile (every inlined
// copy of a GEMM costs seconds).
#if defined(__GNUC__) || defined(__clang__)
#define CTRESNET_NOINLINE __attribute__((noinline)) inline
#elif defined(_MSC_VER)
#define CTRESNET_NOINLINE __declspec(noinline) inline
#else
#define CTRESNET_NOINLINE inline
#endif

// g++ 12 warns of an uninitialised variable inside its own AVX-512 intrinsics once they are
// inlined into a kernel (GCC bug 105593); the warning cannot be silenced at the system header, so
// the kernel headers silence it around their code.
#if defined(__GNUC__) && !defined(__clang__)
#define CTRESNET_KERNELS_BEGIN                                  \
  _Pragma("GCC diagnostic push")                                \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
  _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define CTRESNET_KERNELS_END _Pragma("GCC diagnostic pop")
#else
#define CTRESNET_KERNELS_BEGIN
#define CTRESNET_KERNELS_END
#endif

namespace ctresnet {

/// Sizes and offsets into parameter and workspace buffers are counted in floats.
using index_t = std::ptrdiff_t;

/// BatchNorm2d's default epsilon in PyTorch; every torchvision ResNet uses it.
inline constexpr float batch_norm_eps = 1e-5f;

}  // namespace ctresnet
