// Compile-time facts of the int8 networks (<ctresnet/quantized.hpp>): if this file builds, they
// hold. The byte counts are those docs/int8.md gives.
#include <ctresnet/quantized.hpp>

#include <type_traits>

namespace {
using namespace ctresnet;
using digits = cifar::resnet20<10, shape<1, 16, 16>>;

// Shapes and counts are the float network's.
static_assert(std::is_same_v<quantized<resnet50<>>::stage_shape<3>, resnet50<>::stage_shape<3>>);
static_assert(std::is_same_v<quantized<digits>::input_shape, shape<1, 16, 16>>);
static_assert(quantized<digits>::num_stages == 3 && quantized<digits>::num_classes == 10);
static_assert(quantized<stage_projection::resnet18<>>::num_classes == 5);

// State: one byte per weight, and per layer a header, int32 biases and float multipliers, on cache
// lines. Workspace: four activation buffers of the largest activation (resnet18's stem conv output,
// 64 x 112 x 112) and one int16 window (3 x 3 x 512).
static_assert(quantized<resnet18<>>::state_bytes == 11'727'296);
static_assert(quantized<resnet18<>>::workspace_bytes == 63 + 4 * 802'816 + 2 * 4608);
static_assert(quantized<resnet50<>>::state_bytes == 25'728'000);
static_assert(quantized<resnet50<>>::workspace_bytes == 3'220'543);
static_assert(quantized<digits>::state_bytes == 275'648);
static_assert(quantized<digits>::workspace_bytes == 17'599);
// The first layer's state is the input's quantization, a header of one cache line.
static_assert(quantized<resnet18<>>::state_offsets[0] == 0 && quantized<resnet18<>>::state_offsets[1] == 64);
}  // namespace
