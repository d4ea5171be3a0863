// How a quantized state holds its int8 weights: their order and the activation offset folded into
// the biases (kernels::int8::weight_packing). It is the one fact of a state that depends on the
// build: a state written on one machine for another (ctresnet-embed --int8-order) is written as
// the build that will read it packs, and a state compiled into a program says how it is packed,
// so that a build whose kernels read another packing refuses it at compile time
// (quantized/view.hpp).
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>
#include <ctresnet/quantized/state.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ctresnet {

/// How a conv's or fc's int8 weights lie in a state, and what its biases hold:
/// `rows` (window after window: the portable kernels'), `panels` (panels of 16 outputs, groups of
/// 4 weights: the AVX2, AVX-512 VNNI and aarch64 NEON tiles') or `panels_sdot` (the same panels,
/// with 128 x the sum of each output's weights folded into its bias: aarch64's sdot tile).
using int8_weight_order = kernels::int8::weight_packing;

/// The packing this build's kernels read.
inline constexpr int8_weight_order build_int8_weight_order = kernels::int8::build_weight_packing;

/// Its name in C++ and in ctresnet-embed's --int8-order: "rows", "panels" or "panels_sdot".
constexpr const char* int8_weight_order_name(int8_weight_order order) {
  return order == int8_weight_order::panels        ? "panels"
         : order == int8_weight_order::panels_sdot ? "panels_sdot"
                                                   : "rows";
}

namespace detail::int8 {

/// Where weight k of output o of a layer of `out_channels` x `length` (stored in blocks of
/// `block_outputs` outputs) lies in `order`.
constexpr index_t index_in_order(int8_weight_order order, index_t o, index_t k, index_t out_channels, index_t length,
                                 index_t block_outputs) {
  return kernels::int8::blocked_index(order != int8_weight_order::rows, o, k, out_channels, length, block_outputs);
}

/// Rewrites every conv and fc of a state (`layers` its network's, quantized_plan::layers()) from
/// packing `from` to packing `to`: the weights' order, and the activation offset in the biases
/// (kernels::int8::fold_bias moves a bias by (offset_to - offset_from) x the sum of its weights).
inline void reorder_weights(const std::vector<int8_layer_info>& layers, std::byte* state, int8_weight_order from,
                            int8_weight_order to) {
  if (from == to) return;
  const std::int32_t offset_change =
      kernels::int8::activation_offset_of(to) - kernels::int8::activation_offset_of(from);
  std::vector<std::int8_t> moved;
  for (const int8_layer_info& layer : layers) {
    if (layer.kind != int8_layer_kind::conv && layer.kind != int8_layer_kind::linear) continue;
    const weights_layout w{layer.out_channels, layer.in_channels, layer.kernel, layer.groups};
    auto* const weights = reinterpret_cast<std::int8_t*>(state + layer.offset + w.weights_offset());
    std::byte* const biases = state + layer.offset + w.bias_offset();
    const index_t length = w.patch_length();
    moved.assign(w.weight_bytes(), 0);
    for (index_t o = 0; o < w.out_channels; ++o) {
      std::uint32_t sum = 0;
      for (index_t k = 0; k < length; ++k) {
        const std::int8_t weight = weights[index_in_order(from, o, k, w.out_channels, length, w.block_outputs())];
        moved[std::size_t(index_in_order(to, o, k, w.out_channels, length, w.block_outputs()))] = weight;
        sum += static_cast<std::uint32_t>(std::int32_t{weight});
      }
      std::int32_t bias;
      std::memcpy(&bias, biases + sizeof bias * std::size_t(o), sizeof bias);
      // fold_bias adds (offset - zero point) x sum; a zero point of 0 makes it add offset_change x sum.
      bias = kernels::int8::fold_bias(bias, 0, static_cast<std::int32_t>(sum), offset_change);
      std::memcpy(biases + sizeof bias * std::size_t(o), &bias, sizeof bias);
    }
    std::memcpy(weights, moved.data(), moved.size());
  }
}

}  // namespace detail::int8
}  // namespace ctresnet
