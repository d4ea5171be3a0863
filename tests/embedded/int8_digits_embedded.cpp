// Built with -fno-exceptions -fno-rtti for aarch64 with the dot product, whose kernels read the
// int8 weights packed as panels_sdot (under qemu-aarch64: cross.aarch64.digits_int8_embedded): the
// int8 digits model runs from the panels_sdot header that ctresnet-embed wrote on the host, through
// a quantized_view, and its uint8 logits, from the float and from PyTorch's quantized images, on
// the calling thread and on a pool, are PyTorch's (make_int8_digits_vectors wrote them). The exit
// status and the printed lines are the result.
#if defined(__cpp_exceptions) || defined(__GXX_RTTI) || defined(__cpp_rtti)
#error "this test must be built with -fno-exceptions -fno-rtti"
#endif

#include "digits_int8_weights_panels_sdot.hpp"
#include "int8_digits_vectors.hpp"

#include <ctresnet/quantized.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {
using view_type = digits_int8::view;
constexpr int count = int8_digits_vectors::count, classes = 10;
alignas(64) std::uint8_t workspace[view_type::workspace_bytes_for(2)];
std::uint8_t logits[count * classes];
int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  failures += !ok;
}

bool logits_are_pytorchs() { return std::memcmp(logits, int8_digits_vectors::logits, sizeof logits) == 0; }
}  // namespace

int main() {
  const view_type net(digits_int8::state);
  const view_type::input_map images(int8_digits_vectors::images, count, 1, 16, 16);
  const view_type::uint8_output_map out(logits, count, classes);
  check(net.try_forward(images, out, workspace) == ctresnet::status::ok && logits_are_pytorchs(),
        "the uint8 logits from the float images are PyTorch's");
  std::memset(logits, 0, sizeof logits);
  check(net.try_forward(view_type::uint8_input_map(int8_digits_vectors::quantized_images, count, 1, 16, 16), out,
                        workspace) == ctresnet::status::ok &&
            logits_are_pytorchs(),
        "the uint8 logits from PyTorch's quantized images are PyTorch's");
#if CTRESNET_THREADS
  std::memset(logits, 0, sizeof logits);
  ctresnet::thread_pool pool(2);
  check(net.try_forward(images, out, workspace, pool) == ctresnet::status::ok && logits_are_pytorchs(),
        "on a pool of two threads too");
#endif
  check(net.try_forward(view_type::input_map(int8_digits_vectors::images, 1, 1, 16, 8), out, workspace) ==
            ctresnet::status::wrong_input_shape,
        "a 1x16x8 image gives status::wrong_input_shape");
  std::printf("%d images; %s\n", count, failures == 0 ? "all checks passed" : "some checks failed");
  return failures == 0 ? 0 : 1;
}
