// Built with -fno-exceptions -fno-rtti (by g++ in C++17 and clang++ in C++20): the digits model
// runs from the header that ctresnet-embed wrote, through the core headers alone, and its logits
// are the file-loaded network's (make_digits_vectors computed them with exceptions on). Errors
// come back as a ctresnet::status. No test framework: doctest wants exceptions; the exit status
// and the printed lines are the result.
#if defined(__cpp_exceptions) || defined(__GXX_RTTI) || defined(__cpp_rtti)
#error "this test must be built with -fno-exceptions -fno-rtti"
#endif

#include "digits_vectors.hpp"
#include "digits_weights.hpp"

#include <ctresnet/ctresnet.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

#ifndef LOGITS_TOLERANCE
#error "LOGITS_TOLERANCE: 0 where the test vectors' compiler and flags built this too (bit-identical), else relative"
#endif

namespace {
using net_type = digits_weights::network;
using input = net_type::input_shape;
float workspace[net_type::workspace_floats];
float logits[digits_vectors::count * 10];
int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  failures += !ok;
}

/// Largest difference from the file-loaded network's logits, relative to the larger of 1 and the logit.
float largest_difference() {
  float worst = 0;
  for (int i = 0; i < digits_vectors::count * 10; ++i)
    worst = std::fmax(worst, std::fabs(logits[i] - digits_vectors::logits[i]) /
                                 std::fmax(1.0f, std::fabs(digits_vectors::logits[i])));
  return worst;
}

/// Bit for bit where LOGITS_TOLERANCE is 0, else within it.
bool logits_match() {
  if (LOGITS_TOLERANCE == 0) return std::memcmp(logits, digits_vectors::logits, sizeof logits) == 0;
  return largest_difference() <= LOGITS_TOLERANCE;
}
}  // namespace

int main() {
  static_assert(!CTRESNET_EXCEPTIONS, "CTRESNET_EXCEPTIONS follows -fno-exceptions");
  const ctresnet::network_view<net_type> net(digits_weights::state);
  const net_type::input_map images(digits_vectors::images, digits_vectors::count, input::channels, input::height,
                                   input::width);
  const ctresnet::status s =
      net.try_forward(images, net_type::output_map(logits, digits_vectors::count, 10), workspace);
  check(s == ctresnet::status::ok, "the digits model runs from the compiled-in weights");

  std::printf("largest relative difference from the file-loaded network's logits: %g over %d images\n",
              static_cast<double>(largest_difference()), digits_vectors::count);
  check(logits_match(), LOGITS_TOLERANCE == 0 ? "the logits are the file-loaded network's, bit for bit"
                                              : "the logits are the file-loaded network's within the tolerance");

  float one[10];
  const net_type::output_map one_image(one, 1, 10);
  check(net.try_forward(net_type::input_map(digits_vectors::images, 1, 1, 16, 8), one_image, workspace) ==
            ctresnet::status::wrong_input_shape,
        "a 1x16x8 image gives status::wrong_input_shape");
  check(net.try_forward(net_type::input_map(digits_vectors::images, 2, 1, 16, 16), one_image, workspace) ==
            ctresnet::status::wrong_output_shape,
        "two images into one row of logits give status::wrong_output_shape");
  check(net.try_forward(net_type::input_map(digits_vectors::images, 1, 1, 16, 16), one_image, nullptr) ==
            ctresnet::status::no_workspace,
        "no workspace gives status::no_workspace");
  std::printf("%s\n", ctresnet::status_message(ctresnet::status::wrong_input_shape));

  // The owning network and the thread pool work in this mode too.
  net_type owned(ctresnet::uninitialized);
  std::memcpy(owned.state_data(), digits_weights::state_data, sizeof digits_weights::state_data);
  check(owned.try_forward(images, net_type::output_map(logits, digits_vectors::count, 10), workspace) ==
            ctresnet::status::state_not_prepared,
        "a network whose state was written reports status::state_not_prepared");
  owned.prepare();
#if CTRESNET_THREADS
  ctresnet::thread_pool pool(2);
  static float pooled_workspace[net_type::workspace_floats_for(2)];
  const ctresnet::status pooled =
      owned.try_forward(images, net_type::output_map(logits, digits_vectors::count, 10), pooled_workspace, pool);
  check(pooled == ctresnet::status::ok && logits_match(), "an owning network on a pool of two threads gives them too");
#endif
  std::printf(failures == 0 ? "all checks passed\n" : "%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
