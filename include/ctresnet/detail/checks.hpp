// Every compile-time check ctresnet makes, in one place (cf. Eigen's util/StaticAssert.h).
// Each check is a named template so the compiler prints the offending numbers next to the
// message: g++ shows "In instantiation of 'check_in_channels<64, 32>'".
// The messages are part of the API: the compile-fail tests match them.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

namespace ctresnet::detail {

template <int Channels, int Height, int Width>
struct check_positive_shape {
  static_assert(Channels > 0 && Height > 0 && Width > 0,
                "ctresnet::shape: channels, height and width must all be positive");
  static constexpr bool value = true;
};

template <int Kernel, int Stride, int Padding>
struct check_window_params {
  static_assert(Kernel > 0 && Stride > 0 && Padding >= 0,
                "ctresnet::conv2d/pool: kernel size and stride must be positive and padding must not be negative");
  static constexpr bool value = true;
};

template <int Channels>
struct check_positive_channels {
  static_assert(Channels > 0, "ctresnet::conv2d/batch_norm: channel counts must be positive");
  static constexpr bool value = true;
};

template <int Expected, int Actual>
struct check_in_channels {
  static_assert(Expected == Actual,
                "ctresnet::conv2d: input channels differ from the previous layer's output channels");
  static constexpr bool value = true;
};

template <int Expected, int Actual>
struct check_norm_channels {
  static_assert(Expected == Actual,
                "ctresnet::batch_norm: its channel count differs from the previous layer's output channels");
  static constexpr bool value = true;
};

template <int Stages, int NetStages>
struct check_backbone_stages {
  static_assert(Stages >= 1 && Stages <= NetStages,
                "ctresnet::backbone: a backbone keeps between 1 and all of the network's stages");
  static constexpr bool value = true;
};

template <int Dilation>
struct check_dilation {
  static_assert(Dilation > 0, "ctresnet::conv2d: the dilation must be positive (1: no gaps between the taps)");
  static constexpr bool value = true;
};

template <int PaddedHeight, int PaddedWidth, int Kernel>
struct check_kernel_fits {
  static_assert(Kernel <= PaddedHeight && Kernel <= PaddedWidth,
                "ctresnet::conv2d: the kernel (spread by its dilation) is larger than the padded input; use a larger input or a "
                "smaller kernel");
  static constexpr bool value = true;
};

template <int PaddedHeight, int PaddedWidth, int Kernel>
struct check_pool_fits {
  static_assert(Kernel <= PaddedHeight && Kernel <= PaddedWidth,
                "ctresnet::pool: the pooling window is larger than its (padded) input");
  static constexpr bool value = true;
};

template <int InChannels, int OutChannels, int Groups>
struct check_groups {
  static_assert(Groups > 0 && InChannels % Groups == 0 && OutChannels % Groups == 0,
                "ctresnet::conv2d: the number of groups must divide both the input and the output channels");
  static constexpr bool value = true;
};

template <int Groups, int WidthPerGroup>
struct check_basic_block_plain {
  static_assert(Groups == 1 && WidthPerGroup == 64,
                "ctresnet::basic_block: groups and width_per_group apply to bottleneck blocks only (as in "
                "torchvision); a basic block needs groups 1 and width_per_group 64");
  static constexpr bool value = true;
};

template <int Dilation>
struct check_basic_block_undilated {
  static_assert(Dilation == 1,
                "ctresnet::basic_block: dilated stages need bottleneck blocks (torchvision's BasicBlock does not "
                "support dilation either)");
  static constexpr bool value = true;
};

template <int InChannels, int OutChannels>
struct check_zero_padding_widens {
  static_assert(OutChannels >= InChannels && (OutChannels - InChannels) % 2 == 0,
                "ctresnet::shortcut_kind::zero_padded: zero padding can only add channels, as many after the input's "
                "channels as before them; the block's output must have the input's channels plus an even number");
  static constexpr bool value = true;
};

template <class MainBranch, class Shortcut>
struct check_residual_shapes {
  static_assert(MainBranch::channels == Shortcut::channels && MainBranch::height == Shortcut::height &&
                    MainBranch::width == Shortcut::width,
                "ctresnet::residual_add: the shortcut and the main branch have different shapes; an identity "
                "shortcut cannot follow a change of stride or channels, use a projection shortcut there");
  static constexpr bool value = true;
};

template <int InFeatures, long long FlattenedFeatures>
struct check_linear_in_features {
  static_assert(InFeatures == FlattenedFeatures,
                "ctresnet::linear: in_features differ from the flattened features of the previous layer "
                "(a fixed-size average pool only flattens to in_features at the input size it was made for)");
  static constexpr bool value = true;
};

template <int Features>
struct check_linear_sizes {
  static_assert(Features > 0, "ctresnet::linear: in_features and out_features must be positive");
  static constexpr bool value = true;
};

template <int Classes>
struct check_positive_classes {
  static_assert(Classes > 0, "ctresnet::resnet: the number of classes must be positive");
  static constexpr bool value = true;
};

template <int StageCount>
struct check_stage_list_not_empty {
  static_assert(StageCount > 0, "ctresnet::stages: the block list is empty; a ResNet needs at least one stage");
  static constexpr bool value = true;
};

template <bool AllPositive>
struct check_block_counts_positive {
  static_assert(AllPositive, "ctresnet::stages: every stage needs at least one block");
  static constexpr bool value = true;
};

template <int Depth>
struct check_cifar_depth {
  static_assert(Depth >= 8 && (Depth - 2) % 6 == 0,
                "ctresnet::cifar::resnet: a CIFAR ResNet has 6n + 2 layers (20, 32, 44, 56, 110, 1202, ...)");
  static constexpr bool value = true;
};

template <int FeatureHeight, int FeatureWidth, int PoolKernel>
struct check_input_large_enough {
  static_assert(PoolKernel <= FeatureHeight && PoolKernel <= FeatureWidth,
                "ctresnet::resnet: the input is too small for the network's downsamplings; the last stage's "
                "feature map is smaller than the fixed average-pool window");
  static constexpr bool value = true;
};

// ctresnet::quantized<Net> (<ctresnet/quantized.hpp>).
template <long long PatchLength>
struct check_int8_accumulator {
  static_assert(PatchLength <= 65793,
                "ctresnet::quantized: a conv's window (kernel x kernel x input channels) is too long for an int32 "
                "sum of products of magnitude up to 255 x 128");
  static constexpr bool value = true;
};

}  // namespace ctresnet::detail
