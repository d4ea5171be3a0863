// The geometry of one convolution at run time: its input's and output's sizes, window, stride,
// padding, groups and dilation. The float kernels and the int8 kernels both take it.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>
#include <ctresnet/describe.hpp>
#include <ctresnet/shape.hpp>

namespace ctresnet::kernels {

/// Geometry of one convolution, all sizes already checked at compile time. A grouped conv
/// (PyTorch's `groups`) is stored and run as conv_weight_layout says: its groups gathered into
/// blocks, each block a dense conv over its own range of input channels.
struct conv_geometry {
  int in_height, in_width, in_channels;  // in_channels: all of the input's, every group's
  int out_height, out_width, out_channels;
  int kernel, stride, padding;
  int groups = 1;
  int dilation = 1;  // taps `dilation` pixels apart

  constexpr bool is_pointwise() const { return kernel == 1 && stride == 1 && padding == 0; }
  constexpr conv_weight_layout weight_layout() const { return {out_channels, in_channels, kernel, groups}; }
  /// Outputs and input channels of a block: out_channels and in_channels unless grouped.
  constexpr index_t block_outputs() const { return weight_layout().block_outputs(); }
  constexpr index_t block_inputs() const { return weight_layout().block_inputs(); }
  /// Elements of one patch row: an output pixel's window over its block's inputs, kernel x kernel x
  /// block_inputs() in (ky, kx, c) order.
  constexpr index_t patch_length() const { return index_t{kernel} * kernel * block_inputs(); }
  constexpr index_t out_pixels() const { return index_t{out_height} * out_width; }
  /// The input row or column of tap k of output row or column `o`.
  constexpr int tap(int o, int k) const { return o * stride - padding + k * dilation; }
};

/// The geometry of a conv over a height x width image, its output's size following from the window
/// as in PyTorch (window_out).
constexpr conv_geometry conv_geometry_for(int height, int width, int in_channels, int out_channels, int kernel,
                                          int stride, int padding, int groups = 1, int dilation = 1) {
  return {height,
          width,
          in_channels,
          window_out(height, kernel, stride, padding, dilation),
          window_out(width, kernel, stride, padding, dilation),
          out_channels,
          kernel,
          stride,
          padding,
          groups,
          dilation};
}

}  // namespace ctresnet::kernels
