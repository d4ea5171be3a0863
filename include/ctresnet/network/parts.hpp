// The parts a network is made of: the stem, a stage of residual blocks, and the end (a classifier
// head, or a backbone's feature map). Each knows its shapes, sizes and state-dict names at compile
// time and runs one image at run time.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/blocks.hpp>
#include <ctresnet/detail/meta.hpp>
#include <ctresnet/layout.hpp>

#include <algorithm>
#include <string>
#include <tuple>
#include <type_traits>

namespace ctresnet {

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
  /// A direct conv and its pool run band by band (kernels::conv2d_max_pool), so that the conv's
  /// output (64x112x112 for a 224x224 image, as large as any of the network's activations) is never
  /// stored whole.
  static constexpr bool fused_pool = pooled && !conv::uses_winograd;
  static constexpr kernels::pool_geometry pool_window{pool::kernel, pool::stride, pool::padding, output::height,
                                                      output::width};

  static constexpr index_t state_floats = conv::state_floats;
  static constexpr index_t derived_floats = conv::derived_floats;
  static constexpr index_t num_params = conv::num_params;
  static constexpr index_t num_macs = conv::num_macs;
  static constexpr index_t thread_scratch_floats =
      fused_pool ? conv::max_pool_thread_floats(pool_window) : conv::thread_scratch_floats;
  /// A direct conv reads the image as strided planes (fastest for its few input channels); a
  /// Winograd conv (a 3x3 stem) reads it channels-last.
  static constexpr kernels::conv_input input_layout =
      conv::uses_winograd ? kernels::conv_input::channels_last : kernels::conv_input::strided_planes;
  static constexpr index_t input_floats =
      conv::uses_winograd ? In::size : kernels::strided_planes(conv::geometry).floats();
  static constexpr index_t max_activation_floats =
      max_of(input_floats, fused_pool ? 0 : conv::output::size, output::size);
  static constexpr int max_channels = Layout::stem_width;

  static void prepare(float* state) { conv::prepare(state); }
  /// One CHW image (PyTorch's order) through the stem, into b.x.
  static void forward(const float* state, const float* chw, image_buffers& b) {
    using c = typename conv::output;
    float* const image = b.x;
    if constexpr (input_layout == kernels::conv_input::strided_planes)
      kernels::chw_to_strided_planes(conv::geometry, chw, image);
    else
      kernels::chw_to_hwc(chw, In::channels, In::height, In::width, image);
    if constexpr (fused_pool)
      conv::forward_max_pool(state, image, pool_window, b.spare[0], b.scratch, input_layout);
    else
      conv::forward(state, image, nullptr, true, b.spare[0], b.scratch, input_layout);
    if constexpr (pooled && !fused_pool) {
      kernels::max_pool(b.spare[0], c::height, c::width, c::channels, pool::kernel, pool::stride, pool::padding,
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
  // Both torchvision and the stage-projection layout size fc for the last stage's channels.
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
    kernels::avg_pool_to_chw(b.x, In::width, In::channels, kernel_height, kernel_width, 1, pooled::height,
                         pooled::width, features);
    kernels::linear(features, state, state + index_t{Classes} * In::channels, In::channels, Classes, logits,
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
    kernels::hwc_to_chw(b.x, In::channels, In::height, In::width, features);
  }
  static void visit_tensors(tensor_visitor, index_t) {}
  static void visit_layers(layer_visitor) {}
};

}  // namespace detail

}  // namespace ctresnet
