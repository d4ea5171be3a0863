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

/// Where PyTorch's weight[o][i][y][x] of a conv with `in_channels` inputs and a `kernel` x `kernel`
/// window is stored: [O / w][kH][kW][I][w]. Within a panel, a row of w output channels is contiguous
/// for each (y, x, i), in the order a channels-last patch row runs.
constexpr index_t conv_weight_index(index_t out_channels, index_t in_channels, index_t kernel, index_t o, index_t i,
                                    index_t y, index_t x) {
  const index_t width = conv_panel_width(out_channels);
  const index_t panel_length = kernel * kernel * in_channels * width;
  return (o / width) * panel_length + ((y * kernel + x) * in_channels + i) * width + o % width;
}

/// One entry of the state dict: PyTorch's name and shape, and where ctresnet keeps it.
struct tensor_info {
  std::string name;
  tensor_role role;
  int rank;
  std::array<index_t, 4> shape;  // PyTorch's shape; the first `rank` entries count
  index_t offset;                // in floats, into the network's state buffer

  index_t elements() const {
    index_t n = 1;
    for (int i = 0; i < rank; ++i) n *= shape[static_cast<std::size_t>(i)];
    return n;
  }
  /// "[64, 3, 7, 7]"
  std::string shape_string() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(shape[static_cast<std::size_t>(i)]);
    return s + "]";
  }
};

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
