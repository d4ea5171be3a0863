// ctresnet against PyTorch: the same weights and inputs must give the same logits, within
// 1e-4 * max(1, max |logit|). The reference files come from tools/make_references.py; the
// directory is in CTRESNET_REFDATA. A missing file fails the test: nothing is skipped.
#pragma once

#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace parity {
using namespace ctresnet;

inline std::string reference_file(const std::string& case_name, const std::string& kind) {
  const char* dir = std::getenv("CTRESNET_REFDATA");
  REQUIRE_MESSAGE(dir != nullptr, "set CTRESNET_REFDATA to the directory tools/make_references.py wrote");
  return std::string(dir) + "/" + case_name + "." + kind + ".safetensors";
}

template <class Net>
void check_parity(const std::string& case_name) {
  Net net(uninitialized);
  load_safetensors(net, reference_file(case_name, "weights"));

  safetensors::reader io(reference_file(case_name, "io"));
  const auto& input_entry = io.at("input");
  REQUIRE(input_entry.shape.size() == 4);
  typename Net::input_tensor input(input_entry.shape[0], input_entry.shape[1], input_entry.shape[2],
                                   input_entry.shape[3]);
  io.read_floats("input", input.data());
  REQUIRE(io.at("output").shape == std::vector<std::int64_t>{input_entry.shape[0], Net::num_classes});
  std::vector<float> expected(static_cast<std::size_t>(input_entry.shape[0] * Net::num_classes));
  io.read_floats("output", expected.data());

  const auto logits = net.forward(input);
  float largest = 1.0f, worst = 0.0f;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    largest = std::max(largest, std::abs(expected[i]));
    worst = std::max(worst, std::abs(logits.data()[i] - expected[i]));
  }
  MESSAGE(case_name << ": max |ctresnet - PyTorch| = " << worst << ", max |logit| = " << largest);
  CHECK(worst <= 1e-4f * largest);
  CHECK(std::all_of(logits.data(), logits.data() + logits.size(), [](float v) { return std::isfinite(v); }));

  // What ctresnet saves must load back into PyTorch; tests/parity/CMakeLists.txt checks that with PyTorch.
  if (const char* saved = std::getenv("CTRESNET_SAVE_TO")) save_safetensors(net, saved);
}
}  // namespace parity

