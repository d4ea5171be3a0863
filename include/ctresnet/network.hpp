// The network template: stem, stages of residual blocks, classifier head. Every shape, count and
// buffer size is a compile-time constant of the type; only the batch size is chosen at run time.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/blocks.hpp>
#include <ctresnet/detail/cache_lines.hpp>
#include <ctresnet/init.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/status.hpp>

#include <unsupported/Eigen/CXX11/Tensor>

#include <algorithm>
#include <array>
#include <cstdint>
#if CTRESNET_EXCEPTIONS
#include <stdexcept>
#endif
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctresnet {

/// Tag for a network constructed without random weights: `resnet50<> net(ctresnet::uninitialized);`.
struct uninitialized_t {
  explicit uninitialized_t() = default;
};
inline constexpr uninitialized_t uninitialized{};

/// Blocks per stage, e.g. stages<3, 4, 6, 3> for ResNet-50.
template <int... BlockCounts>
struct stages {
  static constexpr int count = sizeof...(BlockCounts);
};

namespace detail {

/// The stem: the layout's conv (7x7/2 for ImageNet, 3x3/1 for CIFAR), BatchNorm, ReLU, and for
/// ImageNet layouts a 3x3/2 max pool.
template <class In, class Layout>
struct stem {
  using conv = conv_bn<In, Layout::stem_width, Layout::stem_kernel, Layout::stem_stride, Layout::stem_kernel / 2, 1, 1,
                       Layout::winograd>;
  using pool = max_pool2d<3, 2, 1>;
  static constexpr bool pooled = Layout::stem_max_pool;
  using input = In;
  using output =
      std::conditional_t<pooled, typename pool::template output_shape<typename conv::output>, typename conv::output>;

  static constexpr index_t state_floats = conv::state_floats;
  static constexpr index_t derived_floats = conv::derived_floats;
  static constexpr index_t num_params = conv::num_params;
  static constexpr index_t num_macs = conv::num_macs;
  static constexpr index_t thread_scratch_floats = conv::thread_scratch_floats;
  /// A direct conv reads the image as strided planes (fastest for its few input channels); a
  /// Winograd conv (a 3x3/1 stem) reads it channels-last.
  static constexpr ops::conv_input input_layout =
      conv::uses_winograd ? ops::conv_input::channels_last : ops::conv_input::strided_planes;
  static constexpr index_t input_floats =
      conv::uses_winograd ? In::size : ops::strided_planes(conv::geometry).floats();
  static constexpr index_t max_activation_floats = max_of(input_floats, conv::output::size, output::size);
  static constexpr int max_channels = Layout::stem_width;

  static void prepare(float* state) { conv::prepare(state); }
  /// One CHW image (PyTorch's order) through the stem, into b.x.
  static void forward(const float* state, const float* chw, image_buffers& b) {
    using c = typename conv::output;
    float* const image = b.x;
    if constexpr (input_layout == ops::conv_input::strided_planes)
      ops::chw_to_strided_planes(conv::geometry, chw, image);
    else
      ops::chw_to_hwc(chw, In::channels, In::height, In::width, image);
    conv::forward(state, image, nullptr, true, b.spare[0], b.scratch, input_layout);
    if constexpr (pooled) {
      ops::max_pool(b.spare[0], c::height, c::width, c::channels, pool::kernel, pool::stride, pool::padding,
                    output::height, output::width, image, b.scratch.pool);
    } else {
      b.x = b.spare[0];
      b.spare[0] = image;
    }
  }
  static void visit_tensors(tensor_visitor visit, index_t offset) {
    conv::visit_tensors(visit, Layout::stem_conv_name(), Layout::stem_norm_name(), offset);
  }
  static void visit_layers(layer_visitor visit) {
    conv::visit_layers(visit, Layout::stem_conv_name(), Layout::stem_norm_name(), 1);
    if constexpr (pooled)
      visit(layer_info{"maxpool", "MaxPool2d 3x3/2", 1, output::channels, output::height, output::width, 0, 0});
  }
};

/// One stage ("layer1" ... "layer4"): a first block that may change stride and width, then
/// Blocks - 1 identical blocks. The identical ones are one type run in a loop, so a stage of 200
/// blocks costs the compiler no more than a stage of 2.
///
/// A dilated stage (torchvision's replace_stride_with_dilation) keeps its input's resolution: its
/// stride becomes 1 and multiplies the dilation of its 3x3 convs instead, from the second block on
/// (the first keeps the dilation the stages before it reached, PreviousDilation).
template <class Kind, class In, int Index, int Blocks, class Layout, int PreviousDilation = 1>
struct stage {
  static constexpr int width = Layout::stage_width(Index);
  static constexpr bool dilated = Layout::stage_dilated(Index);
  static constexpr int stride = dilated ? 1 : Layout::stage_stride(Index);
  static constexpr int dilation = dilated ? PreviousDilation * Layout::stage_stride(Index) : PreviousDilation;
  using first = typename Kind::template unit<In, width, stride,
                                             Layout::shortcut(stride, In::channels, width * Kind::expansion), Layout,
                                             PreviousDilation>;
  // After the first block the shape no longer changes, so every layout adds the identity there.
  using repeated =
      typename Kind::template unit<typename first::output, width, 1, shortcut_kind::identity, Layout, dilation>;
  using input = In;
  using output = typename first::output;

  static constexpr index_t state_floats = first::state_floats + (Blocks - 1) * repeated::state_floats;
  static constexpr index_t derived_floats = first::derived_floats + (Blocks - 1) * repeated::derived_floats;
  static constexpr index_t num_params = first::num_params + (Blocks - 1) * repeated::num_params;
  static constexpr index_t num_macs = first::num_macs + (Blocks - 1) * repeated::num_macs;
  static constexpr index_t thread_scratch_floats =
      max_of(first::thread_scratch_floats, repeated::thread_scratch_floats);
  static constexpr index_t max_activation_floats =
      max_of(first::max_activation_floats, repeated::max_activation_floats);
  static constexpr int max_channels = static_cast<int>(max_of(first::max_channels, repeated::max_channels));

  static constexpr index_t block_offset(int block) {
    return block == 0 ? 0 : first::state_floats + (block - 1) * repeated::state_floats;
  }

  static void prepare(float* state) {
    first::prepare(state);
    for (int i = 1; i < Blocks; ++i) repeated::prepare(state + block_offset(i));
  }
  static void forward(const float* state, image_buffers& b) {
    first::forward(state, b);
    for (int i = 1; i < Blocks; ++i) repeated::forward(state + block_offset(i), b);
  }
  static void visit_tensors(tensor_visitor visit, index_t offset) {
    for (int i = 0; i < Blocks; ++i) {
      const std::string prefix = Layout::stage_name(Index) + "." + std::to_string(i) + ".";
      if (i == 0)
        first::visit_tensors(visit, prefix, offset);
      else
        repeated::visit_tensors(visit, prefix, offset + block_offset(i));
    }
  }
  static void visit_layers(layer_visitor visit) {
    visit(layer_info{Layout::stage_name(Index), "Sequential", 1, output::channels, output::height, output::width,
                     num_params, num_macs});
    for (int i = 0; i < Blocks; ++i) {
      const std::string name = Layout::stage_name(Index) + "." + std::to_string(i);
      const bool is_first = i == 0;
      visit(layer_info{name, Kind::type_name, 2, output::channels, output::height, output::width,
                       is_first ? first::num_params : repeated::num_params,
                       is_first ? first::num_macs : repeated::num_macs});
      if (is_first)
        first::visit_layers(visit, name + ".", 3);
      else
        repeated::visit_layers(visit, name + ".", 3);
    }
  }
};

/// Chains stages: each one's input is the previous one's output, and its dilation the one the
/// previous stage reached. Yields a tuple of stage types.
template <class Kind, class Layout, class In, int Index, int Dilation, class Built, int... Counts>
struct stage_chain {
  using type = Built;
  using output = In;
};
template <class Kind, class Layout, class In, int Index, int Dilation, class... Built, int Count, int... Rest>
struct stage_chain<Kind, Layout, In, Index, Dilation, std::tuple<Built...>, Count, Rest...> {
  using next = stage<Kind, In, Index, Count, Layout, Dilation>;
  using chain = stage_chain<Kind, Layout, typename next::output, Index + 1, next::dilation, std::tuple<Built..., next>,
                            Rest...>;
  using type = typename chain::type;
  using output = typename chain::output;
};

/// Average pool (adaptive to 1x1, or the layout's fixed window with stride 1), flatten, fc.
template <class In, int Classes, class Layout>
struct classifier_head {
  static constexpr bool adaptive = Layout::fixed_avg_pool == 0;
  static constexpr int kernel_height = adaptive ? In::height : Layout::fixed_avg_pool;
  static constexpr int kernel_width = adaptive ? In::width : Layout::fixed_avg_pool;
  static_assert(check_input_large_enough<In::height, In::width, (adaptive ? 1 : Layout::fixed_avg_pool)>::value);
  // Clamped so that a failed check above is the only error the user reads.
  using pooled = shape<In::channels, std::max(1, window_out(In::height, kernel_height, 1, 0)),
                       std::max(1, window_out(In::width, kernel_width, 1, 0))>;
  // Both torchvision and the reference example size fc for the last stage's channels.
  using fc = linear<In::channels, std::max(1, Classes)>;
  using input = In;
  using output = typename fc::template output_shape<pooled>;

  static constexpr index_t state_floats = fc::num_params;
  static constexpr index_t derived_floats = 0;
  static constexpr index_t num_params = fc::num_params;
  static constexpr index_t num_macs = fc::macs;
  static constexpr index_t max_activation_floats = pooled::size;

  static void forward(const float* state, image_buffers& b, float* logits) {
    float* features = b.spare[0];
    ops::avg_pool_to_chw(b.x, In::width, In::channels, kernel_height, kernel_width, 1, pooled::height,
                         pooled::width, features);
    ops::linear(features, state, state + index_t{Classes} * In::channels, In::channels, Classes, logits,
                b.scratch.pool);
  }
  static void visit_tensors(tensor_visitor visit, index_t offset) {
    const std::string name = Layout::classifier_name();
    visit(tensor_info{name + ".weight", tensor_role::linear_weight, 2, {Classes, In::channels, 0, 0}, offset});
    visit(tensor_info{name + ".bias", tensor_role::linear_bias, 1, {Classes, 0, 0, 0},
                      offset + index_t{Classes} * In::channels});
  }
  static void visit_layers(layer_visitor visit) {
    const std::string k = std::to_string(kernel_height) + "x" + std::to_string(kernel_width);
    visit(layer_info{"avgpool", adaptive ? "AdaptiveAvgPool2d 1x1" : "AvgPool2d " + k + "/1", 1, pooled::channels,
                     pooled::height, pooled::width, 0, 0});
    visit(layer_info{Layout::classifier_name(), "Linear", 1, Classes, 1, 1, num_params, num_macs});
  }
};

/// A backbone's end: no pool and no classifier; the last stage's feature map is the output, in
/// PyTorch's NCHW order.
template <class In>
struct feature_output {
  static constexpr index_t state_floats = 0, derived_floats = 0, num_params = 0, num_macs = 0,
                           max_activation_floats = 0;
  static void forward(const float*, image_buffers& b, float* features) {
    ops::hwc_to_chw(b.x, In::channels, In::height, In::width, features);
  }
  static void visit_tensors(tensor_visitor, index_t) {}
  static void visit_layers(layer_visitor) {}
};

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

template <class... Parts>
constexpr std::array<index_t, sizeof...(Parts)> state_offsets() {
  std::array<index_t, sizeof...(Parts)> offsets{};
  const index_t sizes[] = {Parts::state_floats...};
  for (std::size_t i = 1; i < offsets.size(); ++i) offsets[i] = offsets[i - 1] + sizes[i - 1];
  return offsets;
}

}  // namespace detail

template <class Block, class Stages, int Classes, class Input, class Layout>
class resnet;
template <class Net>
class network_view;

/// A ResNet as a type. Block is basic_block or bottleneck, Stages the blocks per stage, Input the
/// shape of one image, Layout an architecture policy (torchvision_layout, reference_layout, ...).
///
/// Parameters, BatchNorm running statistics and the weights derived from them (Winograd's
/// transformed weights, after each such conv's BatchNorm) live in one buffer ("state"), tensor
/// after tensor in state-dict order, conv weights in panels (conv_weight_index); `visit_tensors`
/// names every tensor in it. A forward pass needs `workspace_floats` of scratch per call; it is
/// allocated for you unless you pass your own.
template <class Block, int... BlockCounts, int Classes, class Input, class Layout>
class resnet<Block, stages<BlockCounts...>, Classes, Input, Layout> {
  static_assert(detail::check_positive_classes<Classes>::value);
  static_assert(detail::check_stage_list_not_empty<sizeof...(BlockCounts)>::value);
  static_assert(detail::check_block_counts_positive<((BlockCounts > 0) && ...)>::value);

  using chain = detail::stage_chain<Block, Layout, typename detail::stem<Input, Layout>::output, 0, 1,
                                    std::tuple<>, BlockCounts...>;

 public:
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
      std::array<index_t, num_stages + 2> offsets;
      index_t num_params, derived_floats, num_macs, thread_scratch_floats, max_activation_floats, max_channels;
    };
    return sums{detail::state_offsets<stem_type, std::tuple_element_t<I, parts>..., head_type>(),
                (stem_type::num_params + ... + std::tuple_element_t<I, parts>::num_params) + head_type::num_params,
                (stem_type::derived_floats + ... + std::tuple_element_t<I, parts>::derived_floats),
                (stem_type::num_macs + ... + std::tuple_element_t<I, parts>::num_macs) + head_type::num_macs,
                detail::max_of(stem_type::thread_scratch_floats, std::tuple_element_t<I, parts>::thread_scratch_floats...),
                detail::max_of(Input::size, stem_type::max_activation_floats,
                               std::tuple_element_t<I, parts>::max_activation_floats...,
                               head_type::max_activation_floats),
                detail::max_of(stem_type::max_channels, std::tuple_element_t<I, parts>::max_channels...)};
  }
  static constexpr auto sums = totals(std::make_index_sequence<num_stages>{});
  static constexpr index_t head_offset = sums.offsets[num_stages + 1];
  // Distances between the workspace's buffers.
  static constexpr index_t activation_stride = whole_cache_lines(sums.max_activation_floats);
  static constexpr index_t channels_stride = whole_cache_lines(sums.max_channels);
  static constexpr index_t thread_stride = whole_cache_lines(sums.thread_scratch_floats);

 public:
  /// Learnable parameters (conv and fc weights, BatchNorm affine), as torchvision counts them.
  static constexpr index_t num_params = sums.num_params;
  /// Multiply-adds of conv and fc layers for one image.
  static constexpr index_t num_macs = sums.num_macs;
  /// Floats in the state buffer: the state-dict tensors (parameters and BatchNorm running mean and
  /// variance), and the transformed weights of the convs that run by Winograd's method.
  static constexpr index_t state_floats = head_offset + head_type::state_floats;
  /// Of those, the floats derived from the tensors rather than loaded.
  static constexpr index_t derived_floats = sums.derived_floats;
  /// Of those, the floats of the state-dict tensors as stored: what a weights file holds, and for
  /// grouped convs (ResNeXt) the zeros kept between groups (see conv_weight_layout).
  static constexpr index_t tensor_floats = state_floats - derived_floats;
  /// Largest activation of one image, in floats.
  static constexpr index_t max_activation_floats = sums.max_activation_floats;
  /// Scratch for one forward call (any batch size) on `threads` threads: four activation buffers,
  /// a per-channel scale and shift, and for every thread its own scratch (patch rows or a block
  /// of Winograd tiles), each starting on a cache line, and room to move the start of a buffer
  /// that is not on one.
  static constexpr index_t workspace_floats_for(int threads) {
    return cache_line_floats - 1 + 4 * activation_stride + 2 * channels_stride + index_t{threads} * thread_stride;
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

  /// A network initialised as torchvision and the reference example do (Kaiming-normal convs,
  /// BatchNorm weight 1 and bias 0, PyTorch's default Linear), from a seeded generator.
  explicit resnet(std::uint64_t seed = 0) : state_(static_cast<std::size_t>(state_floats)) { initialize(seed); }
  /// A network whose state is all zeros, for weights you load next: it skips drawing random
  /// weights, which takes about a second per 100 million parameters.
  explicit resnet(uninitialized_t) : state_(static_cast<std::size_t>(state_floats)) {}

  /// Re-initialise every tensor from `seed`.
  void initialize(std::uint64_t seed) {
    pytorch_initializer init(seed);
    visit_tensors([&](const tensor_info& t) { init(t, state_.data()); });
    prepare();
  }

  /// The state buffer, `state_floats` floats; `visit_tensors` tells where each tensor is. After
  /// writing through it, call prepare(): until then a forward pass throws std::logic_error
  /// (try_forward returns status::state_not_prepared) rather than run on outdated derived weights.
  /// (A pointer kept and written after prepare() escapes this check; take it anew.)
  float* state_data() {
    stale_ = true;
    return state_.data();
  }
  const float* state_data() const { return state_.data(); }

  /// Rederives the Winograd-transformed weights from the state. The constructor, initialize() and
  /// load_safetensors() call it; call it yourself after writing through state_data().
  void prepare() {
    stem_type::prepare(state_.data());
    prepare_stages(std::make_index_sequence<num_stages>{});
    stale_ = false;
  }

  /// The non-throwing, allocation-free forward pass, in every build: logits (N, classes), or a
  /// backbone's features (N, C, H, W), go to `output`, scratch to `workspace`, which must hold
  /// `workspace_floats` floats and may be shared by calls that do not overlap in time. Returns
  /// status::ok, or what is wrong (and then computes nothing).
  status try_forward(const input_map& images, output_map output, float* workspace) const {
    return stale_ ? status::state_not_prepared : forward_state(state_.data(), images, output, workspace, nullptr);
  }
  /// The same on the threads of `pool`; `workspace` must hold `workspace_floats_for(pool.size())` floats.
  status try_forward(const input_map& images, output_map output, float* workspace, thread_pool& pool) const {
    return stale_ ? status::state_not_prepared : forward_state(state_.data(), images, output, workspace, &pool);
  }
  /// Every stage's feature map without throwing: stage I's maps go to maps[I] (N x C x H x W floats
  /// of stage_shape<I>, NCHW), or nowhere if it is nullptr; stages after the last one asked for do not run.
  status try_forward_stages(const input_map& images, const std::array<float*, num_stages>& maps,
                            float* workspace) const {
    return stale_ ? status::state_not_prepared : forward_stages_state(state_.data(), images, maps, workspace, nullptr);
  }
  status try_forward_stages(const input_map& images, const std::array<float*, num_stages>& maps, float* workspace,
                            thread_pool& pool) const {
    return stale_ ? status::state_not_prepared : forward_stages_state(state_.data(), images, maps, workspace, &pool);
  }

#if CTRESNET_EXCEPTIONS
  /// Logits (N, classes) for an NCHW batch (N, C, H, W); N >= 1 is chosen at run time. A backbone
  /// gives its feature maps (N, C, H, W) instead.
  output_tensor forward(const input_map& images) const {
    output_tensor output(output_dimensions(images.dimension(0)));
    std::vector<float> workspace(static_cast<std::size_t>(workspace_floats));
    forward(images, output_map(output.data(), output.dimensions()), workspace.data());
    return output;
  }
  output_tensor forward(const input_tensor& images) const {
    return forward(input_map(images.data(), images.dimensions()));
  }

  /// The allocation-free form of forward(images): try_forward, throwing std::invalid_argument for
  /// a wrong shape or null workspace and std::logic_error for a state not prepared.
  void forward(const input_map& images, output_map output, float* workspace) const {
    throw_if_error(try_forward(images, output, workspace), images, &output);
  }
  /// The same on the threads of `pool`; `workspace` must hold `workspace_floats_for(pool.size())`
  /// floats. Nothing is allocated either.
  void forward(const input_map& images, output_map output, float* workspace, thread_pool& pool) const {
    throw_if_error(try_forward(images, output, workspace, pool), images, &output);
  }

  /// Every stage's feature map (N, C, H, W), as torchvision's IntermediateLayerGetter returns them
  /// (what a detection or segmentation head takes); the classifier does not run.
  std::array<feature_tensor, num_stages> forward_stages(const input_map& images) const {
    std::array<feature_tensor, num_stages> maps;
    std::array<float*, num_stages> targets{};
    for_each_stage([&](auto stage) {
      using shape = stage_shape<decltype(stage)::value>;
      maps[stage] = feature_tensor(images.dimension(0), shape::channels, shape::height, shape::width);
      targets[stage] = maps[stage].data();
    });
    std::vector<float> workspace(static_cast<std::size_t>(workspace_floats));
    forward_stages(images, targets, workspace.data());
    return maps;
  }
  std::array<feature_tensor, num_stages> forward_stages(const input_tensor& images) const {
    return forward_stages(input_map(images.data(), images.dimensions()));
  }
  /// The allocation-free form: try_forward_stages, throwing as forward() does.
  void forward_stages(const input_map& images, const std::array<float*, num_stages>& maps, float* workspace) const {
    throw_if_error(try_forward_stages(images, maps, workspace), images, nullptr);
  }
  /// The same on the threads of `pool`, with a workspace of `workspace_floats_for(pool.size())` floats.
  void forward_stages(const input_map& images, const std::array<float*, num_stages>& maps, float* workspace,
                      thread_pool& pool) const {
    throw_if_error(try_forward_stages(images, maps, workspace, pool), images, nullptr);
  }
#endif

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
    for (index_t offset : sums.offsets) hash.add(offset);
    return hash.value;
  }();

 private:
  template <class>
  friend class network_view;

  template <std::size_t... I>
  static void visit_stage_tensors(tensor_visitor visit, std::index_sequence<I...>) {
    (std::tuple_element_t<I, stage_types>::visit_tensors(visit, sums.offsets[I + 1]), ...);
  }
  template <std::size_t... I>
  static void visit_stage_layers(layer_visitor visit, std::index_sequence<I...>) {
    (std::tuple_element_t<I, stage_types>::visit_layers(visit), ...);
  }

#if CTRESNET_EXCEPTIONS
  template <class Dimensions>
  static std::string shape_text(const Dimensions& dimensions) {
    std::string text = "[";
    for (std::size_t d = 0; d < dimensions.size(); ++d) text += (d ? ", " : "") + std::to_string(dimensions[d]);
    return text + "]";
  }

  /// Turns a status into the exception the throwing API documents, naming the shapes involved.
  static void throw_if_error(status s, const input_map& images, const output_map* output) {
    switch (s) {
      case status::ok:
        return;
      case status::state_not_prepared:
        throw std::logic_error("ctresnet::resnet::forward: the state was taken for writing through state_data(); "
                               "call prepare() before the next forward pass");
      case status::wrong_input_shape:
        throw std::invalid_argument("ctresnet::resnet::forward: the input has shape " +
                                    shape_text(images.dimensions()) + ", expected [N, " +
                                    std::to_string(Input::channels) + ", " + std::to_string(Input::height) + ", " +
                                    std::to_string(Input::width) + "] with N >= 1");
      case status::wrong_output_shape:
        throw std::invalid_argument(
            "ctresnet::resnet::forward: the " + std::string(has_classifier ? "logits" : "feature") +
            " tensor has shape " + (output ? shape_text(output->dimensions()) : std::string("?")) + ", expected " +
            shape_text(output_dimensions(images.dimension(0))));
      default:
        throw std::invalid_argument(std::string("ctresnet::resnet::forward: ") + status_message(s));
    }
  }
#endif

  static bool input_fits(const input_map& images) {
    return images.dimension(0) >= 1 && images.dimension(1) == Input::channels &&
           images.dimension(2) == Input::height && images.dimension(3) == Input::width;
  }

  /// Lays out the workspace.
  static image_buffers start_batch(float* workspace, thread_pool* pool) {
    float* const start = align_to_cache_line(workspace);
    const index_t act = activation_stride;
    float* per_channel = start + 4 * act;
    return {start,
            {start + act, start + 2 * act, start + 3 * act},
            {per_channel + 2 * channels_stride, thread_stride, per_channel, per_channel + channels_stride, pool}};
  }

  /// The one forward pass, from a state anywhere: this network's buffer or a network_view's.
  static status forward_state(const float* state, const input_map& images, output_map output, float* workspace,
                              thread_pool* pool) {
    if (!input_fits(images)) return status::wrong_input_shape;
    const auto expected = output_dimensions(images.dimension(0));
    for (std::size_t d = 0; d < expected.size(); ++d)
      if (output.dimension(d) != expected[d]) return status::wrong_output_shape;
    if (workspace == nullptr) return status::no_workspace;
    const image_buffers b = start_batch(workspace, pool);
    for (index_t n = 0; n < images.dimension(0); ++n) {
      image_buffers image = b;
      run_image(state, images.data() + n * Input::size, image, num_stages - 1, [](auto, const image_buffers&) {});
      head_type::forward(state + head_offset, image, output.data() + n * output_floats);
    }
    return status::ok;
  }

  static status forward_stages_state(const float* state, const input_map& images,
                                     const std::array<float*, num_stages>& maps, float* workspace, thread_pool* pool) {
    if (!input_fits(images)) return status::wrong_input_shape;
    if (workspace == nullptr) return status::no_workspace;
    const image_buffers b = start_batch(workspace, pool);
    int last = -1;
    for (int i = 0; i < num_stages; ++i)
      if (maps[std::size_t(i)] != nullptr) last = i;
    for (index_t n = 0; n < images.dimension(0); ++n) {
      image_buffers image = b;
      run_image(state, images.data() + n * Input::size, image, last, [&](auto stage, const image_buffers& after) {
        using shape = stage_shape<decltype(stage)::value>;
        if (float* map = maps[stage])
          ops::hwc_to_chw(after.x, shape::channels, shape::height, shape::width, map + n * shape::size);
      });
    }
    return status::ok;
  }

  /// One CHW image through the stem and stages 0 ... last, calling after_stage(stage, image) after
  /// each; the image's activation is then in image.x.
  template <class AfterStage>
  static void run_image(const float* state, const float* chw, image_buffers& image, int last,
                        AfterStage&& after_stage) {
    stem_type::forward(state, chw, image);
    for_each_stage([&](auto stage) {
      constexpr int i = decltype(stage)::value;
      if (i > last) return;
      std::tuple_element_t<i, stage_types>::forward(state + sums.offsets[i + 1], image);
      after_stage(stage, image);
    });
  }
  /// f(std::integral_constant<int, I>) for every stage I in order.
  template <class F>
  static void for_each_stage(F&& f) {
    for_each_stage(f, std::make_index_sequence<num_stages>{});
  }
  template <class F, std::size_t... I>
  static void for_each_stage(F& f, std::index_sequence<I...>) {
    (f(std::integral_constant<int, int(I)>{}), ...);
  }
  template <std::size_t... I>
  void prepare_stages(std::index_sequence<I...>) {
    (std::tuple_element_t<I, stage_types>::prepare(state_.data() + sums.offsets[I + 1]), ...);
  }

  std::vector<float, detail::cache_aligned_allocator<float>> state_;
  bool stale_ = false;  // the state was handed out for writing since the last prepare()
};

namespace detail {
template <class Net, int Stages>
struct backbone_of {
  static_assert(check_backbone_stages<Stages, Net::num_stages>::value);
  template <std::size_t... I>
  static auto truncate(std::index_sequence<I...>)
      -> resnet<typename Net::block_type, stages<Net::blocks_per_stage[I]...>, 1, typename Net::input_shape,
                without_classifier<typename Net::layout>>;
  using type = decltype(truncate(std::make_index_sequence<(Stages >= 1 && Stages <= Net::num_stages ? Stages : 1)>{}));
};
}  // namespace detail

/// Net's stem and first `Stages` stages, without pool or classifier: a backbone whose output, its
/// last stage's feature map, has the compile-time shape `features_shape` (backbone<resnet50<>, 3>:
/// layer3's [1024, 14, 14]). Its state-dict names are Net's, so Net's weights file loads into it
/// with load_safetensors(backbone, path, unexpected_tensors::ignore).
template <class Net, int Stages>
using backbone = typename detail::backbone_of<Net, Stages>::type;

// ---- torchvision's ResNets -------------------------------------------------------------------

template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet18 final : resnet<basic_block, stages<2, 2, 2, 2>, Classes, Input, torchvision_layout> {
  using resnet18::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet34 final : resnet<basic_block, stages<3, 4, 6, 3>, Classes, Input, torchvision_layout> {
  using resnet34::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet50 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, torchvision_layout> {
  using resnet50::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet101 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, torchvision_layout> {
  using resnet101::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet152 final : resnet<bottleneck, stages<3, 8, 36, 3>, Classes, Input, torchvision_layout> {
  using resnet152::resnet::resnet;
};

/// ResNeXt (Xie et al. 2017) and Wide ResNets (Zagoruyko and Komodakis 2016) as torchvision builds them.
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnext50_32x4d final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, grouped_layout<32, 4>> {
  using resnext50_32x4d::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnext101_32x8d final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, grouped_layout<32, 8>> {
  using resnext101_32x8d::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnext101_64x4d final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, grouped_layout<64, 4>> {
  using resnext101_64x4d::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct wide_resnet50_2 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, grouped_layout<1, 128>> {
  using wide_resnet50_2::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct wide_resnet101_2 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, grouped_layout<1, 128>> {
  using wide_resnet101_2::resnet::resnet;
};

/// He et al.'s CIFAR-10 ResNets (2015, section 4.2): Depth = 6n + 2 layers, n basic blocks in
/// each of three stages of 16, 32 and 64 channels, 10 classes and 3x32x32 images by default.
/// cifar_layout gives shortcut option A (zero padding), cifar_projection_layout option B.
namespace cifar {
template <int Depth>
struct stages_for_depth {
  static_assert(detail::check_cifar_depth<Depth>::value);
  static constexpr int blocks = Depth >= 8 ? (Depth - 2) / 6 : 1;  // 1 once the check above failed
  using type = stages<blocks, blocks, blocks>;
};

template <int Depth, int Classes = cifar_layout::default_classes, class Input = cifar_input,
          class Layout = cifar_layout>
struct resnet final
    : ctresnet::resnet<basic_block, typename stages_for_depth<Depth>::type, Classes, Input, Layout> {
  using base = ctresnet::resnet<basic_block, typename stages_for_depth<Depth>::type, Classes, Input, Layout>;
  using base::base;
};

template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet20 = resnet<20, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet32 = resnet<32, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet44 = resnet<44, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet56 = resnet<56, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet110 = resnet<110, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet1202 = resnet<1202, Classes, Input, Layout>;
}  // namespace cifar

/// The PyTorch example in shared/reference, names and all (5 classes by default).
namespace reference {
template <int Classes = reference_layout::default_classes, class Input = imagenet_input>
struct resnet18 final : resnet<basic_block, stages<2, 2, 2, 2>, Classes, Input, reference_layout> {
  using resnet18::resnet::resnet;
};
template <int Classes = reference_layout::default_classes, class Input = imagenet_input>
struct resnet34 final : resnet<basic_block, stages<3, 4, 6, 3>, Classes, Input, reference_layout> {
  using resnet34::resnet::resnet;
};
template <int Classes = reference_layout::default_classes, class Input = imagenet_input>
struct resnet50 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, reference_layout> {
  using resnet50::resnet::resnet;
};
template <int Classes = reference_layout::default_classes, class Input = imagenet_input>
struct resnet101 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, reference_layout> {
  using resnet101::resnet::resnet;
};
template <int Classes = reference_layout::default_classes, class Input = imagenet_input>
struct resnet152 final : resnet<bottleneck, stages<3, 8, 36, 3>, Classes, Input, reference_layout> {
  using resnet152::resnet::resnet;
};
}  // namespace reference

/// The original paper's bottleneck placement (stride on the first 1x1 conv), torchvision's names.
/// ResNet-18/34 have no bottleneck, so they are the same in every placement.
namespace v1 {
template <int Classes = original_paper_layout::default_classes, class Input = imagenet_input>
struct resnet50 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, original_paper_layout> {
  using resnet50::resnet::resnet;
};
template <int Classes = original_paper_layout::default_classes, class Input = imagenet_input>
struct resnet101 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, original_paper_layout> {
  using resnet101::resnet::resnet;
};
template <int Classes = original_paper_layout::default_classes, class Input = imagenet_input>
struct resnet152 final : resnet<bottleneck, stages<3, 8, 36, 3>, Classes, Input, original_paper_layout> {
  using resnet152::resnet::resnet;
};
}  // namespace v1

}  // namespace ctresnet
