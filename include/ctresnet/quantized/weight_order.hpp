// The order in which a quantized state holds its int8 weights. It is the one fact of a state that
// depends on the build (kernels::int8::weights_in_panels): a state written on one machine for
// another (ctresnet-embed --int8-order) is written in the order of the build that will read it,
// and a state compiled into a program says which order it holds, so that a build whose kernels
// read another one refuses it at compile time (quantized/view.hpp).
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>
#include <ctresnet/quantized/state.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ctresnet {

/// How a conv's or fc's int8 weights lie in a state (kernels::int8::packed_index).
enum class int8_weight_order : std::uint8_t {
  rows = 1,    // window after window (output o's weights at o x length): the portable kernels'
  panels = 2,  // panels of 16 outputs, groups of 4 weights (kernels::int8::panel_index): the AVX2 and AVX-512 tiles'
};

/// The order this build's kernels read.
inline constexpr int8_weight_order build_int8_weight_order =
    kernels::int8::weights_in_panels ? int8_weight_order::panels : int8_weight_order::rows;

/// "rows" or "panels", as ctresnet-embed's --int8-order spells them.
constexpr const char* int8_weight_order_name(int8_weight_order order) {
  return order == int8_weight_order::panels ? "panels" : "rows";
}

namespace detail::int8 {

/// Where weight k of output o of a layer of `out_channels` x `length` lies in `order`.
constexpr index_t index_in_order(int8_weight_order order, index_t o, index_t k, index_t out_channels, index_t length) {
  return order == int8_weight_order::panels ? kernels::int8::panel_index(o, k, out_channels, length) : o * length + k;
}

/// Rewrites the weights of every conv and fc of a state (`layers` its network's, quantized_plan::
/// layers()) from order `from` to order `to`. Nothing else in a state depends on the order: the
/// biases' folded zero point is a sum over each output's weights.
inline void reorder_weights(const std::vector<int8_layer_info>& layers, std::byte* state, int8_weight_order from,
                            int8_weight_order to) {
  if (from == to) return;
  std::vector<std::int8_t> moved;
  for (const int8_layer_info& layer : layers) {
    if (layer.kind != int8_layer_kind::conv && layer.kind != int8_layer_kind::linear) continue;
    const weights_layout w{layer.out_channels, layer.in_channels, layer.kernel};
    auto* const weights = reinterpret_cast<std::int8_t*>(state + layer.offset + w.weights_offset());
    const index_t length = w.patch_length();
    moved.assign(w.weight_bytes(), 0);
    for (index_t o = 0; o < w.out_channels; ++o)
      for (index_t k = 0; k < length; ++k)
        moved[std::size_t(index_in_order(to, o, k, w.out_channels, length))] =
            weights[index_in_order(from, o, k, w.out_channels, length)];
    std::memcpy(weights, moved.data(), moved.size());
  }
}

}  // namespace detail::int8
}  // namespace ctresnet
