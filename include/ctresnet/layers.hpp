// Layer types: each knows its parameters and, for a given input shape, its output shape and
// multiply-adds. Pure compile-time facts; the arithmetic lives in kernels/.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/describe.hpp>
#include <ctresnet/shape.hpp>

namespace ctresnet {

/// A bias-free 2-D convolution, as every ResNet convolution is (BatchNorm supplies the shift),
/// optionally grouped: each of `Groups` groups of output channels sees only its own group of
/// inputs (ResNeXt). Weights are stored in panels of output channels (conv_weight_layout in
/// describe.hpp), the order the GEMM kernel reads them; loading and saving permute from and to
/// PyTorch's OIHW.
template <int InChannels, int OutChannels, int Kernel, int Stride = 1, int Padding = Kernel / 2, int Groups = 1,
          int Dilation = 1>
struct conv2d {
  static_assert(detail::check_positive_channels<InChannels>::value &&
                detail::check_positive_channels<OutChannels>::value);
  static_assert(detail::check_window_params<Kernel, Stride, Padding>::value);
  static_assert(detail::check_dilation<Dilation>::value);
  static_assert(detail::check_groups<InChannels, OutChannels, Groups>::value);

  static constexpr int in_channels = InChannels;
  static constexpr int out_channels = OutChannels;
  static constexpr int kernel = Kernel;
  static constexpr int stride = Stride;
  static constexpr int padding = Padding;
  static constexpr int dilation = Dilation > 0 ? Dilation : 1;  // taps Dilation pixels apart
  // 1 once the check above failed, so that its message is the only error.
  static constexpr int groups =
      Groups > 0 && InChannels % Groups == 0 && OutChannels % Groups == 0 ? Groups : 1;
  static constexpr index_t num_params = index_t{OutChannels} * (InChannels / groups) * Kernel * Kernel;
  static constexpr conv_weight_layout weight_layout{OutChannels, InChannels, Kernel, groups};
  /// Floats of the stored weights: num_params and, for a grouped conv, the zeros between groups.
  static constexpr index_t stored_floats = weight_layout.stored_floats();

  template <class In>
  struct output {
    static_assert(detail::check_in_channels<InChannels, In::channels>::value);
    static_assert(detail::check_kernel_fits<In::height + 2 * Padding, In::width + 2 * Padding,
                                            dilation * (Kernel - 1) + 1>::value);
    using type = shape<OutChannels, window_out(In::height, Kernel, Stride, Padding, dilation),
                       window_out(In::width, Kernel, Stride, Padding, dilation)>;
  };
  template <class In>
  using output_shape = typename output<In>::type;

  /// Multiply-adds at input shape In.
  template <class In>
  static constexpr index_t macs = output_shape<In>::size * (InChannels / groups) * Kernel * Kernel;

  /// Floats of one patch-matrix row: one output pixel's window (for a 1x1 conv, the pixel itself)
  /// over one block's inputs (all inputs unless grouped).
  static constexpr index_t patch_length = index_t{Kernel} * Kernel * weight_layout.block_inputs();
};

/// BatchNorm2d in eval mode: weight, bias, running_mean, running_var, stored in that order.
template <int Channels>
struct batch_norm {
  static_assert(detail::check_positive_channels<Channels>::value);
  static constexpr int channels = Channels;
  static constexpr index_t num_params = 2 * index_t{Channels};  // weight and bias; running stats are buffers
  static constexpr index_t state_floats = 4 * index_t{Channels};

  template <class In>
  struct output {
    static_assert(detail::check_norm_channels<Channels, In::channels>::value);
    using type = In;
  };
  template <class In>
  using output_shape = typename output<In>::type;
};

/// MaxPool2d; padded positions never win, as in PyTorch.
template <int Kernel, int Stride = Kernel, int Padding = 0>
struct max_pool2d {
  static_assert(detail::check_window_params<Kernel, Stride, Padding>::value);
  static constexpr int kernel = Kernel;
  static constexpr int stride = Stride;
  static constexpr int padding = Padding;

  template <class In>
  struct output {
    static_assert(detail::check_pool_fits<In::height + 2 * Padding, In::width + 2 * Padding, Kernel>::value);
    using type = shape<In::channels, window_out(In::height, Kernel, Stride, Padding),
                       window_out(In::width, Kernel, Stride, Padding)>;
  };
  template <class In>
  using output_shape = typename output<In>::type;
};

/// AvgPool2d without padding. torchvision's AdaptiveAvgPool2d(1) is this with the window as large as the input.
template <int Kernel, int Stride = Kernel>
struct avg_pool2d {
  static_assert(detail::check_window_params<Kernel, Stride, 0>::value);
  static constexpr int kernel = Kernel;
  static constexpr int stride = Stride;

  template <class In>
  struct output {
    static_assert(detail::check_pool_fits<In::height, In::width, Kernel>::value);
    using type = shape<In::channels, window_out(In::height, Kernel, Stride, 0), window_out(In::width, Kernel, Stride, 0)>;
  };
  template <class In>
  using output_shape = typename output<In>::type;
};

/// Linear (fully connected) layer on the flattened input; weight stored as PyTorch's [out, in], then bias.
template <int InFeatures, int OutFeatures>
struct linear {
  static_assert(detail::check_linear_sizes<InFeatures>::value && detail::check_linear_sizes<OutFeatures>::value);
  static constexpr int in_features = InFeatures;
  static constexpr int out_features = OutFeatures;
  static constexpr index_t num_params = index_t{InFeatures} * OutFeatures + OutFeatures;
  static constexpr index_t macs = index_t{InFeatures} * OutFeatures;

  template <class In>
  struct output {
    static_assert(detail::check_linear_in_features<InFeatures, In::size>::value);
    using type = shape<OutFeatures, 1, 1>;
  };
  template <class In>
  using output_shape = typename output<In>::type;
};

}  // namespace ctresnet
