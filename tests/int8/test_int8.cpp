// ctresnet's int8 networks against PyTorch's quantized models (engine qnnpack): the quantized
// input, every stage's uint8 map and the uint8 logits must equal PyTorch's in every element, and
// the dequantized logits bit for bit. They are checked in the order the network computes them, so
// the first failure names where a difference starts; then the same on thread pools of 2 and 3.
// The files come from tools/make_int8_references.py; their directory is in CTRESNET_INT8_REFDATA.
// A missing file fails the test: nothing is skipped.
#include <ctresnet/quantized/safetensors.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {
using namespace ctresnet;

std::string reference_file(const std::string& case_name, const std::string& kind) {
  const char* dir = std::getenv("CTRESNET_INT8_REFDATA");
  REQUIRE_MESSAGE(dir != nullptr, "set CTRESNET_INT8_REFDATA to the directory tools/make_int8_references.py wrote");
  return std::string(dir) + "/" + case_name + ".int8." + kind + ".safetensors";
}

/// "[1, 63, 5, 7]": where flat element `i` of a tensor of `shape` is.
std::string position(std::size_t i, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> at(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    at[d] = static_cast<std::int64_t>(i % static_cast<std::size_t>(shape[d]));
    i /= static_cast<std::size_t>(shape[d]);
  }
  return detail::shape_text(at.data(), at.size());
}

/// Every element of `computed` equals the io file's uint8 tensor `name`; else the count of those
/// that differ and the first of them.
void require_equal(safetensors::reader& io, const std::string& name, const std::uint8_t* computed) {
  const std::vector<std::int64_t> shape = io.at(name).shape;
  std::vector<std::uint8_t> expected(static_cast<std::size_t>(io.at(name).end - io.at(name).begin));
  io.read_raw(name, "U8", shape, expected.data());
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (computed[i] != expected[i] && differ++ == 0) first = i;
  std::ostringstream report;
  if (differ != 0)
    report << name << ": " << differ << " of " << expected.size() << " elements differ from PyTorch's; the first at "
           << position(first, shape) << ": " << int(computed[first]) << ", PyTorch " << int(expected[first]);
  REQUIRE_MESSAGE(differ == 0, report.str());
}

template <class Net>
void check_int8(const std::string& case_name) {
  using q_net = quantized<Net>;
  const auto net = std::make_unique<q_net>();
  load_int8_safetensors(*net, reference_file(case_name, "weights"));

  safetensors::reader io(reference_file(case_name, "io"));
  const std::vector<std::int64_t> shape = io.at("input").shape;
  REQUIRE(shape.size() == 4);
  typename q_net::input_tensor input(shape[0], shape[1], shape[2], shape[3]);
  io.read_floats("input", input.data());
  const index_t n = input.dimension(0);

  const typename q_net::uint8_images_tensor quantized_input = net->quantize(input);
  require_equal(io, "quant", quantized_input.data());

  // Every stage, through the allocation-free form.
  std::vector<std::vector<std::uint8_t>> maps(q_net::num_stages);
  typename q_net::stage_maps targets{};
  q_net::for_each_stage([&](auto stage) {
    using stage_shape = typename q_net::template stage_shape<decltype(stage)::value>;
    maps[stage].resize(static_cast<std::size_t>(n * stage_shape::size));
    targets[stage] = maps[stage].data();
  });
  // Workspaces filled with 0xa5 bytes: a pass must write what it reads (the allocating forward
  // leaves its workspace uninitialized), or its outputs would differ from PyTorch's.
  std::vector<std::byte> workspace(q_net::workspace_bytes, std::byte{0xa5});
  REQUIRE(net->try_forward_stages(input, targets, workspace.data()) == status::ok);
  for (int i = 0; i < q_net::num_stages; ++i) require_equal(io, "layer" + std::to_string(i + 1), maps[std::size_t(i)].data());

  // The uint8 logits from the float input, then the dequantized ones from the quantized input.
  typename q_net::uint8_output_tensor output(n, q_net::num_classes);
  REQUIRE(net->try_forward(input, output, workspace.data()) == status::ok);
  require_equal(io, "output", output.data());
  float scale;
  std::int32_t zero_point;
  io.read_raw("output_scale", "F32", {}, &scale);
  io.read_raw("output_zero_point", "I32", {}, &zero_point);
  const quantization output_quantization = net->output_quantization();
  CHECK(std::memcmp(&scale, &output_quantization.scale, sizeof scale) == 0);
  CHECK(zero_point == output_quantization.zero_point);

#if CTRESNET_THREADS
  // On 2 and 3 threads: the same maps and logits, through the allocation-free forms.
  for (const int threads : {2, 3}) {
    INFO(threads << " threads");
    thread_pool pool(threads);
    std::vector<std::byte> pool_workspace(q_net::workspace_bytes_for(threads), std::byte{0xa5});
    std::vector<std::vector<std::uint8_t>> pool_maps(maps.size());
    typename q_net::stage_maps pool_targets{};
    for (std::size_t i = 0; i < maps.size(); ++i) {
      pool_maps[i].resize(maps[i].size());
      pool_targets[i] = pool_maps[i].data();
    }
    REQUIRE(net->try_forward_stages(input, pool_targets, pool_workspace.data(), pool) == status::ok);
    for (int i = 0; i < q_net::num_stages; ++i)
      require_equal(io, "layer" + std::to_string(i + 1), pool_maps[std::size_t(i)].data());
    typename q_net::uint8_output_tensor pool_output(n, q_net::num_classes);
    REQUIRE(net->try_forward(input, pool_output, pool_workspace.data(), pool) == status::ok);
    require_equal(io, "output", pool_output.data());
  }
#endif

  const auto logits = net->forward(typename q_net::uint8_input_map(quantized_input.data(), quantized_input.dimensions()));
  std::vector<float> expected(static_cast<std::size_t>(logits.size()));
  io.read_floats("logits", expected.data());
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (std::memcmp(&expected[i], logits.data() + i, sizeof(float)) != 0 && differ++ == 0) first = i;
  std::ostringstream report;
  if (differ != 0)
    report << "logits: " << differ << " differ from PyTorch's in their bits; the first, " << first << ": "
           << logits.data()[first] << ", PyTorch " << expected[first];
  REQUIRE_MESSAGE(differ == 0, report.str());
}

/// Net's backbone of `Stages` stages, loaded from Net's whole file: its output, uint8 and
/// dequantized, is PyTorch's map of stage `Stages`, on 1 and 2 threads, and through a view.
template <class Net, int Stages>
void check_int8_backbone(const std::string& case_name) {
  using q_backbone = quantized<backbone<Net, Stages>>;
  static_assert(!q_backbone::has_classifier && q_backbone::num_stages == Stages && q_backbone::output_rank == 4);
  static_assert(std::is_same_v<typename q_backbone::features_shape, typename quantized<Net>::template stage_shape<Stages - 1>>);
  static_assert(q_backbone::state_bytes < quantized<Net>::state_bytes);
  const auto net = std::make_unique<q_backbone>();
  const std::string weights = reference_file(case_name, "weights");
  // The whole network's file has tensors the backbone does not: refused, unless asked to ignore them.
  std::string refusal;
  try {
    load_int8_safetensors(*net, weights);
  } catch (const weights_error& e) {
    refusal = e.what();
  }
  CHECK_MESSAGE(refusal.find("unexpected tensor '" + quantized<Net>::layout::classifier_name() + ".") != std::string::npos,
                refusal);
  load_int8_safetensors(*net, weights, unexpected_tensors::ignore);

  safetensors::reader io(reference_file(case_name, "io"));
  const std::vector<std::int64_t> shape = io.at("input").shape;
  typename q_backbone::input_tensor input(shape[0], shape[1], shape[2], shape[3]);
  io.read_floats("input", input.data());
  const index_t n = input.dimension(0);
  const std::string stage = "layer" + std::to_string(Stages);
  using features = typename q_backbone::features_shape;
  std::vector<std::byte> workspace(q_backbone::workspace_bytes_for(2));
  for (const int threads : {1, 2}) {
    INFO(threads << " threads");
    thread_pool pool(threads);
    typename q_backbone::uint8_output_tensor maps(n, features::channels, features::height, features::width);
    REQUIRE(net->try_forward(input, maps, workspace.data(), pool) == status::ok);
    require_equal(io, stage, maps.data());
    // A view of the same state computes the same.
    const quantized_view<backbone<Net, Stages>> view(net->state_data());
    typename q_backbone::uint8_output_tensor view_maps(maps.dimensions());
    REQUIRE(view.try_forward(input, view_maps, workspace.data(), pool) == status::ok);
    require_equal(io, stage, view_maps.data());

    // Dequantized with the last stage's quantization, which the whole network's is too.
    const typename q_backbone::output_tensor values = net->forward(input, pool);
    const quantization q = net->output_quantization();
    const auto whole = std::make_unique<quantized<Net>>();
    load_int8_safetensors(*whole, weights);
    const quantization whole_q = whole->template stage_quantization<Stages - 1>();
    CHECK(q.scale == whole_q.scale);
    CHECK(q.zero_point == whole_q.zero_point);
    std::size_t differ = 0;
    for (index_t i = 0; i < values.size(); ++i)
      differ += values.data()[i] != (static_cast<float>(maps.data()[i]) - static_cast<float>(q.zero_point)) * q.scale;
    CHECK_MESSAGE(differ == 0, differ << " dequantized values differ from (q - zero_point) * scale");
  }
  // A logits-shaped output is refused, with the shape it should have.
  typename q_backbone::uint8_output_tensor wrong(n, features::channels, features::height, features::width + 1);
  CHECK(net->try_forward(input, wrong, workspace.data()) == status::wrong_output_shape);
}

}  // namespace

TEST_CASE("torchvision_resnet18") { check_int8<resnet18<>>("torchvision_resnet18"); }
TEST_CASE("torchvision_resnet50") { check_int8<resnet50<>>("torchvision_resnet50"); }
TEST_CASE("torchvision_wide_resnet50_2") { check_int8<wide_resnet50_2<>>("torchvision_wide_resnet50_2"); }
// Grouped 3x3 convs of 4 to 32 channels per group.
TEST_CASE("torchvision_resnext50_32x4d") { check_int8<resnext50_32x4d<>>("torchvision_resnext50_32x4d"); }
// replace_stride_with_dilation [false, true, true]: layer3's 3x3 convs dilated 2, layer4's 2 then 4.
using dilated_layout_50 = dilated_layout<torchvision_layout, false, true, true>;
using dilated_resnet50 = resnet<bottleneck, stages<3, 4, 6, 3>, 1000, shape<3, 112, 112>, dilated_layout_50>;
static_assert(std::is_same_v<quantized<dilated_resnet50>::stage_shape<3>, shape<2048, 14, 14>>);
TEST_CASE("torchvision_resnet50_dilated") {
  check_int8<dilated_resnet50>("torchvision_resnet50_dilated");
  // The files of the dilated and the undilated resnet50 have the same tensors: their metadata tells
  // them apart, and each network refuses the other's.
  const auto undilated = std::make_unique<quantized<resnet50<1000, shape<3, 112, 112>>>>();
  CHECK_THROWS_WITH_AS(load_int8_safetensors(*undilated, reference_file("torchvision_resnet50_dilated", "weights")),
                       doctest::Contains("it was quantized for a network that dilates layer3 and layer4 (metadata "
                                         "replace_stride_with_dilation '[false, true, true]'), and this network "
                                         "dilates no stage"),
                       weights_error);
  const auto dilated = std::make_unique<quantized<dilated_resnet50>>();
  CHECK_THROWS_WITH_AS(load_int8_safetensors(*dilated, reference_file("torchvision_resnet50", "weights")),
                       doctest::Contains("dilates no stage (metadata replace_stride_with_dilation (none)), and this "
                                         "network dilates layer3 and layer4"),
                       weights_error);
  // A backbone of the first three stages compares the stages it has: layer2 and layer3.
  const auto stages = std::make_unique<quantized<backbone<dilated_resnet50, 3>>>();
  load_int8_safetensors(*stages, reference_file("torchvision_resnet50_dilated", "weights"), unexpected_tensors::ignore);
}
// resnet50's first three stages, on resnet50's file: the map of layer3.
TEST_CASE("torchvision_resnet50_backbone") { check_int8_backbone<resnet50<>, 3>("torchvision_resnet50"); }
TEST_CASE("stage_projection_resnet18") {
  check_int8<stage_projection::resnet18<5, shape<3, 193, 193>>>("stage_projection_resnet18");
}
TEST_CASE("cifar_resnet20_A") { check_int8<cifar::resnet20<>>("cifar_resnet20_A"); }
// The model in examples/digits: 8x8 digits scaled to 16x16 grey images.
TEST_CASE("digits") { check_int8<cifar::resnet20<10, shape<1, 16, 16>>>("digits"); }
