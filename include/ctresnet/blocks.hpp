// Residual blocks: conv_bn (a convolution and its BatchNorm), basic_block and bottleneck.
// Each block type knows its shapes, counts and state-dict names at compile time and runs one
// image in channels-last order at run time.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/describe.hpp>
#include <ctresnet/detail/meta.hpp>
#include <ctresnet/layers.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/kernels/conv_max_pool.hpp>
#include <ctresnet/kernels/tensor_ops.hpp>
#include <ctresnet/kernels/winograd.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <tuple>

namespace ctresnet {

/// The workspace of one image while it passes through the network: the current activation `x`,
/// two spare activation buffers, and convolution scratch. A block leaves its output in `x` and
/// hands the other buffers back as spares.
struct image_buffers {
  float* x;
  float* spare[2];
  kernels::conv_scratch scratch;
};

namespace detail {

/// The state-dict entries of a conv and its BatchNorm: conv weight, then the norm's four vectors.
CTRESNET_NOINLINE void conv_bn_tensors(tensor_visitor visit, const std::string& conv_name, const std::string& norm_name,
                                     const conv_weight_layout& weights, index_t offset) {
  const index_t out_channels = weights.out_channels;
  visit(tensor_info{conv_name + ".weight", tensor_role::conv_weight, 4,
                    {out_channels, weights.group_inputs(), weights.kernel, weights.kernel}, offset, weights.groups});
  offset += weights.stored_floats();
  const char* const suffixes[] = {".weight", ".bias", ".running_mean", ".running_var"};
  const tensor_role roles[] = {tensor_role::norm_weight, tensor_role::norm_bias, tensor_role::norm_running_mean,
                               tensor_role::norm_running_var};
  for (int i = 0; i < 4; ++i)
    visit(tensor_info{norm_name + suffixes[i], roles[i], 1, {out_channels, 0, 0, 0}, offset + i * out_channels});
}

/// The summary rows of a conv and its BatchNorm.
CTRESNET_NOINLINE void conv_bn_layers(layer_visitor visit, const std::string& conv_name, const std::string& norm_name,
                                    int depth, int kernel, int stride, int groups, int dilation,
                                    std::array<int, 3> output, index_t conv_params, index_t macs) {
  const std::string k = std::to_string(kernel);
  std::string type = "Conv2d " + k + "x" + k + "/" + std::to_string(stride);
  if (groups > 1) type += ", " + std::to_string(groups) + " groups";
  if (dilation > 1) type += ", dilation " + std::to_string(dilation);
  visit(layer_info{conv_name, type, depth, output[0], output[1], output[2], conv_params, macs});
  visit(layer_info{norm_name, "BatchNorm2d", depth, output[0], output[1], output[2], 2 * index_t{output[0]}, 0});
}

}  // namespace detail

/// A convolution followed by its BatchNorm: the unit every ResNet is made of. Its state is the
/// conv weights (in panels), the BatchNorm's four vectors and, for a conv that runs by Winograd's
/// method, its transformed weights (derived from the others by `prepare`).
template <class In, int OutChannels, int Kernel, int Stride, int Padding, int Groups = 1, int Dilation = 1,
          bool AllowWinograd = true>
struct conv_bn {
  using conv = conv2d<In::channels, OutChannels, Kernel, Stride, Padding, Groups, Dilation>;
  using norm = batch_norm<OutChannels>;
  using input = In;
  using output = typename conv::template output_shape<In>;

  // Grouped convs run directly, block of groups by block; so do dilated ones.
  static constexpr int winograd_tile =
      AllowWinograd && conv::groups == 1 && conv::dilation == 1
          ? kernels::winograd_tile_for(Kernel, Stride, Padding, output::height, output::width)
          : 0;
  static constexpr bool uses_winograd = winograd_tile != 0;
  // (Unused by a direct conv.)
  using winograd = kernels::winograd<uses_winograd ? winograd_tile : 2, uses_winograd ? Stride : 1>;
  static constexpr index_t derived_floats = uses_winograd ? winograd::weight_floats(In::channels, OutChannels) : 0;
  static constexpr index_t state_floats = conv::stored_floats + norm::state_floats + derived_floats;
  static constexpr index_t num_params = conv::num_params + norm::num_params;
  static constexpr index_t num_macs = conv::template macs<In>;
  static constexpr kernels::conv_geometry geometry{In::height, In::width,    In::channels, output::height,
                                               output::width, OutChannels, Kernel,     Stride,
                                               Padding,   conv::groups, conv::dilation};
  /// Scratch one thread needs while it works on this conv.
  static constexpr index_t thread_scratch_floats =
      uses_winograd
          ? winograd::thread_floats(In::channels, OutChannels, winograd::tiles(output::height, output::width))
          : kernels::conv_thread_floats(conv::patch_length);
  static constexpr index_t norm_offset = conv::stored_floats;
  static constexpr index_t derived_offset = norm_offset + norm::state_floats;

  /// `in` is an HWC image, or with conv_input::strided_planes (a direct conv only) kernels::strided_planes.
  static void forward(const float* state, const float* in, const float* residual, bool relu, float* out,
                      const kernels::conv_scratch& scratch, kernels::conv_input input = kernels::conv_input::channels_last) {
    const kernels::conv_epilogue epilogue{state + norm_offset, residual, relu};
    if constexpr (uses_winograd)
      kernels::winograd_conv3x3<winograd_tile, Stride>(geometry, in, state + derived_offset, epilogue, out, scratch);
    else
      kernels::conv2d(geometry, in, state, epilogue, out, scratch, input);
  }
  /// out = max_pool(relu(BatchNorm(conv(in)))), band by band (kernels::conv2d_max_pool), for a
  /// conv without groups (the stem's); each thread needs max_pool_thread_floats(pool) of scratch.
  static void forward_max_pool(const float* state, const float* in, const kernels::pool_geometry& pool, float* out,
                               const kernels::conv_scratch& scratch, kernels::conv_input input) {
    kernels::conv2d_max_pool(geometry, input, in, state, {state + norm_offset, nullptr, true}, pool, out, scratch);
  }
  static constexpr index_t max_pool_thread_floats(const kernels::pool_geometry& pool) {
    return kernels::conv_max_pool_thread_floats(geometry, pool);
  }
  /// Recomputes what is derived from the weights.
  static void prepare(float* state) {
    if constexpr (uses_winograd)
      kernels::winograd_weights<winograd_tile, Stride>(state, In::channels, OutChannels, state + derived_offset);
  }

  static void visit_tensors(tensor_visitor visit, const std::string& conv_name, const std::string& norm_name,
                            index_t offset) {
    detail::conv_bn_tensors(visit, conv_name, norm_name, conv::weight_layout, offset);
  }
  static void visit_layers(layer_visitor visit, const std::string& conv_name, const std::string& norm_name, int depth) {
    detail::conv_bn_layers(visit, conv_name, norm_name, depth, Kernel, Stride, conv::groups, conv::dilation,
                           {output::channels, output::height, output::width}, conv::num_params, num_macs);
  }
};

namespace detail {

/// A block's shortcut of the given kind: the identity (nothing to compute) unless specialised below.
template <shortcut_kind Kind, class In, int OutChannels, int Stride>
struct shortcut {
  using output = In;
  static constexpr index_t state_floats = 0, derived_floats = 0, num_params = 0, num_macs = 0,
                           thread_scratch_floats = 0;
  static float* forward(const float*, float* in, float*, const kernels::conv_scratch&) { return in; }
  static void prepare(float*) {}
  template <class Layout>
  static void visit_tensors(tensor_visitor, const std::string&, index_t, Layout*) {}
  template <class Layout>
  static void visit_layers(layer_visitor, const std::string&, int, Layout*) {}
};

/// The 1x1 projection (conv + BN).
template <class In, int OutChannels, int Stride>
struct shortcut<shortcut_kind::projection, In, OutChannels, Stride> {
  using projection = conv_bn<In, OutChannels, 1, Stride, 0>;
  using output = typename projection::output;
  static constexpr index_t state_floats = projection::state_floats, derived_floats = projection::derived_floats,
                           num_params = projection::num_params,
                           num_macs = projection::num_macs,
                           thread_scratch_floats = projection::thread_scratch_floats;
  static void prepare(float* state) { projection::prepare(state); }
  static float* forward(const float* state, const float* in, float* out, const kernels::conv_scratch& scratch) {
    projection::forward(state, in, nullptr, false, out, scratch);
    return out;
  }
  template <class Layout>
  static void visit_tensors(tensor_visitor visit, const std::string& prefix, index_t offset, Layout*) {
    projection::visit_tensors(visit, prefix + Layout::downsample_conv_name(), prefix + Layout::downsample_norm_name(),
                              offset);
  }
  template <class Layout>
  static void visit_layers(layer_visitor visit, const std::string& prefix, int depth, Layout*) {
    projection::visit_layers(visit, prefix + Layout::downsample_conv_name(), prefix + Layout::downsample_norm_name(),
                             depth);
  }
};

/// Every Stride-th pixel of every Stride-th row, its channels in the middle of OutChannels zeros.
template <class In, int OutChannels, int Stride>
struct shortcut<shortcut_kind::zero_padded, In, OutChannels, Stride> {
  static_assert(check_zero_padding_widens<In::channels, OutChannels>::value);
  using output = shape<OutChannels, window_out(In::height, 1, Stride, 0), window_out(In::width, 1, Stride, 0)>;
  static constexpr int channels_before = (OutChannels - In::channels) / 2;
  static constexpr index_t state_floats = 0, derived_floats = 0, num_params = 0, num_macs = 0,
                           thread_scratch_floats = 0;
  static void prepare(float*) {}
  static float* forward(const float*, const float* in, float* out, const kernels::conv_scratch&) {
    kernels::subsample_and_zero_pad(in, In::width, In::channels, Stride, output::height, output::width, OutChannels,
                                channels_before, out);
    return out;
  }
  template <class Layout>
  static void visit_tensors(tensor_visitor, const std::string&, index_t, Layout*) {}
  template <class Layout>
  static void visit_layers(layer_visitor visit, const std::string& prefix, int depth, Layout*) {
    visit(layer_info{prefix + "shortcut", "ZeroPadShortcut /" + std::to_string(Stride), depth,
                     OutChannels, output::height, output::width, 0, 0});
  }
};

}  // namespace detail

/// What every block unit shares: its convolutions (main branch in order, then the shortcut, which
/// is also the order of their state), the residual shape check, totals, and state-dict names.
template <class Kind, class Layout, class Shortcut, class... Convs>
struct block_parts {
  template <std::size_t I>
  using conv = std::tuple_element_t<I, std::tuple<Convs...>>;
  using shortcut = Shortcut;
  using input = typename conv<0>::input;
  using output = typename conv<sizeof...(Convs) - 1>::output;
  static_assert(detail::check_residual_shapes<output, typename Shortcut::output>::value);

  static constexpr index_t state_floats = (Convs::state_floats + ... + Shortcut::state_floats);
  static constexpr index_t derived_floats = (Convs::derived_floats + ... + Shortcut::derived_floats);
  static constexpr index_t num_params = (Convs::num_params + ... + Shortcut::num_params);
  static constexpr index_t num_macs = (Convs::num_macs + ... + Shortcut::num_macs);
  static constexpr index_t thread_scratch_floats =
      detail::max_of(Convs::thread_scratch_floats..., Shortcut::thread_scratch_floats);
  static constexpr index_t max_activation_floats = detail::max_of(Convs::input::size..., output::size);
  static constexpr int max_channels = static_cast<int>(detail::max_of(Convs::output::channels...));

  /// Where each conv's state starts; the last entry is the shortcut's.
  static constexpr std::array<index_t, sizeof...(Convs) + 1> offsets = detail::state_offsets<Convs...>();
  static constexpr index_t shortcut_offset = offsets[sizeof...(Convs)];

  static void prepare(float* state) {
    std::size_t i = 0;
    (Convs::prepare(state + offsets[i++]), ...);
    Shortcut::prepare(state + shortcut_offset);
  }

  static void visit_tensors(tensor_visitor visit, const std::string& prefix, index_t offset) {
    int i = 0;
    ((Convs::visit_tensors(visit, prefix + Layout::block_conv_name(Kind::family, i),
                           prefix + Layout::block_norm_name(Kind::family, i), offset + offsets[std::size_t(i)]),
      ++i),
     ...);
    Shortcut::visit_tensors(visit, prefix, offset + shortcut_offset, static_cast<Layout*>(nullptr));
  }

  static void visit_layers(layer_visitor visit, const std::string& prefix, int depth) {
    int i = 0;
    ((Convs::visit_layers(visit, prefix + Layout::block_conv_name(Kind::family, i),
                          prefix + Layout::block_norm_name(Kind::family, i), depth),
      ++i),
     ...);
    Shortcut::visit_layers(visit, prefix, depth, static_cast<Layout*>(nullptr));
  }
};

/// ResNet-18/34's block: two 3x3 convs; the first carries the stride.
struct basic_block {
  static constexpr int expansion = 1;
  static constexpr const char* family = "basicblock";
  static constexpr const char* type_name = "BasicBlock";

  template <class In, int Width, int Stride, shortcut_kind Shortcut, class Layout, int Dilation = 1,
            class ConvA = conv_bn<In, Width, 3, Stride, 1, 1, 1, Layout::winograd>>
  struct unit : block_parts<basic_block, Layout, detail::shortcut<Shortcut, In, Width * expansion, Stride>, ConvA,
                            conv_bn<typename ConvA::output, Width, 3, 1, 1, 1, 1, Layout::winograd>> {
    static_assert(detail::check_basic_block_plain<Layout::groups, Layout::width_per_group>::value);
    static_assert(detail::check_basic_block_undilated<Dilation>::value);
    static void forward(const float* state, image_buffers& b) {
      using parts = typename unit::block_parts;
      const auto& o = parts::offsets;
      float* const x = b.x;
      float* const t = b.spare[0];
      float* const projected = b.spare[1];
      parts::template conv<0>::forward(state + o[0], x, nullptr, true, t, b.scratch);
      // The second conv adds its outputs to the shortcut's in place (see bottleneck).
      float* const sum = parts::shortcut::forward(state + o[2], x, projected, b.scratch);
      parts::template conv<1>::forward(state + o[1], t, sum, true, sum, b.scratch);
      b = image_buffers{sum, {sum == x ? projected : x, t}, b.scratch};
    }
  };
};

/// ResNet-50/101/152's block: 1x1 reduce, 3x3, 1x1 expand (x4). torchvision puts the stride on the
/// 3x3; a layout with `stride_on_first_1x1` puts it on the first 1x1, as the original paper did.
/// The layout's `groups` and `width_per_group` make it ResNeXt's or a Wide ResNet's block, as in
/// torchvision: the inner width is Width * width_per_group / 64 * groups, the 3x3 conv grouped. In
/// a dilated stage the 3x3 conv's taps are Dilation pixels apart (padding Dilation).
struct bottleneck {
  static constexpr int expansion = 4;
  static constexpr const char* family = "bottleneck";
  static constexpr const char* type_name = "Bottleneck";
  template <int Width, class Layout>
  static constexpr int inner_width = Width * Layout::width_per_group / 64 * Layout::groups;

  template <class In, int Width, int Stride, shortcut_kind Shortcut, class Layout, int Dilation = 1,
            class Reduce = conv_bn<In, inner_width<Width, Layout>, 1, Layout::stride_on_first_1x1 ? Stride : 1, 0>,
            class Spatial = conv_bn<typename Reduce::output, inner_width<Width, Layout>, 3,
                                    Layout::stride_on_first_1x1 ? 1 : Stride, Dilation, Layout::groups, Dilation,
                                    Layout::winograd>>
  struct unit : block_parts<bottleneck, Layout, detail::shortcut<Shortcut, In, Width * expansion, Stride>, Reduce,
                            Spatial, conv_bn<typename Spatial::output, Width * expansion, 1, 1, 0>> {
    static void forward(const float* state, image_buffers& b) {
      using parts = typename unit::block_parts;
      const auto& o = parts::offsets;
      float* const x = b.x;
      float* const t = b.spare[0];
      float* const projected = b.spare[1];
      // The last conv adds its outputs to the shortcut's (the block's input x, or the projection's
      // output) and writes them over it, each element where it read it: the lines it stores to are
      // those it has just read, so no store waits for a line, and three buffers serve the block.
      // The projection runs first, so that x is free for the 3x3 conv's output after the first conv.
      float* const sum = parts::shortcut::forward(state + o[3], x, projected, b.scratch);
      float* const spatial = sum == x ? projected : x;
      parts::template conv<0>::forward(state + o[0], x, nullptr, true, t, b.scratch);
      parts::template conv<1>::forward(state + o[1], t, nullptr, true, spatial, b.scratch);
      parts::template conv<2>::forward(state + o[2], spatial, sum, true, sum, b.scratch);
      b = image_buffers{sum, {t, spatial}, b.scratch};
    }
  };
};

}  // namespace ctresnet
