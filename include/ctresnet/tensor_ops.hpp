// Run-time arithmetic on one image in channels-last (HWC) order. Sizes are run-time arguments on
// purpose: the compiler instantiates each kernel once, however many layer shapes a network has,
// which keeps deep networks cheap to compile. The layer types pass their compile-time sizes in.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/config.hpp>

// g++ 12 warns of an uninitialised variable inside its own AVX-512 intrinsics once Eigen's GEMM
// kernel is inlined here (GCC bug 105593); the warning cannot be silenced at the system header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <unsupported/Eigen/CXX11/Tensor>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ctresnet::ops {

/// Geometry of one convolution, all sizes already checked at compile time.
struct conv_geometry {
  int in_height, in_width, in_channels;
  int out_height, out_width, out_channels;
  int kernel, stride, padding;

  constexpr bool is_pointwise() const { return kernel == 1 && stride == 1 && padding == 0; }
  constexpr index_t patch_length() const { return index_t{kernel} * kernel * in_channels; }
  constexpr index_t out_pixels() const { return index_t{out_height} * out_width; }
};

/// c[m,n] = a[m,k] * b[k,n], all row-major, through Eigen's tensor contraction.
CTRESNET_KERNEL void matmul(const float* a, const float* b, float* c, index_t m, index_t k, index_t n) {
  using const_matrix = Eigen::TensorMap<const Eigen::Tensor<float, 2, Eigen::RowMajor>>;
  using matrix = Eigen::TensorMap<Eigen::Tensor<float, 2, Eigen::RowMajor>>;
  const Eigen::array<Eigen::IndexPair<Eigen::Index>, 1> inner{Eigen::IndexPair<Eigen::Index>(1, 0)};
  matrix(c, m, n) = const_matrix(a, m, k).contract(const_matrix(b, k, n), inner);
}

/// Rows of the patch matrix: for each output pixel, its kernel window in (row, column, channel)
/// order, zeros where the window hangs over the padding.
CTRESNET_KERNEL void im2col(const conv_geometry& g, const float* image, float* patches) {
  const index_t channels = g.in_channels;
  float* row = patches;
  for (int oy = 0; oy < g.out_height; ++oy) {
    for (int ox = 0; ox < g.out_width; ++ox) {
      for (int ky = 0; ky < g.kernel; ++ky) {
        const int iy = oy * g.stride - g.padding + ky;
        for (int kx = 0; kx < g.kernel; ++kx, row += channels) {
          const int ix = ox * g.stride - g.padding + kx;
          if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width) {
            std::fill(row, row + channels, 0.0f);
          } else {
            const float* pixel = image + (index_t{iy} * g.in_width + ix) * channels;
            std::copy(pixel, pixel + channels, row);
          }
        }
      }
    }
  }
}

/// Eval-mode BatchNorm as a per-channel scale and shift:
/// (x - mean) / sqrt(var + eps) * weight + bias == x * scale + shift.
/// `batch_norm` holds weight, bias, running_mean, running_var, `channels` floats each.
inline void fold_batch_norm(const float* batch_norm, int channels, float* scale, float* shift) {
  const float* weight = batch_norm;
  const float* bias = batch_norm + channels;
  const float* mean = batch_norm + 2 * index_t{channels};
  const float* var = batch_norm + 3 * index_t{channels};
  for (int c = 0; c < channels; ++c) {
    scale[c] = weight[c] / std::sqrt(var[c] + batch_norm_eps);
    shift[c] = bias[c] - mean[c] * scale[c];
  }
}

/// What follows a convolution in a ResNet: BatchNorm, optionally the residual sum, optionally ReLU.
struct conv_epilogue {
  const float* batch_norm;
  const float* residual;  // same shape as the output, or nullptr
  bool relu;
};

/// Scratch memory a convolution may use: the patch matrix and two per-channel vectors.
struct conv_scratch {
  float* patches;
  float* scale;
  float* shift;
};

/// out = epilogue(conv(in, weights)), with `weights` in HWIO order.
CTRESNET_KERNEL void conv2d(const conv_geometry& g, const float* in, const float* weights, const conv_epilogue& epilogue,
                   float* out, const conv_scratch& scratch) {
  const float* lhs = in;
  if (!g.is_pointwise()) {
    im2col(g, in, scratch.patches);
    lhs = scratch.patches;
  }
  matmul(lhs, weights, out, g.out_pixels(), g.patch_length(), g.out_channels);

  fold_batch_norm(epilogue.batch_norm, g.out_channels, scratch.scale, scratch.shift);
  const index_t channels = g.out_channels;
  for (index_t p = 0; p < g.out_pixels(); ++p) {
    float* y = out + p * channels;
    const float* r = epilogue.residual ? epilogue.residual + p * channels : nullptr;
    for (index_t c = 0; c < channels; ++c) {
      float v = y[c] * scratch.scale[c] + scratch.shift[c];
      if (r) v += r[c];
      y[c] = epilogue.relu ? std::max(v, 0.0f) : v;
    }
  }
}

/// MaxPool2d on an HWC image; padding never wins, as in PyTorch.
CTRESNET_KERNEL void max_pool(const float* in, int height, int width, int channels, int kernel, int stride, int padding,
                     int out_height, int out_width, float* out) {
  for (int oy = 0; oy < out_height; ++oy) {
    for (int ox = 0; ox < out_width; ++ox) {
      float* y = out + (index_t{oy} * out_width + ox) * channels;
      std::fill(y, y + channels, -std::numeric_limits<float>::infinity());
      for (int ky = 0; ky < kernel; ++ky) {
        const int iy = oy * stride - padding + ky;
        if (iy < 0 || iy >= height) continue;
        for (int kx = 0; kx < kernel; ++kx) {
          const int ix = ox * stride - padding + kx;
          if (ix < 0 || ix >= width) continue;
          const float* x = in + (index_t{iy} * width + ix) * channels;
          for (int c = 0; c < channels; ++c) y[c] = std::max(y[c], x[c]);
        }
      }
    }
  }
}

/// AvgPool2d (no padding) on an HWC image, written in CHW order: the order PyTorch's flatten
/// feeds the classifier in. A window as large as the image is AdaptiveAvgPool2d(1).
CTRESNET_KERNEL void avg_pool_to_chw(const float* in, int width, int channels, int kernel_height, int kernel_width,
                            int stride, int out_height, int out_width, float* out) {
  const float area = static_cast<float>(kernel_height * kernel_width);
  const index_t out_area = index_t{out_height} * out_width;
  for (int oy = 0; oy < out_height; ++oy) {
    for (int ox = 0; ox < out_width; ++ox) {
      for (int c = 0; c < channels; ++c) {
        float sum = 0.0f;
        for (int ky = 0; ky < kernel_height; ++ky)
          for (int kx = 0; kx < kernel_width; ++kx)
            sum += in[((index_t{oy} * stride + ky) * width + (index_t{ox} * stride + kx)) * channels + c];
        out[c * out_area + index_t{oy} * out_width + ox] = sum / area;
      }
    }
  }
}

/// y[out] = weight[out, in] * x[in] + bias[out]
CTRESNET_KERNEL void linear(const float* x, const float* weight, const float* bias, int in_features, int out_features,
                   float* y) {
  using const_matrix = Eigen::TensorMap<const Eigen::Tensor<float, 2, Eigen::RowMajor>>;
  using const_vector = Eigen::TensorMap<const Eigen::Tensor<float, 1, Eigen::RowMajor>>;
  using vector = Eigen::TensorMap<Eigen::Tensor<float, 1, Eigen::RowMajor>>;
  const Eigen::array<Eigen::IndexPair<Eigen::Index>, 1> inner{Eigen::IndexPair<Eigen::Index>(1, 0)};
  vector(y, out_features) = const_matrix(weight, out_features, in_features).contract(const_vector(x, in_features), inner) +
                            const_vector(bias, out_features);
}

/// One CHW image (PyTorch's order) to HWC.
CTRESNET_KERNEL void chw_to_hwc(const float* in, int channels, int height, int width, float* out) {
  const index_t area = index_t{height} * width;
  for (int c = 0; c < channels; ++c)
    for (index_t p = 0; p < area; ++p) out[p * channels + c] = in[c * area + p];
}

}  // namespace ctresnet::ops

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
