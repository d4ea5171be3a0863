// Architecture policies: the details in which ResNet implementations differ while sharing a
// block structure. Each policy is a struct of constants and names; a user can derive a new one.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <string>

namespace ctresnet {

/// What a block adds to its main branch.
enum class shortcut_kind {
  identity,    // the input itself
  projection,  // a 1x1 conv with the block's stride, and its BatchNorm ("option B")
  zero_padded  // the input subsampled by the stride, zeros around its channels ("option A")
};

/// torchvision.models.resnet*: a 7x7/2 stem conv and a 3x3/2 max pool, projection shortcut only
/// where the shape changes, a bottleneck's stride on its 3x3 conv ("ResNet v1.5"), adaptive
/// average pool to 1x1.
struct torchvision_layout {
  static constexpr int default_classes = 1000;
  static constexpr int stem_width = 64;
  static constexpr int stem_kernel = 7;  // padded by stem_kernel / 2
  static constexpr int stem_stride = 2;
  static constexpr bool stem_max_pool = true;  // MaxPool2d(3, 2, padding 1)
  static constexpr int stage_width(int stage) { return 64 << stage; }
  static constexpr int stage_stride(int stage) { return stage == 0 ? 1 : 2; }
  /// Whether a stage trades its stride for dilation (torchvision's replace_stride_with_dilation).
  static constexpr bool stage_dilated(int /*stage*/) { return false; }
  static constexpr bool stride_on_first_1x1 = false;
  static constexpr int groups = 1;             // of a bottleneck's 3x3 conv (ResNeXt)
  static constexpr int width_per_group = 64;   // a bottleneck's inner width is width * this / 64 * groups
  static constexpr int fixed_avg_pool = 0;  // 0: adaptive average pool to 1x1
  static constexpr bool has_classifier = true;  // false: a backbone, whose output is its last feature map
  /// Whether 3x3 convs of stride 1 and 2 may run by Winograd's method: faster, but their transformed weights
  /// take 16/9 to 4 times the memory of the weights themselves.
  static constexpr bool winograd = true;

  /// Asked for the first block of each stage; the others keep their shape and add the identity.
  static constexpr shortcut_kind shortcut(int stride, int in_channels, int out_channels) {
    return stride != 1 || in_channels != out_channels ? shortcut_kind::projection : shortcut_kind::identity;
  }

  static std::string stem_conv_name() { return "conv1"; }
  static std::string stem_norm_name() { return "bn1"; }
  static std::string block_conv_name(const char* /*block_family*/, int i) { return "conv" + std::to_string(i + 1); }
  static std::string block_norm_name(const char* /*block_family*/, int i) { return "bn" + std::to_string(i + 1); }
  static std::string downsample_conv_name() { return "downsample.0"; }
  static std::string downsample_norm_name() { return "downsample.1"; }
  static std::string stage_name(int stage) { return "layer" + std::to_string(stage + 1); }
  static std::string classifier_name() { return "fc"; }
};

/// The stage-projection layout, a common way of writing ResNets by hand in PyTorch: every stage's
/// first block has a projection shortcut (1x1 conv and BatchNorm), even where the shape does not
/// change (so layer1.0 of a ResNet-18 has one, where torchvision's has none); the average pool is a
/// fixed AvgPool2d(7, stride 1), so the input must leave a 7x7 feature map or larger; 5 classes by
/// default. Its state-dict names come from nn.Sequential containers: the stem is conv1.0 (conv) and
/// conv1.1 (BatchNorm); a block's convs and norms are numbered within its Sequential, skipping the
/// ReLUs (layer1.0.basicblock.0, layer1.0.basicblock.1, layer1.0.basicblock.3, ...); the shortcut
/// is downsample.0 and downsample.1, as in torchvision.
struct stage_projection_layout : torchvision_layout {
  static constexpr int default_classes = 5;
  static constexpr int fixed_avg_pool = 7;

  static constexpr shortcut_kind shortcut(int /*stride*/, int /*in_channels*/, int /*out_channels*/) {
    return shortcut_kind::projection;
  }

  static std::string stem_conv_name() { return "conv1.0"; }
  static std::string stem_norm_name() { return "conv1.1"; }
  // Sequential index of the i-th conv and its BatchNorm, skipping the ReLUs between them.
  static std::string block_conv_name(const char* block_family, int i) {
    return std::string(block_family) + "." + std::to_string(3 * i);
  }
  static std::string block_norm_name(const char* block_family, int i) {
    return std::string(block_family) + "." + std::to_string(3 * i + 1);
  }
};

/// The original paper's bottleneck ("ResNet v1"): the stride sits on the first 1x1 conv instead
/// of the 3x3; otherwise torchvision's layout and names.
struct original_paper_layout : torchvision_layout {
  static constexpr bool stride_on_first_1x1 = true;
};

/// torchvision's ResNeXt (Groups x WidthPerGroup, e.g. 32 x 4) and Wide ResNets (1 x 128): its
/// bottleneck's `groups` and `width_per_group`.
template <int Groups, int WidthPerGroup>
struct grouped_layout : torchvision_layout {
  static constexpr int groups = Groups;
  static constexpr int width_per_group = WidthPerGroup;
};

/// `Base` without its average pool and classifier: a backbone (see ctresnet::backbone).
template <class Base>
struct without_classifier : Base {
  static constexpr bool has_classifier = false;
};

/// `Base` with every conv run directly: the state holds the weights and nothing derived from them,
/// for targets where memory matters more than speed.
template <class Base>
struct without_winograd : Base {
  static constexpr bool winograd = false;
};

/// `Base` with torchvision's replace_stride_with_dilation = [Layer2, Layer3, Layer4]: each stage
/// so marked keeps its input's resolution and dilates its 3x3 convs instead (segmentation models
/// use [false, true, true]: features at 1/8 of the input instead of 1/32).
template <class Base, bool Layer2, bool Layer3, bool Layer4>
struct dilated_layout : Base {
  static constexpr bool stage_dilated(int stage) {
    return (stage == 1 && Layer2) || (stage == 2 && Layer3) || (stage == 3 && Layer4);
  }
};

/// He et al.'s CIFAR-10 ResNets (2015, section 4.2), shortcut option A: a 3x3 stem conv with 16
/// channels and no max pool, stages of 16, 32 and 64 channels. Where a stage halves the image and
/// doubles the channels, the shortcut takes every second pixel of every second row and pads the
/// channels with zeros, half before and half after them, as the common PyTorch CIFAR code does
/// (F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))); it has no parameters.
/// torchvision's names (conv1, bn1, layer1.0.conv1, ..., fc).
struct cifar_layout : torchvision_layout {
  static constexpr int default_classes = 10;
  static constexpr int stem_width = 16;
  static constexpr int stem_kernel = 3;
  static constexpr int stem_stride = 1;
  static constexpr bool stem_max_pool = false;
  static constexpr int stage_width(int stage) { return 16 << stage; }

  static constexpr shortcut_kind shortcut(int stride, int in_channels, int out_channels) {
    return stride != 1 || in_channels != out_channels ? shortcut_kind::zero_padded : shortcut_kind::identity;
  }
};

/// The CIFAR ResNets with shortcut option B: a projection (1x1 conv and BatchNorm, named
/// downsample.0 and downsample.1 as in torchvision) where the shape changes.
struct cifar_projection_layout : cifar_layout {
  static constexpr shortcut_kind shortcut(int stride, int in_channels, int out_channels) {
    return torchvision_layout::shortcut(stride, in_channels, out_channels);
  }
};

}  // namespace ctresnet
