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
#include <cstdlib>
#include <new>
#include <vector>

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
