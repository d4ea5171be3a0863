// A network's compile-time plan: its parts, every shape, count and size, where each part's state
// lies in the state buffer, how the workspace is laid out, and the names of its tensors and layers.
// Nothing here holds data; the owning network, the borrowing view and the runner all read it.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/detail/checks.hpp>
#include <ctresnet/detail/meta.hpp>
#include <ctresnet/network/parts.hpp>

#include <unsupported/Eigen/CXX11/Tensor>

#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctresnet {

namespace detail {
/// FNV-1a, 64 bits, over whole numbers: enough to tell state layouts apart, not a secure hash.
struct fnv1a {
  std::uint64_t value = 0xcbf29ce484222325u;
  constexpr void add(index_t v) {
    auto bits = static_cast<std::uint64_t>(v);
    for (int byte = 0; byte < 8; ++byte, bits >>= 8) {
      value ^= bits & 0xffu;
      value *= 0x100000001b3u;
    }
  }
};
}  // namespace detail

template <class Block, class Stages, int Classes, class Input, class Layout>
class network_plan;

/// Block is basic_block or bottleneck, Stages the blocks per stage, Input the shape of one image,
/// Layout an architecture policy (torchvision_layout, stage_projection_layout, ...).
///
/// The state buffer holds the parameters, the BatchNorm running statistics and the weights derived
/// from them (Winograd's transformed weights, after each such conv's BatchNorm), tensor after
/// tensor in state-dict order, conv weights in panels (conv_weight_index); `visit_tensors` names
/// every tensor in it.
template <class Block, int... BlockCounts, int Classes, class Input, class Layout>
class network_plan<Block, stages<BlockCounts...>, Classes, Input, Layout> {
  static_assert(detail::check_positive_classes<Classes>::value);
  static_assert(detail::check_stage_list_not_empty<sizeof...(BlockCounts)>::value);
  static_assert(detail::check_block_counts_positive<((BlockCounts > 0) && ...)>::value);

  using chain = detail::stage_chain<Block, Layout, typename detail::stem<Input, Layout>::output, 0, 1,
                                    std::tuple<>, BlockCounts...>;

 public:
  using plan_type = network_plan;
  using block_type = Block;
  using layout = Layout;
  using input_shape = Input;
  using stem_type = detail::stem<Input, Layout>;
  using stage_types = typename chain::type;
  using features_shape = typename chain::output;  // the last stage's output
  /// False for a backbone (a layout without_classifier): the output is then the last stage's
  /// feature map, (N, C, H, W), instead of logits (N, classes).
  static constexpr bool has_classifier = Layout::has_classifier;
  using head_type = std::conditional_t<has_classifier, detail::classifier_head<features_shape, Classes, Layout>,
                                       detail::feature_output<features_shape>>;
  /// The shape of stage I's output (I = 0 is layer1) for one image.
  template <int I>
  using stage_shape = typename std::tuple_element_t<I, stage_types>::output;

  static constexpr int num_classes = Classes;  // of the classifier; a backbone has none (and says 1)
  static constexpr int num_stages = sizeof...(BlockCounts);
  static constexpr std::array<int, sizeof...(BlockCounts)> blocks_per_stage{BlockCounts...};

 private:
  template <std::size_t... I>
  static constexpr auto totals(std::index_sequence<I...>) {
    using parts = std::tuple<std::tuple_element_t<I, stage_types>...>;
    struct sums {
      index_t num_params, derived_floats, num_macs, thread_scratch_floats, max_activation_floats, max_channels;
    };
    return sums{(stem_type::num_params + ... + std::tuple_element_t<I, parts>::num_params) + head_type::num_params,
                (stem_type::derived_floats + ... + std::tuple_element_t<I, parts>::derived_floats),
                (stem_type::num_macs + ... + std::tuple_element_t<I, parts>::num_macs) + head_type::num_macs,
                detail::max_of(stem_type::thread_scratch_floats, std::tuple_element_t<I, parts>::thread_scratch_floats...),
                detail::max_of(Input::size, stem_type::max_activation_floats,
                               std::tuple_element_t<I, parts>::max_activation_floats...,
                               head_type::max_activation_floats),
                detail::max_of(stem_type::max_channels, std::tuple_element_t<I, parts>::max_channels...)};
  }
  template <std::size_t... I>
  static constexpr auto part_offsets(std::index_sequence<I...>) {
    return detail::state_offsets<stem_type, std::tuple_element_t<I, stage_types>..., head_type>();
  }
  static constexpr auto sums = totals(std::make_index_sequence<num_stages>{});

 public:
  /// Where each part's state starts: the stem's (0), stage I's at [I + 1], the head's at
  /// [num_stages + 1], and last the state's size.
  static constexpr std::array<index_t, num_stages + 3> state_offsets =
      part_offsets(std::make_index_sequence<num_stages>{});
  static constexpr index_t head_offset = state_offsets[num_stages + 1];

  /// Learnable parameters (conv and fc weights, BatchNorm affine), as torchvision counts them.
  static constexpr index_t num_params = sums.num_params;
  /// Multiply-adds of conv and fc layers for one image.
  static constexpr index_t num_macs = sums.num_macs;
  /// Floats in the state buffer: the state-dict tensors (parameters and BatchNorm running mean and
  /// variance), and the transformed weights of the convs that run by Winograd's method.
  static constexpr index_t state_floats = state_offsets[num_stages + 2];
  /// Of those, the floats derived from the tensors rather than loaded.
  static constexpr index_t derived_floats = sums.derived_floats;
  /// Of those, the floats of the state-dict tensors as stored: what a weights file holds, and for
  /// grouped convs (ResNeXt) the zeros kept between groups (see conv_weight_layout).
  static constexpr index_t tensor_floats = state_floats - derived_floats;
  /// Largest activation of one image, in floats.
  static constexpr index_t max_activation_floats = sums.max_activation_floats;

  /// The workspace: three activation buffers, a per-channel scale and shift, and every thread's own
  /// scratch (patch rows or a block of Winograd tiles), each starting on a cache line.
  static constexpr index_t activation_stride = whole_cache_lines(sums.max_activation_floats);
  static constexpr index_t channels_stride = whole_cache_lines(sums.max_channels);
  static constexpr index_t thread_stride = whole_cache_lines(sums.thread_scratch_floats);
  /// Scratch for one forward call (any batch size) on `threads` threads, with room to move the
  /// start of a buffer that is not on a cache line to one.
  static constexpr index_t workspace_floats_for(int threads) {
    return cache_line_floats - 1 + 3 * activation_stride + 2 * channels_stride + index_t{threads} * thread_stride;
  }
  static constexpr std::size_t workspace_bytes_for(int threads) {
    return sizeof(float) * static_cast<std::size_t>(workspace_floats_for(threads));
  }
  /// Scratch for one forward call on the calling thread alone.
  static constexpr index_t workspace_floats = workspace_floats_for(1);
  static constexpr std::size_t workspace_bytes = workspace_bytes_for(1);

  using input_tensor = Eigen::Tensor<float, 4, Eigen::RowMajor>;
  static constexpr int output_rank = has_classifier ? 2 : 4;
  /// Floats of one image's output: its logits, or a backbone's feature map.
  static constexpr index_t output_floats = has_classifier ? Classes : features_shape::size;
  using output_tensor = Eigen::Tensor<float, output_rank, Eigen::RowMajor>;
  using feature_tensor = Eigen::Tensor<float, 4, Eigen::RowMajor>;
  using input_map = Eigen::TensorMap<const Eigen::Tensor<float, 4, Eigen::RowMajor>>;
  using output_map = Eigen::TensorMap<Eigen::Tensor<float, output_rank, Eigen::RowMajor>>;
  /// Where forward_stages writes: stage I's maps to [I] (or nowhere if it is nullptr).
  using stage_maps = std::array<float*, num_stages>;
  /// The dimensions of the output for a batch of n images: (n, classes), or (n, C, H, W) for a backbone.
  static std::array<index_t, output_rank> output_dimensions(index_t n) {
    if constexpr (has_classifier)
      return {n, Classes};
    else
      return {n, features_shape::channels, features_shape::height, features_shape::width};
  }

  /// Every state-dict tensor, in order: visit(const tensor_info&).
  template <class Visitor>
  static void visit_tensors(Visitor&& visit) {
    const tensor_visitor erased(visit);
    stem_type::visit_tensors(erased, 0);
    visit_stage_tensors(erased, std::make_index_sequence<num_stages>{});
    head_type::visit_tensors(erased, head_offset);
  }
  static std::vector<tensor_info> tensors() {
    std::vector<tensor_info> all;
    visit_tensors([&](const tensor_info& t) { all.push_back(t); });
    return all;
  }

  /// Every layer, block and stage with its output shape, parameters and MACs: visit(const layer_info&).
  template <class Visitor>
  static void visit_layers(Visitor&& visit) {
    const layer_visitor erased(visit);
    stem_type::visit_layers(erased);
    visit_stage_layers(erased, std::make_index_sequence<num_stages>{});
    head_type::visit_layers(erased);
  }

  /// f(std::integral_constant<int, I>) for every stage I in order.
  template <class F>
  static void for_each_stage(F&& f) {
    for_each_stage(f, std::make_index_sequence<num_stages>{});
  }

  /// Rederives the Winograd-transformed weights in `state` from the tensors there.
  static void prepare(float* state) {
    stem_type::prepare(state);
    for_each_stage([&](auto stage) {
      constexpr int i = decltype(stage)::value;
      std::tuple_element_t<i, stage_types>::prepare(state + state_offsets[i + 1]);
    });
  }

  /// A number that changes with the state's layout: a hash of the input shape, the classes, every
  /// stage's blocks and offset, and the state's and largest activation's sizes (all the same on
  /// every CPU, unlike the workspace, whose thread scratch follows the vector width). Weights compiled into a
  /// program (<ctresnet/embed.hpp>) carry the fingerprint of the network they were written for,
  /// and network_view refuses at compile time a state of another.
  static constexpr std::uint64_t state_fingerprint = [] {
    detail::fnv1a hash;
    for (index_t v : {index_t{state_floats}, index_t{derived_floats}, index_t{num_params}, index_t{num_macs},
                      index_t{Classes}, index_t{Input::channels}, index_t{Input::height}, index_t{Input::width},
                      index_t{has_classifier}, index_t{max_activation_floats}, index_t{Layout::winograd},
                      index_t{num_stages}})
      hash.add(v);
    for (int blocks : blocks_per_stage) hash.add(blocks);
    for (std::size_t i = 0; i + 1 < state_offsets.size(); ++i) hash.add(state_offsets[i]);
    return hash.value;
  }();

 private:
  template <std::size_t... I>
  static void visit_stage_tensors(tensor_visitor visit, std::index_sequence<I...>) {
    (std::tuple_element_t<I, stage_types>::visit_tensors(visit, state_offsets[I + 1]), ...);
  }
  template <std::size_t... I>
  static void visit_stage_layers(layer_visitor visit, std::index_sequence<I...>) {
    (std::tuple_element_t<I, stage_types>::visit_layers(visit), ...);
  }
  template <class F, std::size_t... I>
  static void for_each_stage(F& f, std::index_sequence<I...>) {
    (f(std::integral_constant<int, int(I)>{}), ...);
  }
};

}  // namespace ctresnet
