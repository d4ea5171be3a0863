// How a quantized network's state is laid out, and what it tells the loader about itself.
//
// The state is one byte buffer: layer after layer in the order they run, each starting on a cache
// line with a header (its output's scale and zero point; a residual add's fixed-point parameters
// too), a conv's or fc's arrays after it, each on a cache line of its own: the int8 weights in the
// order this build's kernels read them (kernels::int8::packed_index: with vector tiles, panels of
// 16 outputs, in each groups of 4 consecutive weights of a window in (ky, kx, c) order; otherwise
// window after window), the int32 biases with the input's zero point folded in
// (kernels::int8::pack_layer), the float multipliers M. A state is thus made for the build that
// loads it.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/detail/cache_lines.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace ctresnet {

/// A uint8 tensor's quantization: the real value of q is (q - zero_point) * scale.
struct quantization {
  float scale;
  std::int32_t zero_point;
};

/// What kind of quantized layer an int8_layer_info describes.
enum class int8_layer_kind {
  input,   // QuantStub: the input's quantization ("quant")
  conv,    // a conv with its BatchNorm folded in (and its ReLU fused, where the layout has one)
  linear,  // the classifier
  add      // a block's residual sum and ReLU ("layerS.B.add")
};

/// One quantized layer as a model file names it (docs/int8.md), and where the network keeps it.
/// A conv's or linear's tensors are NAME.weight, .weight_scale, .weight_zero_point, .bias,
/// .bias_float, .requant_scale, .output_scale and .output_zero_point; an add's NAME.output_scale,
/// .output_zero_point, .multipliers and .shift; the input's NAME.output_scale and .output_zero_point.
struct int8_layer_info {
  int8_layer_kind kind;
  std::string name;      // "quant", "layer1.0.conv1", "layer1.0.add", "fc"
  std::string input;     // the layer whose output's quantization this one's input has (pools and
                         // option-A shortcuts pass it through); of an add, its main branch's
  std::string shortcut;  // of an add: the layer whose output's quantization its shortcut has
  index_t out_channels = 0, in_channels = 0, kernel = 0;  // of a conv's weight [O, I, k, k]; a linear's [O, I]
  std::size_t offset = 0;  // where its state starts, in bytes
  // Of a grouped conv, whose weight is then [O, I, k, k] with I = inputs / groups (after `offset`,
  // so that the layers without groups leave it out of their initializers).
  index_t groups = 1;
};
using int8_layer_visitor = visitor_ref<int8_layer_info>;

namespace detail::int8 {

/// `bytes` rounded up to whole cache lines.
constexpr std::size_t whole_cache_lines(std::size_t bytes) {
  return (bytes + cache_line_bytes - 1) / cache_line_bytes * cache_line_bytes;
}

/// The first bytes of every layer's state.
struct layer_header {
  float output_scale;
  std::int32_t output_zero_point;
  std::int32_t branch_multiplier, shortcut_multiplier, shift;  // of an add; 0 otherwise
};
static_assert(sizeof(layer_header) <= cache_line_bytes);

inline layer_header read_header(const std::byte* state) {
  layer_header h;
  std::memcpy(&h, state, sizeof h);
  return h;
}

/// Where a conv's (or fc's, with kernel 1) arrays lie in its state, in bytes from its start.
/// A grouped conv's weights are stored in blocks (conv_weight_layout, kernels::conv_geometry):
/// each output's window spans its block's inputs, with zeros for the other groups' channels.
struct weights_layout {
  index_t out_channels;
  index_t in_channels;  // the file's I: one group's inputs (all of them unless grouped)
  index_t kernel;
  index_t groups = 1;

  constexpr conv_weight_layout weight_layout() const { return {out_channels, in_channels * groups, kernel, groups}; }
  constexpr index_t block_outputs() const { return weight_layout().block_outputs(); }
  constexpr index_t block_inputs() const { return weight_layout().block_inputs(); }
  /// The stored window of one output: kernel x kernel x its block's inputs.
  constexpr index_t patch_length() const { return kernel * kernel * block_inputs(); }
  constexpr std::size_t weight_bytes() const { return static_cast<std::size_t>(out_channels * patch_length()); }
  /// Elements of the file's weight tensor, [O][I][kH][kW].
  constexpr std::size_t file_weights() const {
    return static_cast<std::size_t>(out_channels * in_channels * kernel * kernel);
  }
  static constexpr std::size_t weights_offset() { return cache_line_bytes; }
  constexpr std::size_t bias_offset() const { return weights_offset() + whole_cache_lines(weight_bytes()); }
  constexpr std::size_t multipliers_offset() const {
    return bias_offset() + whole_cache_lines(sizeof(std::int32_t) * static_cast<std::size_t>(out_channels));
  }
  constexpr std::size_t bytes() const {
    return multipliers_offset() + whole_cache_lines(sizeof(float) * static_cast<std::size_t>(out_channels));
  }
  /// Where PyTorch's weight[o][i][y][x] lies in the windows' (ky, kx, c) order, [O][kH][kW][I],
  /// before packing (c: i's place among the inputs of o's block).
  constexpr index_t index(index_t o, index_t i, index_t y, index_t x) const {
    const conv_weight_layout b = weight_layout();
    const index_t group = o / b.group_outputs();
    const index_t c = group % b.groups_per_block() * in_channels + i;
    return ((o * kernel + y) * kernel + x) * block_inputs() + c;
  }
};

/// A layer's state of one header only (the input's quantization, an add).
inline constexpr std::size_t header_bytes = cache_line_bytes;

}  // namespace detail::int8
}  // namespace ctresnet
