// Architecture policies: the details in which ResNet implementations differ while sharing a
// block structure. Each policy is a struct of constants and names; a user can derive a new one.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <string>

namespace ctresnet {

/// torchvision.models.resnet*: projection shortcut only where the shape changes, a bottleneck's
/// stride on its 3x3 conv ("ResNet v1.5"), adaptive average pool to 1x1.
struct torchvision_layout {
  static constexpr int default_classes = 1000;
  static constexpr int stem_width = 64;
  static constexpr int stage_width(int stage) { return 64 << stage; }
  static constexpr int stage_stride(int stage) { return stage == 0 ? 1 : 2; }
  static constexpr bool stride_on_first_1x1 = false;
  static constexpr int fixed_avg_pool = 0;  // 0: adaptive average pool to 1x1

  static constexpr bool projection_shortcut(int stride, int in_channels, int out_channels) {
    return stride != 1 || in_channels != out_channels;
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

/// The PyTorch example in shared/reference: every stage's first block has a projection shortcut,
/// even where the shape does not change; a fixed AvgPool2d(7, stride 1); 5 classes by default; and
/// state-dict names from its nn.Sequential containers.
struct reference_layout : torchvision_layout {
  static constexpr int default_classes = 5;
  static constexpr int fixed_avg_pool = 7;

  static constexpr bool projection_shortcut(int /*stride*/, int /*in_channels*/, int /*out_channels*/) {
    return true;  // asked only for the first block of each stage
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

}  // namespace ctresnet
