// Buffers the kernels read start on a cache line: a vector load that straddles two lines costs
// two. (Measured: with the state and the workspace 16 bytes off a line, as glibc's malloc leaves
// large blocks, resnet18 and resnet50 ran about 5% slower with AVX-512.) A large state starts on a
// 2 MiB boundary and asks for huge pages (cache_aligned_allocator).
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#if CTRESNET_HUGE_PAGES
#include <sys/mman.h>
#endif

namespace ctresnet {

inline constexpr std::size_t cache_line_bytes = 64;
/// Floats in a cache line.
inline constexpr index_t cache_line_floats = cache_line_bytes / sizeof(float);

/// `floats` rounded up to whole cache lines, so that the next buffer starts on one.
constexpr index_t whole_cache_lines(index_t floats) {
  return (floats + cache_line_floats - 1) / cache_line_floats * cache_line_floats;
}

/// `p` moved forward to the next cache-line boundary: at most cache_line_floats - 1 floats.
inline float* align_to_cache_line(float* p) {
  const std::size_t past = reinterpret_cast<std::uintptr_t>(p) % cache_line_bytes;
  return past == 0 ? p : p + (cache_line_bytes - past) / sizeof(float);
}

namespace detail {

/// The size of a transparent huge page on x86-64 and on aarch64 with 4 KiB pages.
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;
/// Blocks of this many bytes or more ask for huge pages (CTRESNET_HUGE_PAGES). glibc usually maps
/// a block this large on its own (its mmap threshold never rises above 32 MiB), so the advice
/// mostly goes with the block when it is freed rather than staying on heap memory.
inline constexpr std::size_t huge_block_bytes = std::size_t{32} << 20;

/// The alignment of a block of `bytes`: a huge page for a large one where huge pages are asked
/// for, otherwise a cache line.
constexpr std::size_t block_alignment(std::size_t bytes) {
  return CTRESNET_HUGE_PAGES && bytes >= huge_block_bytes ? huge_page_bytes : cache_line_bytes;
}

/// A standard allocator whose blocks start on a cache line (for std::vector), and a large block
/// (a network's state) on a 2 MiB boundary, advised to the kernel as huge pages: a forward pass
/// streams the weights through the TLB, where a huge page maps 512 times as much, and making the
/// network zeroes its state in a 512th of the page faults (docs/performance.md).
template <class T>
struct cache_aligned_allocator {
  using value_type = T;
  cache_aligned_allocator() = default;
  template <class U>
  constexpr cache_aligned_allocator(const cache_aligned_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T), alignment = block_alignment(bytes);
    void* block = ::operator new(bytes, std::align_val_t{alignment});
#if CTRESNET_HUGE_PAGES && defined(MADV_HUGEPAGE)
    // A hint, for the whole huge pages inside the block; where the kernel has none to give, the
    // block keeps small ones.
    if (alignment == huge_page_bytes) madvise(block, bytes / huge_page_bytes * huge_page_bytes, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(block);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, std::align_val_t{block_alignment(n * sizeof(T))});
  }
  template <class U>
  friend bool operator==(const cache_aligned_allocator&, const cache_aligned_allocator<U>&) { return true; }
  template <class U>
  friend bool operator!=(const cache_aligned_allocator&, const cache_aligned_allocator<U>&) { return false; }
};

}  // namespace detail
}  // namespace ctresnet
