// The int8 digits model run from weights compiled in (ctresnet-embed --precision int8, in this
// build's weight order) and from borrowed state: quantized_view gives what the file-loaded
// quantized<Net> gives, bit for bit, in every form of the forward pass; the weight orders and the
// generator's checks. (PyTorch's logits on a Cortex-M7: cortex_m7.digits_int8.)
#include "digits_int8_weights.hpp"
#include "digits_vectors.hpp"

#include <ctresnet/quantized/embed.hpp>
#include <ctresnet/quantized/safetensors.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#ifndef CTRESNET_DIGITS_DIR
#error "CTRESNET_DIGITS_DIR must name examples/digits"
#endif

namespace {
using namespace ctresnet;
using digits = cifar::resnet20<10, shape<1, 16, 16>>;
using owned_type = quantized<digits>;
using view_type = quantized_view<digits>;
constexpr int count = digits_vectors::count, classes = 10;

const owned_type& file_loaded() {
  static const owned_type net = [] {
    owned_type n;
    load_int8_safetensors(n, std::string(CTRESNET_DIGITS_DIR) + "/resnet20_digits.int8.safetensors");
    return n;
  }();
  return net;
}

/// The first `n` test images (all by default; fewer where a case runs the network many times, which
/// the sanitizer build runs too).
owned_type::input_map all_images(int n = count) { return owned_type::input_map(digits_vectors::images, n, 1, 16, 16); }
constexpr int some = 48;

/// The uint8 logits of the first `n` images from `net` (on `pool`, if given).
template <class Net>
std::vector<std::uint8_t> uint8_logits(const Net& net, thread_pool* pool = nullptr, int n = count) {
  std::vector<std::uint8_t> logits(std::size_t(n) * classes);
  std::vector<std::byte> workspace(Net::workspace_bytes_for(pool ? pool->size() : 1));
  const typename Net::uint8_output_map out(logits.data(), n, classes);
  const status s = pool ? net.try_forward(all_images(n), out, workspace.data(), *pool)
                        : net.try_forward(all_images(n), out, workspace.data());
  REQUIRE(s == status::ok);
  return logits;
}
}  // namespace

static_assert(std::is_same_v<digits_int8::network, owned_type>);
static_assert(std::is_same_v<digits_int8::view, view_type>);
static_assert(view_type::state_bytes == owned_type::state_bytes && view_type::workspace_bytes == owned_type::workspace_bytes);
static_assert(std::is_same_v<view_type::network_type, owned_type>);
static_assert(decltype(digits_int8::state)::weight_order == build_int8_weight_order,
              "ctresnet-embed writes this build's order by default");
static_assert(quantized_plan<digits>::state_fingerprint != quantized_plan<cifar::resnet20<>>::state_fingerprint);
static_assert(quantized_plan<digits>::state_fingerprint != digits::state_fingerprint);

TEST_CASE("the generated int8 header holds the file-loaded network's state, byte for byte") {
  CHECK(sizeof digits_int8::state_data == owned_type::state_bytes);
  CHECK(reinterpret_cast<std::uintptr_t>(digits_int8::state_data) % 64 == 0);
  CHECK(std::memcmp(digits_int8::state_data, file_loaded().state_data(), owned_type::state_bytes) == 0);
}

TEST_CASE("a quantized_view of the compiled-in weights gives the file-loaded network's logits, bit for bit") {
  const view_type net(digits_int8::state);
  const std::vector<std::uint8_t> expected = uint8_logits(file_loaded());
  CHECK(uint8_logits(net) == expected);
  CHECK(net.output_quantization().scale == file_loaded().output_quantization().scale);
  CHECK(net.input_quantization().zero_point == file_loaded().input_quantization().zero_point);
  CHECK(net.stage_quantization<2>().scale == file_loaded().stage_quantization<2>().scale);

  // Dequantized logits, quantized input, the allocating forms.
  const owned_type::output_tensor floats = net.forward(all_images());
  const owned_type::output_tensor file_floats = file_loaded().forward(all_images());
  CHECK(std::memcmp(floats.data(), file_floats.data(), sizeof(float) * floats.size()) == 0);
  const owned_type::uint8_images_tensor q = net.quantize(all_images());
  std::vector<std::uint8_t> from_uint8(std::size_t(count) * classes);
  std::vector<std::byte> workspace(view_type::workspace_bytes);
  REQUIRE(net.try_forward(view_type::uint8_input_map(q.data(), count, 1, 16, 16),
                          view_type::uint8_output_map(from_uint8.data(), count, classes), workspace.data()) == status::ok);
  CHECK(from_uint8 == expected);
}

TEST_CASE("a quantized_view over a network's own state runs as the network does, on a thread pool too") {
  const view_type net(file_loaded().state_data());
  const std::vector<std::uint8_t> expected = uint8_logits(file_loaded(), nullptr, some);
  CHECK(uint8_logits(net, nullptr, some) == expected);
#if CTRESNET_THREADS
  thread_pool pool(2);
  CHECK(uint8_logits(net, &pool, some) == expected);
#endif
  const auto stages = net.forward_stages(all_images(some));
  const auto file_stages = file_loaded().forward_stages(all_images(some));
  for (std::size_t i = 0; i < stages.size(); ++i) {
    REQUIRE(stages[i].size() == file_stages[i].size());
    CHECK(std::memcmp(stages[i].data(), file_stages[i].data(), std::size_t(stages[i].size())) == 0);
  }
}

TEST_CASE("a quantized_view of a null state reports status::no_state, or throws naming it") {
  const view_type net(nullptr);
  std::uint8_t logits[classes];
  std::byte workspace[view_type::workspace_bytes];
  const view_type::input_map one(digits_vectors::images, 1, 1, 16, 16);
  CHECK(net.state_status() == status::no_state);
  CHECK(net.try_forward(one, view_type::uint8_output_map(logits, 1, classes), workspace) == status::no_state);
  CHECK(net.try_forward_stages(one, view_type::stage_maps{}, workspace) == status::no_state);
  CHECK(net.input_quantization().scale == 0.0f);
  CHECK_THROWS_WITH_AS(net.forward(one), "ctresnet: the view (network_view or quantized_view) was made from a null state pointer",
                       std::invalid_argument);
  // Argument checks come first, as for the owning network.
  CHECK(net.try_forward(view_type::input_map(digits_vectors::images, 1, 1, 16, 8),
                        view_type::uint8_output_map(logits, 1, classes), workspace) == status::wrong_input_shape);
}

TEST_CASE("a state repacked into each other packing and back is the same, and the build's packing is packed_index") {
  using plan = quantized_plan<digits>;
  for (index_t o : {0, 5, 15, 16, 31, 63})
    for (index_t k : {0, 3, 4, 143, 575})
      CHECK(detail::int8::index_in_order(build_int8_weight_order, o, k, 64, 576, 0) ==
            kernels::int8::packed_index(o, k, 64, 576));
  for (const int8_weight_order other :
       {int8_weight_order::rows, int8_weight_order::panels, int8_weight_order::panels_sdot}) {
    if (other == build_int8_weight_order) continue;
    CAPTURE(int8_weight_order_name(other));
    std::vector<std::byte> state(file_loaded().state_data(), file_loaded().state_data() + plan::state_bytes);
    detail::int8::reorder_weights(plan::layers(), state.data(), build_int8_weight_order, other);
    CHECK(std::memcmp(state.data(), file_loaded().state_data(), plan::state_bytes) != 0);
    detail::int8::reorder_weights(plan::layers(), state.data(), other, build_int8_weight_order);
    CHECK(std::memcmp(state.data(), file_loaded().state_data(), plan::state_bytes) == 0);
  }
}

TEST_CASE("a grouped conv's weights move between rows and panels block by block") {
  // 16 groups of 4 outputs (blocks of 4 groups: 16 outputs) and 2 groups of 24 (a block each).
  for (const auto& [out_channels, group_inputs, groups] : {std::array<index_t, 3>{64, 4, 16}, {48, 8, 2}}) {
    const int8_layer_info layer{int8_layer_kind::conv, "conv", "quant", "", out_channels, group_inputs, 3, 0, groups};
    const detail::int8::weights_layout w{out_channels, group_inputs, 3, groups};
    const index_t length = w.patch_length(), block = w.block_outputs();
    CAPTURE(block);
    std::vector<std::byte> state(w.bytes());
    auto* const weights = reinterpret_cast<std::int8_t*>(state.data() + w.weights_offset());
    for (index_t i = 0; i < out_channels * length; ++i) weights[i] = static_cast<std::int8_t>(i * 7 % 251 - 125);
    const std::vector<std::byte> rows = state;
    detail::int8::reorder_weights({layer}, state.data(), int8_weight_order::rows, int8_weight_order::panels);
    int misplaced = 0;
    for (index_t o = 0; o < out_channels; ++o)
      for (index_t k = 0; k < length; ++k) {
        // Each block packed as a layer of its own, after the blocks before it.
        const index_t at = o / block * block * length + kernels::int8::panel_index(o % block, k, block, length);
        misplaced += weights[at] != static_cast<std::int8_t>((o * length + k) * 7 % 251 - 125);
      }
    CHECK(misplaced == 0);
    detail::int8::reorder_weights({layer}, state.data(), int8_weight_order::panels, int8_weight_order::rows);
    CHECK(state == rows);
  }
}

TEST_CASE("panels_sdot biases hold 128 x the sum of their output's weights more than panels biases") {
  using plan = quantized_plan<digits>;
  std::vector<std::byte> panels(file_loaded().state_data(), file_loaded().state_data() + plan::state_bytes);
  detail::int8::reorder_weights(plan::layers(), panels.data(), build_int8_weight_order, int8_weight_order::panels);
  std::vector<std::byte> sdot = panels;
  detail::int8::reorder_weights(plan::layers(), sdot.data(), int8_weight_order::panels, int8_weight_order::panels_sdot);
  CHECK(std::memcmp(panels.data(), sdot.data(), plan::state_bytes) != 0);
  int checked = 0;
  for (const int8_layer_info& layer : plan::layers()) {
    if (layer.kind != int8_layer_kind::conv && layer.kind != int8_layer_kind::linear) continue;
    const detail::int8::weights_layout w{layer.out_channels, layer.in_channels, layer.kernel};
    const auto* weights = reinterpret_cast<const std::int8_t*>(panels.data() + layer.offset + w.weights_offset());
    CHECK(std::memcmp(weights, sdot.data() + layer.offset + w.weights_offset(), w.weight_bytes()) == 0);
    for (index_t o = 0; o < w.out_channels; ++o) {
      std::int64_t sum = 0;
      for (index_t k = 0; k < w.patch_length(); ++k)
        sum += weights[kernels::int8::panel_index(o, k, w.out_channels, w.patch_length())];
      std::int32_t before, after;
      std::memcpy(&before, panels.data() + layer.offset + w.bias_offset() + 4 * std::size_t(o), 4);
      std::memcpy(&after, sdot.data() + layer.offset + w.bias_offset() + 4 * std::size_t(o), 4);
      CHECK(std::int64_t{after} - std::int64_t{before} == 128 * sum);
      ++checked;
    }
  }
  CHECK(checked > 100);
}

TEST_CASE("write_embedded_int8_state names the order it writes, and refuses a namespace that is not an identifier") {
  std::ostringstream rows, panels;
  write_embedded_int8_state(rows, file_loaded(), "w", "ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>", "",
                            int8_weight_order::rows);
  write_embedded_int8_state(panels, file_loaded(), "w", "ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>",
                            "", int8_weight_order::panels);
  CHECK(rows.str().find("ctresnet::int8_weight_order::rows> state{state_data};") != std::string::npos);
  CHECK(panels.str().find("ctresnet::int8_weight_order::panels> state{state_data};") != std::string::npos);
  CHECK(rows.str() != panels.str());
  std::ostringstream unused;
  CHECK_THROWS_WITH_AS(write_embedded_int8_state(unused, file_loaded(), "my-weights", "x"),
                       "ctresnet::write_embedded_int8_state: 'my-weights' is not a C++ identifier and cannot name the "
                       "namespace",
                       std::invalid_argument);
}
