// Buffers the kernels read start on a cache line: a vector load that straddles two lines costs
// two. (Measured: with the state and the workspace 16 bytes off a line, as glibc's malloc leaves
// large blocks, resnet18 and resnet50 ran about 5% slower with AVX-512.)
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#include <cstddef>
#include <cstdint>
#include <new>

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

/// A standard allocator whose blocks start on a cache line (for std::vector).
template <class T>
struct cache_aligned_allocator {
  using value_type = T;
  cache_aligned_allocator() = default;
  template <class U>
  constexpr cache_aligned_allocator(const cache_aligned_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{cache_line_bytes}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{cache_line_bytes}); }
  template <class U>
  friend bool operator==(const cache_aligned_allocator&, const cache_aligned_allocator<U>&) { return true; }
  template <class U>
  friend bool operator!=(const cache_aligned_allocator&, const cache_aligned_allocator<U>&) { return false; }
};

}  // namespace detail
}  // namespace ctresnet
