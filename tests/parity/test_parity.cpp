// ctresnet against PyTorch: the same weights and inputs must give the same logits, within
// 1e-4 * max(1, max |logit|). The reference files come from tools/make_references.py; the
// directory is in CTRESNET_REFDATA. A missing file fails the test: nothing is skipped.
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
using namespace ctresnet;

std::string reference_file(const std::string& case_name, const std::string& kind) {
  const char* dir = std::getenv("CTRESNET_REFDATA");
  REQUIRE_MESSAGE(dir != nullptr, "set CTRESNET_REFDATA to the directory tools/make_references.py wrote");
  return std::string(dir) + "/" + case_name + "." + kind + ".safetensors";
}

template <class Net>
void check_parity(const std::string& case_name) {
  Net net;
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

  // What ctresnet saves must load back into PyTorch; tests/CMakeLists.txt checks that with PyTorch.
  if (const char* saved = std::getenv("CTRESNET_SAVE_TO")) save_safetensors(net, saved);
}
}  // namespace

TEST_CASE("torchvision_resnet18") { check_parity<resnet18<>>("torchvision_resnet18"); }
TEST_CASE("torchvision_resnet34") { check_parity<resnet34<>>("torchvision_resnet34"); }
TEST_CASE("torchvision_resnet50") { check_parity<resnet50<>>("torchvision_resnet50"); }
TEST_CASE("torchvision_resnet101") { check_parity<resnet101<>>("torchvision_resnet101"); }
TEST_CASE("torchvision_resnet152") { check_parity<resnet152<>>("torchvision_resnet152"); }
TEST_CASE("reference_resnet18") { check_parity<reference::resnet18<>>("reference_resnet18"); }
TEST_CASE("reference_resnet34") { check_parity<reference::resnet34<>>("reference_resnet34"); }
TEST_CASE("reference_resnet50") { check_parity<reference::resnet50<>>("reference_resnet50"); }
TEST_CASE("reference_resnet101") { check_parity<reference::resnet101<>>("reference_resnet101"); }
TEST_CASE("reference_resnet152") { check_parity<reference::resnet152<>>("reference_resnet152"); }
TEST_CASE("v1_resnet50") { check_parity<v1::resnet50<>>("v1_resnet50"); }
TEST_CASE("v1_resnet101") { check_parity<v1::resnet101<>>("v1_resnet101"); }
