// The main job: the committed digits model (tools/train_digits.py) classifies the 360 held-out
// images as PyTorch does. The images go through ctresnet-classify's own path: stb_image decodes
// the PGM files, digits_transform preprocesses them.
#include "digits_transform.hpp"
#include "digits_test_set.hpp"
#include "image_file.hpp"

#include <ctresnet/ctresnet.hpp>
#include <ctresnet/preprocess.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#ifndef CTRESNET_DIGITS_DIR
#error "CTRESNET_DIGITS_DIR must name examples/digits"
#endif

namespace {
using net_type = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>;
const std::string digits_dir = CTRESNET_DIGITS_DIR;

using test_image = digits_test_image;
std::vector<test_image> read_labels() { return read_digits_labels(digits_dir); }

int argmax(const float* row, int count) { return static_cast<int>(std::max_element(row, row + count) - row); }
}  // namespace

TEST_CASE("the digits model classifies the held-out images as PyTorch does, with at least 95 % accuracy") {
  const std::vector<test_image> images = read_labels();
  REQUIRE(images.size() == 360);

  ctresnet::safetensors::reader reference(digits_dir + "/reference_logits.safetensors");
  REQUIRE(reference.at("logits").shape == std::vector<std::int64_t>{360, 10});
  std::vector<float> torch_logits(360 * 10), torch_labels(360);
  reference.read_floats("logits", torch_logits.data());
  reference.read_floats("labels", torch_labels.data());

  net_type net;
  ctresnet::load_safetensors(net, digits_dir + "/resnet20_digits.safetensors");
  net_type::input_tensor x(360, 1, 16, 16);
  using input = digits_transform::output_shape;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const ctresnet::image pixels = examples::read_image_file(digits_dir + "/test/" + images[i].file);
    REQUIRE(pixels.width == 8);
    REQUIRE(pixels.height == 8);
    REQUIRE(pixels.channels == 1);
    digits_transform{}(pixels, x.data() + static_cast<std::ptrdiff_t>(i) * input::size);
  }
  const net_type::output_tensor logits = net.forward(x);

  int correct = 0, same_argmax = 0;
  float worst = 0, largest = 0;
  for (int i = 0; i < 360; ++i) {
    const float* ours = logits.data() + i * 10;
    const float* theirs = torch_logits.data() + i * 10;
    CHECK(images[static_cast<std::size_t>(i)].label == static_cast<int>(torch_labels[static_cast<std::size_t>(i)]));
    for (int c = 0; c < 10; ++c) {
      worst = std::max(worst, std::abs(ours[c] - theirs[c]));
      largest = std::max(largest, std::abs(theirs[c]));
    }
    const int guess = argmax(ours, 10);
    same_argmax += guess == argmax(theirs, 10);
    correct += guess == images[static_cast<std::size_t>(i)].label;
  }
  const float tolerance = 1e-4f * std::max(1.0f, largest);
  MESSAGE("max |ctresnet - PyTorch| = " << worst << " (tolerance " << tolerance << ", max |logit| " << largest
                                        << "); same argmax " << same_argmax << "/360; accuracy " << correct << "/360");
  CHECK(same_argmax == 360);
  CHECK(worst <= tolerance);
  CHECK(correct >= 342);  // 95 % of 360
}
