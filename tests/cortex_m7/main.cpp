// The digits model on a Cortex-M7, its weights compiled in (read in place from flash), its
// workspace a static array: no heap, no exceptions, no RTTI. It runs the first test images,
// prints their logits and compares them with the logits the file-loaded network gave on the host.
#include "digits_vectors.hpp"
#include "digits_weights.hpp"

#include <ctresnet/ctresnet.hpp>

#include <cmath>
#include <cstdio>

#ifndef DIGITS_IMAGES
#define DIGITS_IMAGES 8
#endif

namespace {
using net_type = digits_weights::network;
using input = net_type::input_shape;
float workspace[net_type::workspace_floats];
static_assert(DIGITS_IMAGES <= digits_vectors::count, "DIGITS_IMAGES: there are not that many test images");
}  // namespace

int main() {
  const ctresnet::network_view<net_type> net(digits_weights::state);
  std::printf("cortex_m7: digits model, state %ld bytes in flash, workspace %u bytes in RAM\n",
              static_cast<long>(net_type::state_floats * 4), static_cast<unsigned>(net_type::workspace_bytes));
  float worst = 0;
  int same_class = 0;
  for (int i = 0; i < DIGITS_IMAGES; ++i) {
    float logits[10];
    const net_type::input_map image(digits_vectors::images + i * input::size, 1, input::channels, input::height,
                                    input::width);
    const ctresnet::status s = net.try_forward(image, net_type::output_map(logits, 1, 10), workspace);
    if (s != ctresnet::status::ok) {
      std::printf("cortex_m7: error: %s\n", ctresnet::status_message(s));
      return 1;
    }
    const float* host = digits_vectors::logits + i * 10;
    int guess = 0, host_guess = 0;
    std::printf("image %d logits:", i);
    for (int c = 0; c < 10; ++c) {
      std::printf(" %.6f", static_cast<double>(logits[c]));
      worst = std::fmax(worst, std::fabs(logits[c] - host[c]) / std::fmax(1.0f, std::fabs(host[c])));
      if (logits[c] > logits[guess]) guess = c;
      if (host[c] > host[host_guess]) host_guess = c;
    }
    std::printf("  class %d (label %d)\n", guess, digits_vectors::labels[i]);
    same_class += guess == host_guess;
  }
  // The error path is there without exceptions: a 1x16x8 image is refused by its status.
  float logits[10];
  const ctresnet::status wrong = net.try_forward(net_type::input_map(digits_vectors::images, 1, 1, 16, 8),
                                                 net_type::output_map(logits, 1, 10), workspace);
  std::printf("wrong input shape: %s\n", ctresnet::status_message(wrong));
  const bool match = worst <= 1e-4f && same_class == DIGITS_IMAGES && wrong == ctresnet::status::wrong_input_shape;
  std::printf("largest relative difference from the host's logits: %.3g over %d images\n",
              static_cast<double>(worst), DIGITS_IMAGES);
  std::printf(match ? "cortex_m7: the logits match the host's\n" : "cortex_m7: MISMATCH with the host's logits\n");
  return match ? 0 : 1;
}
