// The named networks: torchvision's ResNets, ResNeXts and Wide ResNets, the CIFAR ResNets, the
// stage-projection layout's and the original paper's (v1). Each is its own type, so that errors and
// test names print `resnet18` rather than the general template.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/detail/checks.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/network.hpp>

namespace ctresnet {

/// torchvision's ResNets.
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet18 final : resnet<basic_block, stages<2, 2, 2, 2>, Classes, Input, torchvision_layout> {
  using resnet18::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet34 final : resnet<basic_block, stages<3, 4, 6, 3>, Classes, Input, torchvision_layout> {
  using resnet34::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet50 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, torchvision_layout> {
  using resnet50::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet101 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, torchvision_layout> {
  using resnet101::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnet152 final : resnet<bottleneck, stages<3, 8, 36, 3>, Classes, Input, torchvision_layout> {
  using resnet152::resnet::resnet;
};

/// ResNeXt (Xie et al. 2017) and Wide ResNets (Zagoruyko and Komodakis 2016) as torchvision builds them.
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnext50_32x4d final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, grouped_layout<32, 4>> {
  using resnext50_32x4d::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnext101_32x8d final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, grouped_layout<32, 8>> {
  using resnext101_32x8d::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct resnext101_64x4d final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, grouped_layout<64, 4>> {
  using resnext101_64x4d::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct wide_resnet50_2 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, grouped_layout<1, 128>> {
  using wide_resnet50_2::resnet::resnet;
};
template <int Classes = torchvision_layout::default_classes, class Input = imagenet_input>
struct wide_resnet101_2 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, grouped_layout<1, 128>> {
  using wide_resnet101_2::resnet::resnet;
};

/// He et al.'s CIFAR-10 ResNets (2015, section 4.2): Depth = 6n + 2 layers, n basic blocks in
/// each of three stages of 16, 32 and 64 channels, 10 classes and 3x32x32 images by default.
/// cifar_layout gives shortcut option A (zero padding), cifar_projection_layout option B.
namespace cifar {
template <int Depth>
struct stages_for_depth {
  static_assert(detail::check_cifar_depth<Depth>::value);
  static constexpr int blocks = Depth >= 8 ? (Depth - 2) / 6 : 1;  // 1 once the check above failed
  using type = stages<blocks, blocks, blocks>;
};

template <int Depth, int Classes = cifar_layout::default_classes, class Input = cifar_input,
          class Layout = cifar_layout>
struct resnet final
    : ctresnet::resnet<basic_block, typename stages_for_depth<Depth>::type, Classes, Input, Layout> {
  using base = ctresnet::resnet<basic_block, typename stages_for_depth<Depth>::type, Classes, Input, Layout>;
  using base::base;
};

template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet20 = resnet<20, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet32 = resnet<32, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet44 = resnet<44, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet56 = resnet<56, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet110 = resnet<110, Classes, Input, Layout>;
template <int Classes = cifar_layout::default_classes, class Input = cifar_input, class Layout = cifar_layout>
using resnet1202 = resnet<1202, Classes, Input, Layout>;
}  // namespace cifar

/// ResNets in the stage-projection layout (see stage_projection_layout): a projection shortcut
/// opens every stage, a fixed 7x7 average pool, nn.Sequential names, 5 classes by default.
namespace stage_projection {
template <int Classes = stage_projection_layout::default_classes, class Input = imagenet_input>
struct resnet18 final : resnet<basic_block, stages<2, 2, 2, 2>, Classes, Input, stage_projection_layout> {
  using resnet18::resnet::resnet;
};
template <int Classes = stage_projection_layout::default_classes, class Input = imagenet_input>
struct resnet34 final : resnet<basic_block, stages<3, 4, 6, 3>, Classes, Input, stage_projection_layout> {
  using resnet34::resnet::resnet;
};
template <int Classes = stage_projection_layout::default_classes, class Input = imagenet_input>
struct resnet50 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, stage_projection_layout> {
  using resnet50::resnet::resnet;
};
template <int Classes = stage_projection_layout::default_classes, class Input = imagenet_input>
struct resnet101 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, stage_projection_layout> {
  using resnet101::resnet::resnet;
};
template <int Classes = stage_projection_layout::default_classes, class Input = imagenet_input>
struct resnet152 final : resnet<bottleneck, stages<3, 8, 36, 3>, Classes, Input, stage_projection_layout> {
  using resnet152::resnet::resnet;
};
}  // namespace stage_projection

/// The original paper's bottleneck placement (stride on the first 1x1 conv), torchvision's names.
/// ResNet-18/34 have no bottleneck, so they are the same in every placement.
namespace v1 {
template <int Classes = original_paper_layout::default_classes, class Input = imagenet_input>
struct resnet50 final : resnet<bottleneck, stages<3, 4, 6, 3>, Classes, Input, original_paper_layout> {
  using resnet50::resnet::resnet;
};
template <int Classes = original_paper_layout::default_classes, class Input = imagenet_input>
struct resnet101 final : resnet<bottleneck, stages<3, 4, 23, 3>, Classes, Input, original_paper_layout> {
  using resnet101::resnet::resnet;
};
template <int Classes = original_paper_layout::default_classes, class Input = imagenet_input>
struct resnet152 final : resnet<bottleneck, stages<3, 8, 36, 3>, Classes, Input, original_paper_layout> {
  using resnet152::resnet::resnet;
};
}  // namespace v1

}  // namespace ctresnet
