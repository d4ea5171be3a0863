// The int8 twins of a float network's parts: for each conv_bn, block unit, stage, stem and head of
// the float plan, a type that knows its state's size and layout, runs one image on uint8
// activations, and names its layers as the model file does. Every shape and name comes from the
// float types; nothing here derives a shape again.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/blocks.hpp>
#include <ctresnet/detail/checks.hpp>
#include <ctresnet/detail/meta.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/network/parts.hpp>
#include <ctresnet/quantized/conv.hpp>
#include <ctresnet/quantized/kernels.hpp>
#include <ctresnet/quantized/state.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

namespace ctresnet::detail::int8 {

/// One image's workspace while it passes through the network: the current activation `x` (HWC)
/// and its quantization, three spare activation buffers, and the conv kernels' scratch and
/// threads. A part leaves its output in `x` and hands the other buffers back as spares.
struct image_buffers {
  std::uint8_t* x;
  quantization q;
  std::uint8_t* spare[3];
  kernels::int8::workers work;
};

/// Where each part's state starts when the parts lie one after another, and last the total.
template <class... Parts>
constexpr std::array<std::size_t, sizeof...(Parts) + 1> byte_offsets() {
  std::array<std::size_t, sizeof...(Parts) + 1> offsets{};
  const std::size_t sizes[] = {Parts::state_bytes..., 0};
  for (std::size_t i = 1; i < offsets.size(); ++i) offsets[i] = offsets[i - 1] + sizes[i - 1];
  return offsets;
}

inline kernels::int8::layer_weights weights_at(const std::byte* state, const weights_layout& w) {
  return {reinterpret_cast<const std::int8_t*>(state + w.weights_offset()),
          reinterpret_cast<const std::int32_t*>(state + w.bias_offset()),
          reinterpret_cast<const float*>(state + w.multipliers_offset())};
}

/// QuantStub: the input's scale and zero point, a header alone.
struct input_layer {
  static constexpr std::size_t state_bytes = header_bytes;
  static std::string visit(int8_layer_visitor visit, std::size_t offset) {
    visit(int8_layer_info{int8_layer_kind::input, "quant", "", "", 0, 0, 0, offset});
    return "quant";
  }
};

/// A residual add: a header with its output's quantization and its fixed-point parameters.
struct add_layer {
  static constexpr std::size_t state_bytes = header_bytes;
};

/// The int8 twin of a conv_bn: the conv with its BatchNorm folded in, and ReLU where asked.
template <class ConvBn>
struct conv_of {
  using float_conv = typename ConvBn::conv;
  using input = typename ConvBn::input;
  using output = typename ConvBn::output;
  static constexpr weights_layout weights{float_conv::out_channels, float_conv::in_channels / float_conv::groups,
                                          float_conv::kernel, float_conv::groups};
  static constexpr kernels::conv_geometry shape{input::height,      input::width,       input::channels,
                                                output::height,     output::width,      output::channels,
                                                float_conv::kernel, float_conv::stride, float_conv::padding,
                                                float_conv::groups, float_conv::dilation};
  static constexpr index_t patch_length = weights.patch_length();
  static_assert(check_int8_accumulator<patch_length>::value);
  /// The conv kernels' scratch it needs on `threads` threads, in bytes: at least twice its window
  /// (see quantized_plan).
  static constexpr index_t scratch_for(int threads) {
    return max_of(2 * patch_length, kernels::int8::conv_scratch_bytes(shape, threads));
  }
  static constexpr std::size_t state_bytes = weights.bytes();

  /// `in` (HWC, quantized as `q`) to `out`; returns out's quantization.
  static quantization forward(const std::byte* state, const std::uint8_t* in, quantization q, bool relu,
                              std::uint8_t* out, const kernels::int8::workers& work) {
    const layer_header h = read_header(state);
    kernels::int8::conv(shape, in, q.zero_point, weights_at(state, weights), h.output_zero_point, relu, out, work);
    return {h.output_scale, h.output_zero_point};
  }
  /// Names the conv `name`, reading the output of `input`; returns its own name.
  static std::string visit(int8_layer_visitor visit, const std::string& name, const std::string& input,
                           std::size_t offset) {
    visit(int8_layer_info{int8_layer_kind::conv, name, input, "", weights.out_channels, weights.in_channels,
                          weights.kernel, offset, weights.groups});
    return name;
  }
};

/// The int8 twin of a block's shortcut. forward returns where the shortcut's values are and sets
/// `q` to their quantization (on entry, the block input's); visit returns the name of the layer
/// whose output's quantization they have.
template <class Shortcut>
struct shortcut_of;

template <class In, int OutChannels, int Stride>
struct shortcut_of<shortcut<shortcut_kind::identity, In, OutChannels, Stride>> {
  static constexpr std::size_t state_bytes = 0;
  static constexpr index_t patch_length = 0;
  static constexpr index_t scratch_for(int) { return 0; }
  static const std::uint8_t* forward(const std::byte*, const std::uint8_t* in, quantization&, std::uint8_t*,
                                     const kernels::int8::workers&) {
    return in;
  }
  template <class Layout>
  static std::string visit(int8_layer_visitor, const std::string&, const std::string& input, std::size_t) {
    return input;
  }
};

template <class In, int OutChannels, int Stride>
struct shortcut_of<shortcut<shortcut_kind::projection, In, OutChannels, Stride>> {
  using projection = conv_of<typename shortcut<shortcut_kind::projection, In, OutChannels, Stride>::projection>;
  static constexpr std::size_t state_bytes = projection::state_bytes;
  static constexpr index_t patch_length = projection::patch_length;
  static constexpr index_t scratch_for(int threads) { return projection::scratch_for(threads); }
  static const std::uint8_t* forward(const std::byte* state, const std::uint8_t* in, quantization& q,
                                     std::uint8_t* out, const kernels::int8::workers& work) {
    q = projection::forward(state, in, q, false, out, work);
    return out;
  }
  template <class Layout>
  static std::string visit(int8_layer_visitor visit, const std::string& prefix, const std::string& input,
                           std::size_t offset) {
    return projection::visit(visit, prefix + Layout::downsample_conv_name(), input, offset);
  }
};

/// Option A on uint8: the new channels hold the zero point, i.e. exactly 0.0.
template <class In, int OutChannels, int Stride>
struct shortcut_of<shortcut<shortcut_kind::zero_padded, In, OutChannels, Stride>> {
  using float_shortcut = shortcut<shortcut_kind::zero_padded, In, OutChannels, Stride>;
  using output = typename float_shortcut::output;
  static constexpr std::size_t state_bytes = 0;
  static constexpr index_t patch_length = 0;
  static constexpr index_t scratch_for(int) { return 0; }
  static const std::uint8_t* forward(const std::byte*, const std::uint8_t* in, quantization& q, std::uint8_t* out,
                                     const kernels::int8::workers&) {
    kernels::int8::subsample_and_pad(in, In::width, In::channels, Stride, output::height, output::width, OutChannels,
                                     float_shortcut::channels_before, static_cast<std::uint8_t>(q.zero_point), out);
    return out;
  }
  template <class Layout>
  static std::string visit(int8_layer_visitor, const std::string&, const std::string& input, std::size_t) {
    return input;
  }
};

/// The int8 twin of a block unit (block_parts<Kind, Layout, Shortcut, Convs...>): its convs in
/// order, ReLU after each but the last, then the shortcut and the residual add with ReLU. State:
/// the convs', the shortcut's, the add's header.
template <class Kind, class Layout, class Shortcut, class... Convs>
struct block_parts_of {
  static constexpr std::size_t count = sizeof...(Convs);
  template <std::size_t I>
  using conv = conv_of<std::tuple_element_t<I, std::tuple<Convs...>>>;
  using shortcut = shortcut_of<Shortcut>;
  using output = typename conv<count - 1>::output;

  /// The convs', the shortcut's and the add's offsets, and last the total.
  static constexpr auto offsets = byte_offsets<conv_of<Convs>..., shortcut, add_layer>();
  static constexpr std::size_t add_offset = offsets[count + 1];
  static constexpr std::size_t state_bytes = offsets[count + 2];
  static constexpr index_t patch_length = max_of(conv_of<Convs>::patch_length..., shortcut::patch_length);
  static constexpr index_t scratch_for(int threads) {
    return max_of(conv_of<Convs>::scratch_for(threads)..., shortcut::scratch_for(threads));
  }

  static void forward(const std::byte* state, image_buffers& b) {
    std::uint8_t* const x = b.x;
    std::uint8_t* const t[2] = {b.spare[0], b.spare[1]};
    quantization q = b.q;
    const std::uint8_t* in = x;
    // spare[2] takes the shortcut's values only after the convs: until then the convs may use it.
    const kernels::int8::workers conv_work{b.work.scratch, b.work.pool, b.spare[2], b.work.spare_bytes};
    forward_convs(state, in, q, t, conv_work, std::make_index_sequence<count>{});
    std::uint8_t* const out = t[(count - 1) % 2];

    quantization shortcut_q = b.q;
    const std::uint8_t* s = shortcut::forward(state + offsets[count], x, shortcut_q, b.spare[2], b.work);
    const layer_header h = read_header(state + add_offset);
    const kernels::int8::add_parameters add{q.zero_point,          shortcut_q.zero_point, h.branch_multiplier,
                                            h.shortcut_multiplier, h.shift,               h.output_zero_point};
    kernels::int8::add_relu(out, s, output::size, add, out, b.work.pool);
    b = image_buffers{out, {h.output_scale, h.output_zero_point}, {x, t[count % 2], b.spare[2]}, b.work};
  }

  /// Names the block's layers under `prefix` ("layer1.0."), its input the output of `input`;
  /// returns the name of its add, whose output is the block's.
  static std::string visit(int8_layer_visitor visit, const std::string& prefix, const std::string& input,
                           std::size_t offset) {
    std::string branch = input;
    int i = 0;
    ((branch = conv_of<Convs>::visit(visit, prefix + Layout::block_conv_name(Kind::family, i), branch,
                                     offset + offsets[std::size_t(i)]),
      ++i),
     ...);
    const std::string side = shortcut::template visit<Layout>(visit, prefix, input, offset + offsets[count]);
    visit(int8_layer_info{int8_layer_kind::add, prefix + "add", branch, side, 0, 0, 0, offset + add_offset});
    return prefix + "add";
  }

 private:
  /// Conv I reads the previous one's output and writes t[I % 2].
  template <std::size_t... I>
  static void forward_convs(const std::byte* state, const std::uint8_t*& in, quantization& q,
                            std::uint8_t* const (&t)[2], const kernels::int8::workers& work,
                            std::index_sequence<I...>) {
    ((q = conv<I>::forward(state + offsets[I], in, q, I + 1 < count, t[I % 2], work), in = t[I % 2]), ...);
  }
};

template <class Kind, class Layout, class Shortcut, class... Convs>
block_parts_of<Kind, Layout, Shortcut, Convs...> block_parts_type(const block_parts<Kind, Layout, Shortcut, Convs...>*);
/// The int8 twin of a block unit (basic_block::unit, bottleneck::unit), found through its block_parts base.
template <class Unit>
using block_of = decltype(block_parts_type(static_cast<const Unit*>(nullptr)));

/// The int8 twin of the stem: its conv with ReLU, then (ImageNet layouts) the max pool.
template <class Stem>
struct stem_of;
template <class In, class Layout>
struct stem_of<stem<In, Layout>> {
  using float_stem = stem<In, Layout>;
  using conv = conv_of<typename float_stem::conv>;
  using pool = typename float_stem::pool;
  using output = typename float_stem::output;
  static constexpr std::size_t state_bytes = conv::state_bytes;
  static constexpr index_t patch_length = conv::patch_length;
  static constexpr index_t scratch_for(int threads) { return conv::scratch_for(threads); }

  /// The quantized image in b.x through the stem, into b.x.
  static void forward(const std::byte* state, image_buffers& b) {
    using c = typename conv::output;
    std::uint8_t* const image = b.x;
    const quantization q = conv::forward(state, image, b.q, true, b.spare[0], b.work);
    if constexpr (float_stem::pooled) {
      kernels::int8::max_pool(b.spare[0], c::height, c::width, c::channels, pool::kernel, pool::stride, pool::padding,
                              output::height, output::width, image, b.work.pool);
    } else {
      b.x = b.spare[0];
      b.spare[0] = image;
    }
    b.q = q;  // the pool keeps its input's quantization
  }
  static std::string visit(int8_layer_visitor visit, const std::string& input, std::size_t offset) {
    return conv::visit(visit, Layout::stem_conv_name(), input, offset);
  }
};

/// The int8 twin of a stage: its first block, then Blocks - 1 blocks of one type, run in a loop.
template <class Stage>
struct stage_of;
template <class Kind, class In, int Index, int Blocks, class Layout, int Dilation>
struct stage_of<stage<Kind, In, Index, Blocks, Layout, Dilation>> {
  using float_stage = stage<Kind, In, Index, Blocks, Layout, Dilation>;
  using first = block_of<typename float_stage::first>;
  using repeated = block_of<typename float_stage::repeated>;
  using output = typename float_stage::output;
  static constexpr std::size_t state_bytes = first::state_bytes + (Blocks - 1) * repeated::state_bytes;
  static constexpr index_t patch_length = max_of(first::patch_length, repeated::patch_length);
  static constexpr index_t scratch_for(int threads) {
    return max_of(first::scratch_for(threads), repeated::scratch_for(threads));
  }

  static constexpr std::size_t block_offset(int block) {
    return block == 0 ? 0 : first::state_bytes + std::size_t(block - 1) * repeated::state_bytes;
  }
  /// Where the header of the stage's last add lies: its output's quantization is the stage's.
  static constexpr std::size_t output_header_offset =
      Blocks == 1 ? first::add_offset : block_offset(Blocks - 1) + repeated::add_offset;

  static void forward(const std::byte* state, image_buffers& b) {
    first::forward(state, b);
    for (int i = 1; i < Blocks; ++i) repeated::forward(state + block_offset(i), b);
  }
  static std::string visit(int8_layer_visitor visit, std::string input, std::size_t offset) {
    for (int i = 0; i < Blocks; ++i) {
      const std::string prefix = Layout::stage_name(Index) + "." + std::to_string(i) + ".";
      input = i == 0 ? first::visit(visit, prefix, input, offset)
                     : repeated::visit(visit, prefix, input, offset + block_offset(i));
    }
    return input;
  }
};

/// The int8 twin of the classifier head: the average pool (on uint8, keeping the quantization),
/// then fc to uint8 logits.
template <class Head>
struct head_of;
template <class In, int Classes, class Layout>
struct head_of<classifier_head<In, Classes, Layout>> {
  using float_head = classifier_head<In, Classes, Layout>;
  using pooled = typename float_head::pooled;
  using fc = typename float_head::fc;
  static constexpr weights_layout weights{fc::out_features, fc::in_features, 1};
  static constexpr std::size_t state_bytes = weights.bytes();
  static constexpr index_t patch_length = fc::in_features;
  static constexpr index_t scratch_for(int) { return 2 * patch_length; }

  /// The last stage's output in b.x to `logits` (Classes uint8 values); returns their quantization.
  static quantization forward(const std::byte* state, const image_buffers& b, std::uint8_t* logits) {
    std::uint8_t* const features = b.spare[0];
    kernels::int8::avg_pool_to_chw(b.x, In::width, In::channels, float_head::kernel_height, float_head::kernel_width,
                                   1, pooled::height, pooled::width, b.q.zero_point, features);
    const layer_header h = read_header(state);
    kernels::int8::linear(features, fc::in_features, fc::out_features, weights_at(state, weights), h.output_zero_point,
                          logits, b.work.pool);
    return {h.output_scale, h.output_zero_point};
  }
  static std::string visit(int8_layer_visitor visit, const std::string& input, std::size_t offset) {
    visit(int8_layer_info{int8_layer_kind::linear, Layout::classifier_name(), input, "", weights.out_channels,
                          weights.in_channels, 1, offset});
    return Layout::classifier_name();
  }
};

/// A backbone's end: its last stage's map is the output, so there is no layer and no state.
template <class In>
struct head_of<feature_output<In>> {
  static constexpr std::size_t state_bytes = 0;
  static constexpr index_t patch_length = 0;
  static constexpr index_t scratch_for(int) { return 0; }
  static std::string visit(int8_layer_visitor, const std::string& input, std::size_t) { return input; }
};

}  // namespace ctresnet::detail::int8
