// Initialisation of a network that was not loaded, as torchvision does it.
// The generator is ours (not <random>'s distributions) so that a seed gives the same network with
// every standard library.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/describe.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ctresnet {

/// SplitMix64: small, fast, and the same sequence everywhere.
class random_generator {
 public:
  explicit random_generator(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  /// Standard normal, by the Box-Muller transform.
  double normal() {
    const double u1 = 1.0 - uniform();  // in (0, 1], so the log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

/// Fills state-dict tensors as PyTorch initialises them: Kaiming normal (fan_out, ReLU gain) for
/// convs; BatchNorm weight 1, bias 0, running mean 0, running variance 1; Linear weight and bias
/// uniform in +-1/sqrt(in_features), which is what PyTorch's default Linear init amounts to.
/// Call it on tensors in state-dict order: a Linear bias takes in_features from the weight before it.
class pytorch_initializer {
 public:
  explicit pytorch_initializer(std::uint64_t seed) : generator_(seed) {}

  void operator()(const tensor_info& t, float* state) {
    float* data = state + t.offset;
    const index_t n = t.elements();
    switch (t.role) {
      case tensor_role::conv_weight: {
        const double fan_out = static_cast<double>(t.shape[0] * t.shape[2] * t.shape[3]);
        if (t.groups == 1) {
          fill_normal(data, n, std::sqrt(2.0 / fan_out));
        } else {  // only the weights within a group; those between groups stay zero
          for_each_conv_weight(t, [&](index_t, index_t stored) {
            data[stored] = static_cast<float>(std::sqrt(2.0 / fan_out) * generator_.normal());
          });
        }
        break;
      }
      case tensor_role::norm_weight:
      case tensor_role::norm_running_var:
        std::fill(data, data + n, 1.0f);
        break;
      case tensor_role::norm_bias:
      case tensor_role::norm_running_mean:
        std::fill(data, data + n, 0.0f);
        break;
      case tensor_role::linear_weight:
        linear_in_features_ = t.shape[1];
        fill_uniform(data, n, 1.0 / std::sqrt(static_cast<double>(linear_in_features_)));
        break;
      case tensor_role::linear_bias:
        fill_uniform(data, n, 1.0 / std::sqrt(static_cast<double>(linear_in_features_)));
        break;
    }
  }

 private:
  void fill_normal(float* data, index_t n, double stddev) {
    for (index_t i = 0; i < n; ++i) data[i] = static_cast<float>(stddev * generator_.normal());
  }
  void fill_uniform(float* data, index_t n, double bound) {
    for (index_t i = 0; i < n; ++i) data[i] = static_cast<float>(generator_.uniform(-bound, bound));
  }

  random_generator generator_;
  index_t linear_in_features_ = 1;
};

}  // namespace ctresnet
