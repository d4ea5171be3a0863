// What a network tells about itself: its state-dict tensors and its layers, one record each.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

#include <array>
#include <string>
#include <type_traits>

namespace ctresnet {

/// What a state-dict tensor is for; it decides its initialisation and its storage order.
enum class tensor_role { conv_weight, norm_weight, norm_bias, norm_running_mean, norm_running_var, linear_weight, linear_bias };

/// Convolution weights are kept in panels of output channels, the order the GEMM kernel reads them
/// (see conv_weight_index); everything else in PyTorch's own element order.
constexpr bool stored_in_panels(tensor_role role) { return role == tensor_role::conv_weight; }

/// Output channels per weight panel: the largest power of two up to 32 that divides the count.
/// It depends on the layer only (not on the CPU), so a state buffer means the same everywhere.
constexpr index_t conv_panel_width(index_t out_channels) {
  index_t width = 32;
  while (out_channels % width != 0) width /= 2;
  return width;
}

/// Floats from one tap (y, x) of a conv's stored weights to the next, for the same output and
/// input channel: a panel row of w output channels for each input (conv_weight_index).
constexpr index_t conv_weight_tap_step(index_t out_channels, index_t in_channels) {
  return in_channels * conv_panel_width(out_channels);
}

/// Where PyTorch's weight[o][i][y][x] of a conv with `in_channels` inputs and a `kernel` x `kernel`
/// window is stored: [O / w][kH][kW][I][w]. Within a panel, a row of w output channels is contiguous
/// for each (y, x, i), in the order a channels-last patch row runs.
constexpr index_t conv_weight_index(index_t out_channels, index_t in_channels, index_t kernel, index_t o, index_t i,
                                    index_t y, index_t x) {
  const index_t width = conv_panel_width(out_channels), tap_step = conv_weight_tap_step(out_channels, in_channels);
  return (o / width) * kernel * kernel * tap_step + (y * kernel + x) * tap_step + i * width + o % width;
}

/// How a conv's weights are stored, grouped convs (PyTorch's `groups`) included. The groups are
/// gathered into blocks of at least 16 output channels where the group count allows, and each
/// block is stored as a dense conv in panels (conv_weight_index) whose weights between different
/// groups are zero: the kernels then run on whole vectors, at the cost of multiplying those zeros
/// (ResNeXt-50's 4-channel groups run in blocks of 4 groups). An ungrouped conv is one block.
struct conv_weight_layout {
  index_t out_channels, in_channels, kernel, groups;  // in_channels counts all groups' inputs

  static constexpr index_t min_block_channels = 16;

  constexpr index_t group_outputs() const { return out_channels / groups; }
  constexpr index_t group_inputs() const { return in_channels / groups; }
  constexpr index_t groups_per_block() const {
    for (index_t n = 1; n < groups; ++n)
      if (groups % n == 0 && n * group_outputs() >= min_block_channels) return n;
    return groups;
  }
  constexpr index_t blocks() const { return groups / groups_per_block(); }
  constexpr index_t block_outputs() const { return groups_per_block() * group_outputs(); }
  constexpr index_t block_inputs() const { return groups_per_block() * group_inputs(); }
  constexpr index_t block_floats() const { return block_outputs() * block_inputs() * kernel * kernel; }
  /// Floats the weights take in the state buffer.
  constexpr index_t stored_floats() const { return blocks() * block_floats(); }

  /// Where PyTorch's weight[o][i][y][x] is stored, `i` counting the inputs of o's group.
  constexpr index_t index(index_t o, index_t i, index_t y, index_t x) const {
    const index_t group = o / group_outputs(), block = group / groups_per_block();
    const index_t o_in_block = o - block * block_outputs();
    const index_t i_in_block = (group - block * groups_per_block()) * group_inputs() + i;
    return block * block_floats() + conv_weight_index(block_outputs(), block_inputs(), kernel, o_in_block, i_in_block, y, x);
  }
};

namespace detail {
/// "[64, 3, 7, 7]": extents as PyTorch prints a shape.
template <class Extent>
std::string shape_text(const Extent* extents, std::size_t rank) {
  std::string text = "[";
  for (std::size_t d = 0; d < rank; ++d) text += (d ? ", " : "") + std::to_string(extents[d]);
  return text + "]";
}
}  // namespace detail

/// One entry of the state dict: PyTorch's name and shape, and where ctresnet keeps it.
struct tensor_info {
  std::string name;
  tensor_role role;
  int rank;
  std::array<index_t, 4> shape;  // PyTorch's shape; the first `rank` entries count
  index_t offset;                // in floats, into the network's state buffer
  index_t groups = 1;            // of a conv weight, whose shape is then [O, I / groups, kH, kW]

  /// Of a conv weight: how it is stored.
  conv_weight_layout conv_layout() const { return {shape[0], shape[1] * groups, shape[2], groups}; }

  index_t elements() const {
    index_t n = 1;
    for (int i = 0; i < rank; ++i) n *= shape[static_cast<std::size_t>(i)];
    return n;
  }
  /// "[64, 3, 7, 7]"
  std::string shape_string() const { return detail::shape_text(shape.data(), static_cast<std::size_t>(rank)); }
};

/// Calls f(pytorch_index, stored_index) for every element of a conv weight, in PyTorch's order
/// ([O][I / groups][kH][kW]): what converts between PyTorch's layout and the stored panels. For
/// one output channel, stored indices are linear in (y, x, i) (conv_weight_index), so only the
/// first of each channel is computed in full.
template <class F>
void for_each_conv_weight(const tensor_info& t, F&& f) {
  const conv_weight_layout layout = t.conv_layout();
  const index_t outputs = t.shape[0], inputs = t.shape[1], kernel = t.shape[2];
  const index_t width = conv_panel_width(layout.block_outputs());
  const index_t tap_step = conv_weight_tap_step(layout.block_outputs(), layout.block_inputs());
  index_t pytorch_index = 0;
  for (index_t o = 0; o < outputs; ++o) {
    const index_t first = layout.index(o, 0, 0, 0);
    for (index_t i = 0; i < inputs; ++i)
      for (index_t tap = 0; tap < kernel * kernel; ++tap) f(pytorch_index++, first + tap * tap_step + i * width);
  }
}

/// One row of a network summary. Depth 1 is a stage (or the stem and head), 2 a block, 3 a layer.
struct layer_info {
  std::string name;
  std::string type;
  int depth;
  int channels, height, width;  // output shape of one image
  index_t params;
  index_t macs;
};

/// A non-owning reference to a callable taking `const T&`. Layer types take their visitor through
/// it, so each layer type's visiting code is compiled once, not once per caller's lambda.
template <class T>
class visitor_ref {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, visitor_ref>>>
  visitor_ref(F& f) : object_(&f), call_([](void* object, const T& value) { (*static_cast<F*>(object))(value); }) {}
  void operator()(const T& value) const { call_(object_, value); }

 private:
  void* object_;
  void (*call_)(void*, const T&);
};
using tensor_visitor = visitor_ref<tensor_info>;
using layer_visitor = visitor_ref<layer_info>;

}  // namespace ctresnet
