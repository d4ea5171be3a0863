// A forward pass allocates nothing once the network, the workspace and the thread pool exist.
// This file replaces the global operator new to count calls, so it is a test program of its own.
// g++ sees our operator delete's free() inlined next to calls of operator new and, not knowing that
// this file's operator new is malloc(), calls the pair mismatched.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <ctresnet/ctresnet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>
#if CTRESNET_HUGE_PAGES
#include <sys/mman.h>
#endif

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {
using namespace ctresnet;

// Every kind of layer: Winograd 3x3, strided 3x3, 1x1 GEMMs, projections, pools and the classifier.
template <class Net>
void check_forward_allocates_nothing(int threads) {
  CAPTURE(threads);
  const Net net(3);
  thread_pool pool(threads);
  std::vector<float> workspace(static_cast<std::size_t>(Net::workspace_floats_for(threads)));
  const int batch = 2;
  std::vector<float> images(static_cast<std::size_t>(batch * Net::input_shape::size), 0.25f);
  std::vector<float> logits(static_cast<std::size_t>(batch * Net::num_classes));
  const typename Net::input_map in(images.data(), batch, Net::input_shape::channels, Net::input_shape::height,
                                   Net::input_shape::width);
  const typename Net::output_map out(logits.data(), batch, Net::num_classes);

  const network_view<Net> view(net.state_data());  // as from weights compiled in
  const long before = allocations.load();
  net.forward(in, out, workspace.data(), pool);
  net.forward(in, out, workspace.data());
  const status owned = net.try_forward(in, out, workspace.data());
  const status viewed_on_pool = view.try_forward(in, out, workspace.data(), pool);
  const status viewed = view.try_forward(in, out, workspace.data());
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(owned == status::ok);
  CHECK(viewed_on_pool == status::ok);
  CHECK(viewed == status::ok);
  CHECK(std::isfinite(logits[0]));
}

}  // namespace

TEST_CASE("the counter sees allocations") {
  const long before = allocations.load();
  std::vector<float> v(10);
  CHECK(allocations.load() - before == 1);
}

TEST_CASE("a forward pass with a caller's workspace allocates nothing, from a network or a network_view") {
  using small_input = shape<3, 64, 64>;
  for (int threads : {1, 2, 3}) {
    check_forward_allocates_nothing<resnet18<10, small_input>>(threads);
    check_forward_allocates_nothing<resnet50<10, small_input>>(threads);
  }
}

#if CTRESNET_HUGE_PAGES && defined(MADV_HUGEPAGE)
namespace {
/// The VmFlags line of the mapping that holds `address`, from /proc/self/smaps ("" if none does).
std::string mapping_flags(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-')  // a mapping's first line
      inside = begin <= at && at < end;
    else if (inside && line.rfind("VmFlags:", 0) == 0)
      return line;
  }
  return "";
}

/// Whether madvise(MADV_HUGEPAGE) shows in a mapping's flags here, tried on a mapping of its own:
/// a kernel without transparent huge pages refuses it, and qemu's user mode ignores it.
bool madvise_marks_huge_pages() {
  const std::size_t bytes = 2 * detail::huge_page_bytes;
  void* probe = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (probe == MAP_FAILED) return false;
  const bool marked =
      madvise(probe, bytes, MADV_HUGEPAGE) == 0 && mapping_flags(probe).find(" hg") != std::string::npos;
  munmap(probe, bytes);
  return marked;
}
}  // namespace

// A block of 32 MiB or more starts on a 2 MiB boundary and a smaller one on a cache line; each is
// freed with the alignment it was allocated with (block_alignment of the same size).
static_assert(detail::block_alignment(detail::huge_block_bytes) == detail::huge_page_bytes);
static_assert(detail::block_alignment(detail::huge_block_bytes - 1) == cache_line_bytes);

TEST_CASE("a network's state starts on a 2 MiB boundary and asks the kernel for huge pages") {
  const auto net = std::make_unique<resnet18<>>(uninitialized);
  const float* state = net->state_data();
  CHECK(reinterpret_cast<std::uintptr_t>(state) % detail::huge_page_bytes == 0);
  if (madvise_marks_huge_pages()) {
    const std::string flags = mapping_flags(state);
    CAPTURE(flags);
    CHECK(flags.find(" hg") != std::string::npos);
  } else {
    MESSAGE("madvise(MADV_HUGEPAGE) leaves no mark here (no transparent huge pages, or qemu's user mode): "
            "only the alignment is checked");
  }
  detail::cache_aligned_allocator<float> allocator;
  float* small = allocator.allocate(1000);
  CHECK(reinterpret_cast<std::uintptr_t>(small) % cache_line_bytes == 0);
  allocator.deallocate(small, 1000);
}
#endif
