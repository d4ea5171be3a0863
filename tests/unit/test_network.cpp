// The network type at run time: forward pass, input checks, initialisation, state-dict names,
// summary.
#include <ctresnet/ctresnet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
using namespace ctresnet;
using small_resnet18 = resnet18<10, shape<3, 64, 64>>;
using small_resnet50 = resnet50<7, shape<3, 64, 64>>;
using small_resnext50 = resnext50_32x4d<6, shape<3, 64, 64>>;

template <class Net>
typename Net::input_tensor random_input(index_t batch, std::uint64_t seed) {
  typename Net::input_tensor x(batch, Net::input_shape::channels, Net::input_shape::height, Net::input_shape::width);
  random_generator generator(seed);
  for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(generator.normal());
  return x;
}

std::vector<std::string> names_of(const std::vector<tensor_info>& tensors) {
  std::vector<std::string> names;
  for (const auto& t : tensors) names.push_back(t.name);
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// A float that no forward pass computes: a NaN with a payload.
float workspace_marker() {
  const std::uint32_t bits = 0x7fc0beefu;
  float marker;
  std::memcpy(&marker, &bits, sizeof marker);
  return marker;
}
}  // namespace

TEST_CASE_TEMPLATE("forward gives (N, classes) finite logits, each image independent of the batch", Net,
                   small_resnet18, small_resnet50) {
  const Net net(3);
  const auto x = random_input<Net>(3, 11);
  const auto logits = net.forward(x);
  REQUIRE(logits.dimension(0) == 3);
  REQUIRE(logits.dimension(1) == Net::num_classes);
  for (index_t i = 0; i < logits.size(); ++i) REQUIRE(std::isfinite(logits.data()[i]));

  typename Net::input_tensor second(1, Net::input_shape::channels, Net::input_shape::height, Net::input_shape::width);
  std::copy(x.data() + Net::input_shape::size, x.data() + 2 * Net::input_shape::size, second.data());
  const auto alone = net.forward(second);
  for (int c = 0; c < Net::num_classes; ++c) CHECK(alone(0, c) == logits(1, c));
  CHECK(logits(0, 0) != logits(1, 0));
}

// The allocating forward leaves its workspace uninitialized, so no pass may read a workspace
// float before writing it: workspaces of zeros, of NaNs and of a huge number must give the same
// logits. (One fill alone can hide a read: a max ignores a NaN in one operand on x86, and a zero
// read into a max pool after a ReLU changes nothing.)
TEST_CASE_TEMPLATE("workspaces of zeros, NaNs and 3e38 give the logits of the allocating forward", Net,
                   small_resnet18, small_resnet50, small_resnext50) {
  const Net net(5);
  const auto x = random_input<Net>(2, 12);
  const auto allocated = net.forward(x);
  const typename Net::input_map images(x.data(), x.dimensions());
  for (int threads : {1, 2}) {
    CAPTURE(threads);
#if CTRESNET_THREADS
    thread_pool pool(threads);
    const execution on = pool;
#else
    if (threads > 1) break;
    const execution on;
#endif
    for (const float fill : {0.0f, workspace_marker(), 3e38f}) {
      CAPTURE(fill);
      std::vector<float> workspace(static_cast<std::size_t>(Net::workspace_floats_for(threads)), fill);
      std::vector<float> logits(2 * Net::num_classes);
      net.forward(images, typename Net::output_map(logits.data(), 2, Net::num_classes), workspace.data(), on);
      int differ = 0;
      for (std::size_t i = 0; i < logits.size(); ++i) differ += logits[i] != allocated.data()[i];
      CHECK(differ == 0);
    }
  }
}

TEST_CASE("a workspace that does not start on a cache line works, and nothing is written past its end") {
  const small_resnet18 net(5);
  const auto x = random_input<small_resnet18>(1, 13);
  const auto expected = net.forward(x);
  constexpr std::size_t size = small_resnet18::workspace_floats;
  constexpr float sentinel = 12345.0f;
  for (std::size_t shift = 0; shift < 16; shift += 3) {
    CAPTURE(shift);
    std::vector<float> buffer(shift + size + 32, sentinel);
    std::vector<float> logits(10);
    net.forward(small_resnet18::input_map(x.data(), x.dimensions()), small_resnet18::output_map(logits.data(), 1, 10),
                buffer.data() + shift);
    for (int i = 0; i < 10; ++i) CHECK(logits[std::size_t(i)] == expected.data()[i]);
    CHECK(std::all_of(buffer.begin(), buffer.begin() + long(shift), [](float v) { return v == sentinel; }));
    CHECK(std::all_of(buffer.begin() + long(shift + size), buffer.end(), [](float v) { return v == sentinel; }));
  }
}

TEST_CASE("an input of the wrong shape is rejected with a message naming both shapes") {
  const small_resnet18 net;
  small_resnet18::input_tensor wrong(2, 3, 64, 65);
  wrong.setZero();
  CHECK_THROWS_WITH_AS(net.forward(wrong),
                       "ctresnet::forward: the input has shape [2, 3, 64, 65], expected [N, 3, 64, 64] with N >= 1",
                       std::invalid_argument);
  small_resnet18::input_tensor empty(0, 3, 64, 64);
  CHECK_THROWS_AS(net.forward(empty), std::invalid_argument);
  small_resnet18::input_tensor one_channel(1, 1, 64, 64);
  one_channel.setZero();
  CHECK_THROWS_AS(net.forward(one_channel), std::invalid_argument);
}

TEST_CASE("after writing the state, a forward pass waits for prepare()") {
  using small = resnet18<10, shape<3, 32, 32>>;
  small net(1);
  small::input_tensor x(1, 3, 32, 32);
  x.setConstant(0.5f);
  const small::output_tensor before = net.forward(x);

  // Scale a Winograd conv's weights (layer1.0.conv1): its transformed copy must follow.
  index_t offset = -1, elements = 0;
  small::visit_tensors([&](const tensor_info& t) {
    if (t.name == "layer1.0.conv1.weight") {
      offset = t.offset;
      elements = t.elements();
    }
  });
  REQUIRE(offset >= 0);
  float* state = net.state_data();
  for (index_t i = 0; i < elements; ++i) state[offset + i] *= 2.0f;
  CHECK_THROWS_AS(net.forward(x), std::logic_error);

  net.prepare();
  const small::output_tensor after = net.forward(x);
  bool changed = false;
  for (int c = 0; c < 10; ++c) changed = changed || after(0, c) != before(0, c);
  CHECK(changed);
}

TEST_CASE("initialisation follows PyTorch's recipes and the seed") {
  const resnet18<> a(42), b(42), c(43);
  const auto tensors = resnet18<>::tensors();
  CHECK(std::equal(a.state_data(), a.state_data() + resnet18<>::state_floats, b.state_data()));
  CHECK_FALSE(std::equal(a.state_data(), a.state_data() + resnet18<>::state_floats, c.state_data()));

  for (const auto& t : tensors) {
    const float* data = a.state_data() + t.offset;
    const auto n = static_cast<std::size_t>(t.elements());
    CAPTURE(t.name);
    switch (t.role) {
      case tensor_role::conv_weight: {
        double sum = 0, squares = 0;
        for (std::size_t i = 0; i < n; ++i) sum += data[i], squares += double{data[i]} * data[i];
        const double expected_std = std::sqrt(2.0 / double(t.shape[0] * t.shape[2] * t.shape[3]));
        CHECK(std::abs(sum / double(n)) < 0.1 * expected_std);
        CHECK(std::sqrt(squares / double(n)) == doctest::Approx(expected_std).epsilon(0.1));
        break;
      }
      case tensor_role::norm_weight:
      case tensor_role::norm_running_var:
        CHECK(std::all_of(data, data + n, [](float v) { return v == 1.0f; }));
        break;
      case tensor_role::norm_bias:
      case tensor_role::norm_running_mean:
        CHECK(std::all_of(data, data + n, [](float v) { return v == 0.0f; }));
        break;
      case tensor_role::linear_weight:
      case tensor_role::linear_bias: {
        const float bound = 1.0f / std::sqrt(512.0f);
        CHECK(std::all_of(data, data + n, [&](float v) { return std::abs(v) <= bound; }));
        CHECK(*std::max_element(data, data + n) > 0.9f * bound);
        break;
      }
    }
  }
}

TEST_CASE("state-dict names and shapes follow torchvision") {
  const auto tensors = resnet18<>::tensors();
  const auto names = names_of(tensors);
  // torchvision's resnet18 state_dict has 122 entries, 20 of them num_batches_tracked.
  CHECK(tensors.size() == 102);
  CHECK(names.front() == "conv1.weight");
  CHECK(names.back() == "fc.bias");
  for (const char* name : {"bn1.running_var", "layer1.0.conv1.weight", "layer1.1.bn2.bias", "layer2.0.downsample.0.weight",
                           "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight", "fc.weight"})
    CHECK_MESSAGE(contains(names, name), name);
  CHECK_FALSE(contains(names, "layer1.0.downsample.0.weight"));  // 64 -> 64 at stride 1 needs no projection
  CHECK(tensors[0].shape_string() == "[64, 3, 7, 7]");

  const auto r50 = names_of(resnet50<>::tensors());
  CHECK(r50.size() == 320 - 53);  // 53 BatchNorms
  CHECK(contains(r50, "layer1.0.downsample.0.weight"));
  CHECK(contains(r50, "layer3.5.conv3.weight"));

  // The tensors lie in the state buffer in order, without overlap; the rest of it is derived.
  index_t next = 0, total = 0;
  for (const auto& t : resnet50<>::tensors()) {
    REQUIRE(t.offset >= next);
    next = t.offset + t.elements();
    total += t.elements();
  }
  CHECK(next <= resnet50<>::state_floats);
  CHECK(total == resnet50<>::tensor_floats);
  CHECK(resnet50<>::tensor_floats == resnet50<>::num_params + 2 * 26560);  // 26,560 BatchNorm channels
}

TEST_CASE("state-dict names of the stage-projection layout follow its nn.Sequential containers") {
  const auto r18 = names_of(stage_projection::resnet18<>::tensors());
  for (const char* name : {"conv1.0.weight", "conv1.1.running_mean", "layer1.0.basicblock.0.weight",
                           "layer1.0.basicblock.3.weight", "layer1.0.basicblock.4.running_var",
                           "layer1.0.downsample.0.weight", "layer1.0.downsample.1.bias", "fc.weight", "fc.bias"})
    CHECK_MESSAGE(contains(r18, name), name);
  CHECK_FALSE(contains(r18, "layer1.1.downsample.0.weight"));
  const auto r50 = names_of(stage_projection::resnet50<>::tensors());
  for (const char* name : {"layer2.0.bottleneck.4.bias", "layer2.0.bottleneck.6.weight", "layer4.2.bottleneck.7.running_var"})
    CHECK_MESSAGE(contains(r50, name), name);
  CHECK(stage_projection::resnet50<>::tensors().back().shape_string() == "[5]");
}

TEST_CASE("the summary lists every layer with shape, parameters and MACs") {
  std::ostringstream out;
  print_summary<resnet50<>>(out);
  const std::string text = out.str();
  CHECK(text.find("layer4.2.conv3") != std::string::npos);
  CHECK(text.find("[2048, 7, 7]") != std::string::npos);
  CHECK(text.find("Total params: 25,557,032") != std::string::npos);
  CHECK(text.find("Total MACs:   4,089,184,256") != std::string::npos);
  // conv1: 64x3x7x7 weights, 118,013,952 MACs at 112x112.
  CHECK(text.find("9,408      118,013,952") != std::string::npos);

  std::ostringstream stages_only;
  print_summary<resnet50<>>(stages_only, 1);
  CHECK(stages_only.str().find("layer3.0") == std::string::npos);
  CHECK(stages_only.str().find("layer3 ") != std::string::npos);
}

TEST_CASE("the summary shows grouped and dilated convs, option-A shortcuts and backbones without a head") {
  std::ostringstream resnext;
  print_summary<resnext50_32x4d<>>(resnext);
  CHECK(resnext.str().find("Conv2d 3x3/1, 32 groups") != std::string::npos);
  CHECK(resnext.str().find("Total params: 25,028,904") != std::string::npos);

  std::ostringstream dilated;
  print_summary<resnet<bottleneck, stages<3, 4, 6, 3>, 1000, imagenet_input,
                       dilated_layout<torchvision_layout, false, true, true>>>(dilated);
  CHECK(dilated.str().find("layer4.1.conv2                 Conv2d 3x3/1, dilation 4 [512, 28, 28]") != std::string::npos);

  std::ostringstream cifar;
  print_summary<cifar::resnet20<>>(cifar);
  CHECK(cifar.str().find("layer2.0.shortcut") != std::string::npos);
  CHECK(cifar.str().find("ZeroPadShortcut /2") != std::string::npos);
  CHECK(cifar.str().find("maxpool") == std::string::npos);

  std::ostringstream features;
  print_summary<backbone<resnet50<>, 3>>(features);
  CHECK(features.str().find("layer3.5.conv3") != std::string::npos);
  CHECK(features.str().find("layer4") == std::string::npos);
  CHECK(features.str().find("fc") == std::string::npos);
}

TEST_CASE("forward_stages gives every stage's map, the last one what forward's features are") {
  using small = resnet18<10, shape<3, 64, 64>>;
  const small net(7);
  const auto x = random_input<small>(2, 21);
  const auto maps = net.forward_stages(x);
  CHECK(maps[0].dimension(1) == 64);
  CHECK(maps[3].dimension(1) == 512);
  CHECK(maps[3].dimension(2) == 2);

  // A backbone of the same seed has the same weights (the state dict begins the same way).
  const backbone<small, 4> features(7);
  const auto last = features.forward(x);
  REQUIRE(last.size() == maps[3].size());
  for (index_t i = 0; i < last.size(); ++i) REQUIRE(last.data()[i] == maps[3].data()[i]);

  // Asking only for layer2 runs no further; the others stay untouched.
  std::vector<float> layer2(std::size_t(2 * small::stage_shape<1>::size), -7.0f);
  std::vector<float> workspace(static_cast<std::size_t>(small::workspace_floats));
  net.forward_stages(small::input_map(x.data(), x.dimensions()), {nullptr, layer2.data(), nullptr, nullptr},
                     workspace.data());
  for (std::size_t i = 0; i < layer2.size(); ++i) REQUIRE(layer2[i] == maps[1].data()[i]);
}

TEST_CASE("a network made for loading starts with a state of zeros") {
  using small = resnet18<10, shape<3, 32, 32>>;
  const small net(uninitialized);
  CHECK(std::all_of(net.state_data(), net.state_data() + small::state_floats, [](float v) { return v == 0.0f; }));
  small::input_tensor x(1, 3, 32, 32);
  x.setConstant(1.0f);
  const auto logits = net.forward(x);
  for (int c = 0; c < 10; ++c) CHECK(logits(0, c) == 0.0f);
}

TEST_CASE("without_winograd keeps only the weights in the state and computes the same logits") {
  using fast = cifar::resnet20<>;
  using lean = cifar::resnet20<10, cifar_input, without_winograd<cifar_layout>>;
  static_assert(fast::derived_floats > 0 && lean::derived_floats == 0);
  static_assert(lean::state_floats == lean::tensor_floats);
  const fast a(4);
  const lean b(4);
  const auto x = random_input<fast>(2, 17);
  const auto with = a.forward(x);
  const auto without = b.forward(x);
  for (index_t i = 0; i < with.size(); ++i) CHECK(without.data()[i] == doctest::Approx(with.data()[i]).epsilon(1e-4));
}

namespace {
/// The share of a forward pass's workspace that it writes: every float starts as the marker, and
/// counts as touched once it is something else.
template <class Net>
double touched_share_of_workspace() {
  const Net net(uninitialized);
  typename Net::input_tensor x(1, Net::input_shape::channels, Net::input_shape::height, Net::input_shape::width);
  x.setConstant(0.25f);
  const float marker = workspace_marker();
  std::vector<float> workspace(static_cast<std::size_t>(Net::workspace_floats), marker);
  typename Net::output_tensor out(Net::output_dimensions(1));
  net.forward(typename Net::input_map(x.data(), x.dimensions()), typename Net::output_map(out.data(), out.dimensions()),
              workspace.data());
  std::size_t touched = 0;
  for (float v : workspace) touched += std::memcmp(&v, &marker, sizeof v) != 0;
  return static_cast<double>(touched) / static_cast<double>(workspace.size());
}
}  // namespace

TEST_CASE("the workspace bound is tight: a forward pass writes a large share of it") {
  // Three activation buffers sized for the largest activation; a network whose other activations
  // are smaller leaves parts of two of them unused (resnet50 fills only one with its 256x56x56
  // maps, the others at most half: 74 % of its workspace touched with AVX-512, 69 % with SSE2 or NEON).
  const double resnet50_share = touched_share_of_workspace<resnet50<>>();
  const double resnet18_share = touched_share_of_workspace<resnet18<>>();
  const double cifar_share = touched_share_of_workspace<cifar::resnet20<>>();
  MESSAGE("touched: resnet50 " << resnet50_share << ", resnet18 " << resnet18_share << ", cifar resnet20 " << cifar_share);
  CHECK(resnet50_share > 0.6);
  CHECK(resnet18_share > 0.9);
  CHECK(cifar_share > 0.9);
}
