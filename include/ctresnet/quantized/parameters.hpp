// The parameters PyTorch derives from the scales when a quantized op first runs: a conv's int32
// bias and float multipliers M, and a residual add's fixed-point multipliers and shift. A model
// file stores them (docs/int8.md); the loader recomputes them with these functions and refuses a
// file whose stored values differ, as tools/int8_reference.py does.
#pragma once
// IWYU pragma: private, include <ctresnet/quantized.hpp>

#include <ctresnet/quantized/kernels.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ctresnet::kernels::int8 {

/// quant_utils::QuantizeBias -> quantize_val<qint32>: the int32 bias a conv or fc starts from.
///   scale = (float)((double)weight_scale * (double)input_scale)     (the double product is exact)
///   bias  = clamp(nearbyint(bias_float * (1.0f / scale)), int32)     (float reciprocal and product)
inline std::int32_t quantized_bias(float bias_float, float weight_scale, float input_scale) {
  const auto scale = static_cast<float>(static_cast<double>(weight_scale) * static_cast<double>(input_scale));
  const float inverse = 1.0f / scale;
  const float r = std::nearbyint(bias_float * inverse);
  if (!(r >= -2147483648.0f)) return INT32_MIN;  // (NaN too: the loader refuses non-finite biases first)
  if (r >= 2147483648.0f) return INT32_MAX;
  return static_cast<std::int32_t>(r);
}

/// generate_requantization_scales: M = (weight_scale * input_scale) * (1.0f / output_scale), all float.
inline float requantization_scale(float weight_scale, float input_scale, float output_scale) {
  const float inverse_output_scale = 1.0f / output_scale;
  const float product = weight_scale * input_scale;
  return product * inverse_output_scale;
}

/// pytorch_qnnp_compute_add_quantization_params for quantized::add_relu.
struct add_multipliers {
  std::int32_t branch, shortcut;  // ma, mb: below 2^22
  int shift;                      // in [13, 31]
};

/// The least and the bound of qnnpack's input-to-output scale ratios: [2^-14, 2^8).
inline constexpr float add_ratio_min = 0x1p-14f, add_ratio_bound = 0x1p8f;

/// Whether qnnpack accepts an add whose input has scale `input_scale` and whose output `output_scale`.
inline bool add_ratio_valid(float input_scale, float output_scale) {
  const float ratio = input_scale / output_scale;
  return ratio >= add_ratio_min && ratio < add_ratio_bound;
}

/// ra = s_a / s_out, rb = s_b / s_out (float divisions); e = floor(log2(max(ra, rb))) from the
/// float's exponent bits; shift = 21 - e; ma = nearbyint(ra * 2^(21 - e)), mb likewise (exact
/// products, rounded half to even as lrintf does). Both ratios must be add_ratio_valid.
inline add_multipliers add_parameters_for(float branch_scale, float shortcut_scale, float output_scale) {
  const float ra = branch_scale / output_scale, rb = shortcut_scale / output_scale;
  const float larger = ra > rb ? ra : rb;
  std::uint32_t bits;
  std::memcpy(&bits, &larger, sizeof bits);
  const int exponent = static_cast<int>(bits >> 23) - 127;
  const float scale = std::ldexp(1.0f, 21 - exponent);
  return {static_cast<std::int32_t>(std::nearbyint(ra * scale)), static_cast<std::int32_t>(std::nearbyint(rb * scale)),
          21 - exponent};
}

}  // namespace ctresnet::kernels::int8
