// Compile-time activation shapes and the arithmetic that derives one from another.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/detail/checks.hpp>

namespace ctresnet {

/// The shape of one image's activation, channels x height x width (batch is a run-time value).
template <int Channels, int Height, int Width>
struct shape {
  static_assert(detail::check_positive_shape<Channels, Height, Width>::value);
  static constexpr int channels = Channels;
  static constexpr int height = Height;
  static constexpr int width = Width;
  static constexpr index_t size = index_t{Channels} * Height * Width;
};

/// ImageNet's RGB 224x224: torchvision's default input.
using imagenet_input = shape<3, 224, 224>;
/// CIFAR-10's images.
using cifar_input = shape<3, 32, 32>;

/// Output length of a convolution or pooling window along one axis (PyTorch's floor formula).
constexpr int window_out(int in, int kernel, int stride, int padding, int dilation = 1) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

}  // namespace ctresnet
