// A quantized network's compile-time plan: the int8 twins of the float plan's parts, where each
// one's state lies, the workspace's size, and the names of its layers. Shapes, counts and names
// are the float network's own (Net::plan_type); nothing holds data.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/detail/checks.hpp>
#include <ctresnet/detail/meta.hpp>
#include <ctresnet/network/plan.hpp>
#include <ctresnet/quantized/parts.hpp>
#include <ctresnet/quantized/state.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctresnet {

namespace detail::int8 {
template <class Stages>
struct stages_of;
template <class... Stages>
struct stages_of<std::tuple<Stages...>> {
  using type = std::tuple<stage_of<Stages>...>;
};
}  // namespace detail::int8

/// The plan of quantized<Net>, Net any float network type (resnet18<>, cifar::resnet20<>, ...).
template <class Net>
class quantized_plan {
  using float_plan = typename Net::plan_type;
  using layout_type = typename float_plan::layout;
 public:
  using network_type = Net;
  using layout = layout_type;
  using block_type = typename float_plan::block_type;
  using input_shape = typename float_plan::input_shape;
  /// The shape of stage I's output (I = 0 is layer1) for one image.
  template <int I>
  using stage_shape = typename float_plan::template stage_shape<I>;
  static constexpr int num_classes = float_plan::num_classes;  // a backbone has none (and says 1)
  static constexpr int num_stages = float_plan::num_stages;
  static constexpr auto blocks_per_stage = float_plan::blocks_per_stage;
  /// Whether the network ends in its classifier; a backbone (backbone<Net, Stages>) ends in its
  /// last stage's map, `features_shape`.
  static constexpr bool has_classifier = float_plan::has_classifier;
  using features_shape = typename float_plan::features_shape;
  /// The output: logits (N, classes), or a backbone's maps (N, C, H, W); its elements per image.
  static constexpr int output_rank = float_plan::output_rank;
  static constexpr index_t output_elements = float_plan::output_floats;
  static std::array<index_t, output_rank> output_dimensions(index_t n) { return float_plan::output_dimensions(n); }

  using input_type = detail::int8::input_layer;
  using stem_type = detail::int8::stem_of<typename float_plan::stem_type>;
  using stage_types = typename detail::int8::stages_of<typename float_plan::stage_types>::type;
  using head_type = detail::int8::head_of<typename float_plan::head_type>;

 private:
  template <std::size_t... I>
  static constexpr auto part_offsets(std::index_sequence<I...>) {
    return detail::int8::byte_offsets<input_type, stem_type, std::tuple_element_t<I, stage_types>..., head_type>();
  }
  template <std::size_t... I>
  static constexpr index_t largest_patch(std::index_sequence<I...>) {
    return detail::max_of(stem_type::patch_length, std::tuple_element_t<I, stage_types>::patch_length...,
                          head_type::patch_length);
  }
  template <std::size_t... I>
  static constexpr index_t largest_scratch(int threads, std::index_sequence<I...>) {
    return detail::max_of(stem_type::scratch_for(threads), std::tuple_element_t<I, stage_types>::scratch_for(threads)...,
                          head_type::scratch_for(threads));
  }

 public:
  /// Where each part's state starts, in bytes: the input's quantization (0), the stem's [1], stage
  /// I's [I + 2], the head's [num_stages + 2] (a backbone's has none), and last the state's size.
  static constexpr std::array<std::size_t, num_stages + 4> state_offsets =
      part_offsets(std::make_index_sequence<num_stages>{});
  static constexpr std::size_t head_offset = state_offsets[num_stages + 2];
  /// Bytes of state: every layer's header (scale, zero point, an add's multipliers), int8 weights,
  /// int32 biases and float multipliers, each on cache lines.
  static constexpr std::size_t state_bytes = state_offsets[num_stages + 3];

  /// A number that changes with the state's layout: a hash of the input shape, the classes, the
  /// parameter and multiply-add counts (which tell apart layouts whose states have the same sizes,
  /// such as a stride on the 1x1 or the 3x3 conv), every stage's blocks and offset and the state's
  /// size. It is the same on every CPU; the weights' order, the one build-dependent fact of a
  /// state, is told apart by int8_weight_order. Weights compiled into a program
  /// (<ctresnet/quantized/embed.hpp>) carry the fingerprint of the network they were written for,
  /// and quantized_view refuses at compile time a state of another.
  static constexpr std::uint64_t state_fingerprint = [] {
    detail::fnv1a hash;
    hash.add(0x696e7438);  // "int8": a float state of the same sizes has another fingerprint
    for (index_t v : {index_t{num_classes}, index_t{input_shape::channels}, index_t{input_shape::height},
                      index_t{input_shape::width}, index_t{num_stages}, index_t{float_plan::num_params},
                      index_t{float_plan::num_macs}})
      hash.add(v);
    for (int blocks : blocks_per_stage) hash.add(blocks);
    for (std::size_t offset : state_offsets) hash.add(static_cast<index_t>(offset));
    return hash.value;
  }();

  /// The largest activation of one image, in uint8 elements: the float plan's largest, which
  /// bounds every map the int8 parts write (and the uint8 logits), or the stem conv's output, which
  /// the int8 stem stores whole before it pools it (the float stem pools it band by band).
  static constexpr index_t max_activation_elements = detail::max_of(
      float_plan::max_activation_floats, float_plan::stem_type::conv::output::size, num_classes);
  /// The longest window of a conv (kernel x kernel x its block's input channels: all of them unless
  /// grouped), or the classifier's features.
  static constexpr index_t max_patch_length = largest_patch(std::make_index_sequence<num_stages>{});

  /// The workspace: four activation buffers and the conv kernels' scratch (twice the longest
  /// window in bytes, or more if some conv's kernels need it on `threads` threads), each starting
  /// on a cache line, with room to move the start to one.
  static constexpr std::size_t activation_stride = detail::int8::whole_cache_lines(std::size_t(max_activation_elements));
  static constexpr std::size_t scratch_bytes_for(int threads) {
    return detail::int8::whole_cache_lines(
        std::size_t(largest_scratch(threads < 1 ? 1 : threads, std::make_index_sequence<num_stages>{})));
  }
  /// The workspace for a forward pass on `threads` threads (a thread pool of that size): each
  /// thread of a conv that copies windows (a stem's, or any conv of the AVX2 build, whose threads
  /// also widen their weights to int16) has scratch of its own.
  static constexpr std::size_t workspace_bytes_for(int threads) {
    return cache_line_bytes - 1 + 4 * activation_stride + scratch_bytes_for(threads);
  }
  static constexpr std::size_t workspace_bytes = workspace_bytes_for(1);

  /// Every quantized layer in the order it runs, with the names of the model file:
  /// visit(const int8_layer_info&).
  template <class Visitor>
  static void visit_layers(Visitor&& visit) {
    const int8_layer_visitor erased(visit);
    std::string source = input_type::visit(erased, state_offsets[0]);
    source = stem_type::visit(erased, source, state_offsets[1]);
    for_each_stage([&](auto stage) {
      constexpr int i = decltype(stage)::value;
      source = std::tuple_element_t<i, stage_types>::visit(erased, source, state_offsets[i + 2]);
    });
    head_type::visit(erased, source, head_offset);
  }
  static std::vector<int8_layer_info> layers() {
    std::vector<int8_layer_info> all;
    visit_layers([&](const int8_layer_info& layer) { all.push_back(layer); });
    return all;
  }

  /// f(std::integral_constant<int, I>) for every stage I in order.
  template <class F>
  static void for_each_stage(F&& f) {
    for_each_stage(f, std::make_index_sequence<num_stages>{});
  }

 private:
  template <class F, std::size_t... I>
  static void for_each_stage(F& f, std::index_sequence<I...>) {
    (f(std::integral_constant<int, int(I)>{}), ...);
  }
};

}  // namespace ctresnet
