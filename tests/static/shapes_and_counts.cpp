// Compile-time facts: if this file builds, they hold (mp-units' test/static style).
#include <ctresnet/ctresnet.hpp>

#include <type_traits>

namespace {
using namespace ctresnet;

// Layer shape arithmetic, PyTorch's formula.
static_assert(std::is_same_v<conv2d<3, 64, 7, 2, 3>::output_shape<shape<3, 224, 224>>, shape<64, 112, 112>>);
static_assert(std::is_same_v<conv2d<64, 128, 3, 2>::output_shape<shape<64, 56, 56>>, shape<128, 28, 28>>);
static_assert(std::is_same_v<conv2d<64, 256, 1, 1, 0>::output_shape<shape<64, 56, 56>>, shape<256, 56, 56>>);
static_assert(std::is_same_v<conv2d<256, 512, 1, 2, 0>::output_shape<shape<256, 56, 56>>, shape<512, 28, 28>>);
static_assert(std::is_same_v<max_pool2d<3, 2, 1>::output_shape<shape<64, 112, 112>>, shape<64, 56, 56>>);
static_assert(std::is_same_v<avg_pool2d<7, 1>::output_shape<shape<2048, 7, 7>>, shape<2048, 1, 1>>);
static_assert(std::is_same_v<avg_pool2d<7, 1>::output_shape<shape<2048, 8, 8>>, shape<2048, 2, 2>>);
static_assert(std::is_same_v<linear<2048, 1000>::output_shape<shape<2048, 1, 1>>, shape<1000, 1, 1>>);
static_assert(conv2d<3, 64, 7, 2, 3>::macs<shape<3, 224, 224>> == 118'013'952);
static_assert(conv2d<64, 256, 1, 1, 0>::patch_length == 64);  // a 1x1 conv's patch is the pixel
static_assert(conv2d<64, 64, 3, 1, 1>::patch_length == 576);

// The feature maps of torchvision's nets and of the stage-projection layout's.
static_assert(std::is_same_v<resnet18<>::features_shape, shape<512, 7, 7>>);
static_assert(std::is_same_v<resnet50<>::features_shape, shape<2048, 7, 7>>);
static_assert(std::is_same_v<resnet50<>::stem_type::output, shape<64, 56, 56>>);
static_assert(std::is_same_v<std::tuple_element_t<0, resnet50<>::stage_types>::output, shape<256, 56, 56>>);
static_assert(std::is_same_v<std::tuple_element_t<1, resnet50<>::stage_types>::output, shape<512, 28, 28>>);
static_assert(std::is_same_v<std::tuple_element_t<2, resnet50<>::stage_types>::output, shape<1024, 14, 14>>);
static_assert(std::is_same_v<stage_projection::resnet152<>::features_shape, shape<2048, 7, 7>>);
static_assert(std::is_same_v<resnet18<10, shape<3, 32, 32>>::features_shape, shape<512, 1, 1>>);
static_assert(std::is_same_v<resnet50<1000, shape<3, 256, 320>>::features_shape, shape<2048, 8, 10>>);

// torchvision's published parameter counts and GMACs (1000 classes, 224x224).
constexpr double gmacs(index_t macs) { return static_cast<double>(macs) / 1e9; }
constexpr bool published(double value, double expected) { return value >= expected - 0.0005 && value < expected + 0.0005; }
static_assert(resnet18<>::num_params == 11'689'512);
static_assert(resnet34<>::num_params == 21'797'672);
static_assert(resnet50<>::num_params == 25'557'032);
static_assert(resnet101<>::num_params == 44'549'160);
static_assert(resnet152<>::num_params == 60'192'808);
static_assert(published(gmacs(resnet18<>::num_macs), 1.814));
static_assert(published(gmacs(resnet34<>::num_macs), 3.664));
static_assert(published(gmacs(resnet50<>::num_macs), 4.089));
static_assert(published(gmacs(resnet101<>::num_macs), 7.801));
static_assert(published(gmacs(resnet152<>::num_macs), 11.514));

// Input size and class count are part of the type and flow into the counts.
static_assert(resnet50<10>::num_params == resnet50<>::num_params - 990 * 2049);
static_assert(resnet50<1000, shape<3, 448, 448>>::num_params == resnet50<>::num_params);
static_assert(resnet18<1000, shape<1, 224, 224>>::num_params == resnet18<>::num_params - 2 * 64 * 49);

// The stage-projection layout: 5 classes; a 1x1 projection in every stage's first block, so its
// ResNet-18 has an extra 64->64 conv + BN in layer1.0 and its ResNet-50 the same parameters as
// torchvision's (whose layer1.0 already projects 64->256).
static_assert(stage_projection::resnet18<>::num_classes == 5);
static_assert(stage_projection::resnet18<1000>::num_params == resnet18<>::num_params + 64 * 64 + 2 * 64);
static_assert(stage_projection::resnet50<1000>::num_params == resnet50<>::num_params);
static_assert(stage_projection::resnet50<1000>::num_macs == resnet50<>::num_macs);

// v1 moves the stride within the bottleneck: same parameters, fewer MACs (the 3x3 runs at the
// lower resolution either way; the first 1x1 moves to it).
static_assert(v1::resnet50<>::num_params == resnet50<>::num_params);
static_assert(v1::resnet50<>::num_macs < resnet50<>::num_macs);
static_assert(std::is_same_v<v1::resnet50<>::features_shape, resnet50<>::features_shape>);

// ResNeXt and Wide ResNets: torchvision's published parameter counts. A grouped conv counts its
// weights within groups only; ctresnet stores ResNeXt-50's first-stage groups of 4 channels in
// blocks of 4 groups, with zeros between them, so its state is larger than its parameters.
static_assert(resnext50_32x4d<>::num_params == 25'028'904);
static_assert(resnext101_32x8d<>::num_params == 88'791'336);
static_assert(resnext101_64x4d<>::num_params == 83'455'272);
static_assert(wide_resnet50_2<>::num_params == 68'883'240);
static_assert(wide_resnet101_2<>::num_params == 126'886'696);
static_assert(std::is_same_v<resnext50_32x4d<>::features_shape, shape<2048, 7, 7>>);
static_assert(conv_weight_layout{128, 128, 3, 32}.groups_per_block() == 4 &&
              conv_weight_layout{128, 128, 3, 32}.stored_floats() == 4 * 128 * 128 * 9 / 32);
static_assert(conv_weight_layout{64, 64, 3, 1}.stored_floats() == 64 * 64 * 9);

// He et al.'s CIFAR ResNets: the paper's 0.27M, 0.85M, 1.7M and 19.4M parameters (option A), and
// option B's two projections (16 -> 32 and 32 -> 64 channels, with their BatchNorms).
static_assert(cifar::resnet20<>::num_params == 269'722);
static_assert(cifar::resnet56<>::num_params == 853'018);
static_assert(cifar::resnet110<>::num_params == 1'727'962);
static_assert(cifar::resnet1202<>::num_params == 19'421'274);
static_assert(cifar::resnet20<10, cifar_input, cifar_projection_layout>::num_params ==
              269'722 + 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64);
static_assert(std::is_same_v<cifar::resnet20<>::features_shape, shape<64, 8, 8>>);
static_assert(std::is_same_v<cifar::resnet20<10, shape<1, 16, 16>>::features_shape, shape<64, 4, 4>>);

// State holds the BatchNorm running statistics beside the parameters, and the transformed weights
// of each 3x3 conv that runs by Winograd's method: at stride 1, 36 per channel pair at 28x28 and up
// (F(4x4, 3x3)), 16 down to 7x7 (F(2x2, 3x3)); at stride 2, 16 down to 14x14 (F(2x2, 3x3), 25
// positions sharing 16 matrices). ResNet-18 has 4 stride-1 convs at 56x56 with 64 channels, 3 at
// 28x28 with 128, 3 at 14x14 with 256 and 3 at 7x7 with 512; its strided 3x3 convs to 28x28 (64 ->
// 128) and 14x14 (128 -> 256) too, and the one to 7x7 runs directly.
static_assert(kernels::winograd_tile_for(3, 1, 1, 56, 56) == 4 && kernels::winograd_tile_for(3, 1, 1, 14, 14) == 2 &&
              kernels::winograd_tile_for(3, 1, 1, 7, 7) == 2 && kernels::winograd_tile_for(3, 1, 1, 6, 6) == 0 &&
              kernels::winograd_tile_for(3, 2, 1, 28, 28) == 2 && kernels::winograd_tile_for(3, 2, 1, 14, 14) == 2 &&
              kernels::winograd_tile_for(3, 2, 1, 7, 7) == 0 && kernels::winograd_tile_for(3, 2, 1, 13, 13) == 0 &&
              kernels::winograd_tile_for(3, 2, 1, 14, 7) == 0 && kernels::winograd_tile_for(3, 3, 1, 28, 28) == 0 &&
              kernels::winograd_tile_for(3, 2, 0, 28, 28) == 0);
using strided_winograd = kernels::winograd<2, 2>;
static_assert(strided_winograd::window == 5 && strided_winograd::positions == 25 &&
              strided_winograd::weight_positions == 16 && strided_winograd::shared_positions == 4 &&
              strided_winograd::weight_position(24) == 15 && strided_winograd::weight_position(23) == 15 &&
              strided_winograd::weight_position(7) == 6 && kernels::winograd<4>::weight_position(35) == 35);
static_assert(resnet18<>::state_floats == resnet18<>::num_params + 2 * 4800 + 36 * (4 * 64 * 64 + 3 * 128 * 128) +
                                              16 * (3 * 256 * 256 + 3 * 512 * 512) +
                                              16 * (64 * 128 + 128 * 256));
// The workspace: three activation buffers (the largest is layer1's 64x56x56: the stem's 64x112x112
// conv output is pooled band by band, never stored whole), a scale and shift per channel, and one
// thread's scratch, each rounded up to whole cache lines, and up to 15 floats to move an unaligned
// start to a line. The largest scratch is a Winograd conv's: one block
// of tiles transformed and multiplied for every window position. With AVX-512 (blocks of up to 56
// tiles) and AVX2 (60) that is the strided 128 -> 256 conv to 14x14 by F(2x2, 3x3), all 49 tiles
// in one block; with SSE or NEON (24) the 512 -> 512 convs at 7x7 by F(2x2, 3x3), all 16 tiles.
static_assert(resnet18<>::max_activation_floats == 64 * 56 * 56);
static_assert(kernels::winograd<4>::block_tiles(128) == kernels::detail::tile_group * kernels::tile_rows &&
              kernels::winograd<2>::block_tiles(64) == (kernels::detail::tile_group + 1) / 2 * kernels::tile_rows);
static_assert(kernels::winograd<4>::tiles(28, 28) == 49 && kernels::winograd<2>::tiles(7, 7) == 16 &&
              kernels::winograd<2>::tiles(14, 14) == 49 && kernels::winograd<4>::tiles(56, 56) == 196);
constexpr index_t largest_scratch = kernels::detail::tile_group * kernels::tile_rows >= 49
                                        ? kernels::winograd<2, 2>::thread_floats(128, 256, 49)
                                        : kernels::winograd<2>::thread_floats(512, 512, 16);
static_assert(largest_scratch >= kernels::winograd<2, 2>::thread_floats(128, 256, 49) &&
              largest_scratch >= kernels::winograd<2, 2>::thread_floats(64, 128, 196) &&
              largest_scratch >= kernels::winograd<4>::thread_floats(128, 128, 49) &&
              largest_scratch >= kernels::winograd<2>::thread_floats(512, 512, 16) &&
              largest_scratch > kernels::winograd<2>::thread_floats(256, 256, 49) &&
              largest_scratch > kernels::winograd<4>::thread_floats(64, 64, 196) &&
              largest_scratch > kernels::conv_thread_floats(9 * 512) &&
              largest_scratch > resnet18<>::stem_type::thread_scratch_floats);
static_assert(whole_cache_lines(1) == 16 && whole_cache_lines(16) == 16 && whole_cache_lines(17) == 32);
static_assert(resnet18<>::workspace_floats == 15 + 3 * 64 * 56 * 56 + 2 * 512 + whole_cache_lines(largest_scratch));
static_assert(resnet18<>::workspace_floats_for(2) == resnet18<>::workspace_floats + whole_cache_lines(largest_scratch));

}  // namespace
