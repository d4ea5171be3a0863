// Backbones against PyTorch: every stage's feature map of torchvision's resnet50, plain and with
// replace_stride_with_dilation = [False, True, True], and a resnet50 truncated after layer3 that
// loads the full network's weights (see check_parity.hpp for the files and the tolerance).
#include "check_parity.hpp"

#include <stdexcept>

using parity::reference_file;
using namespace ctresnet;

namespace {
using input_96 = shape<3, 96, 96>;
using dilated_resnet50 =
    resnet<bottleneck, stages<3, 4, 6, 3>, 1000, input_96, dilated_layout<torchvision_layout, false, true, true>>;

// A dilated stage keeps its input's resolution: layer3 and layer4 stay at layer2's 12x12.
static_assert(std::is_same_v<dilated_resnet50::stage_shape<3>, shape<2048, 12, 12>>);
static_assert(std::is_same_v<resnet50<1000, input_96>::stage_shape<3>, shape<2048, 3, 3>>);
static_assert(std::is_same_v<backbone<resnet50<>, 3>::features_shape, shape<1024, 14, 14>>);
static_assert(backbone<resnet50<>, 3>::num_params < resnet50<>::num_params);

/// max |actual - expected| within 1e-4 * max(1, max |expected|), with a message naming `what`.
void check_close(const std::string& what, const float* actual, const std::vector<float>& expected) {
  float largest = 1.0f, worst = 0.0f;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    largest = std::max(largest, std::abs(expected[i]));
    worst = std::max(worst, std::abs(actual[i] - expected[i]));
  }
  MESSAGE(what << ": max |ctresnet - PyTorch| = " << worst << ", max |value| = " << largest);
  CHECK(worst <= 1e-4f * largest);
}

std::vector<float> read_tensor(safetensors::reader& io, const std::string& name, index_t expected_size) {
  std::vector<float> values(static_cast<std::size_t>(expected_size));
  index_t size = 1;
  for (const auto d : io.at(name).shape) size *= d;
  REQUIRE(size == expected_size);
  io.read_floats(name, values.data());
  return values;
}

template <class Net>
void check_stages(const std::string& case_name) {
  Net net(uninitialized);
  load_safetensors(net, reference_file(case_name, "weights"));
  safetensors::reader io(reference_file(case_name, "io"));
  typename Net::input_tensor input(2, 3, 96, 96);
  io.read_floats("input", input.data());

  const auto maps = net.forward_stages(input);
  const char* const names[] = {"layer1", "layer2", "layer3", "layer4"};
  for (int i = 0; i < Net::num_stages; ++i) {
    const auto& map = maps[std::size_t(i)];
    check_close(case_name + " " + names[i], map.data(), read_tensor(io, names[i], map.size()));
  }
  const auto logits = net.forward(input);
  check_close(case_name + " logits", logits.data(), read_tensor(io, "output", logits.size()));
}
}  // namespace

TEST_CASE("torchvision_resnet50_stages") { check_stages<resnet50<1000, input_96>>("torchvision_resnet50_stages"); }
TEST_CASE("torchvision_resnet50_dilated_stages") {
  check_stages<dilated_resnet50>("torchvision_resnet50_dilated_stages");
}

TEST_CASE("torchvision_resnet50_backbone") {
  using features = backbone<resnet50<1000, input_96>, 3>;
  static_assert(std::is_same_v<features::features_shape, shape<1024, 6, 6>>);
  const std::string weights = reference_file("torchvision_resnet50_stages", "weights");
  features net(uninitialized);
  // The full network's file has layer4 and fc, which a backbone lacks: an error unless ignored.
  try {
    load_safetensors(net, weights);
    FAIL("a full resnet50 file loaded into a backbone without unexpected_tensors::ignore");
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    CHECK(message.find("unexpected tensor 'fc.weight'") != std::string::npos);
    CHECK(message.find("pass unexpected_tensors::ignore") != std::string::npos);
  }
  load_safetensors(net, weights, unexpected_tensors::ignore);

  safetensors::reader io(reference_file("torchvision_resnet50_stages", "io"));
  features::input_tensor input(2, 3, 96, 96);
  io.read_floats("input", input.data());
  const auto layer3 = net.forward(input);
  REQUIRE(layer3.dimension(1) == 1024);
  check_close("backbone<resnet50, 3>", layer3.data(), read_tensor(io, "layer3", layer3.size()));
}
