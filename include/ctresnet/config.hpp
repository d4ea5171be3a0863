// ctresnet: every ResNet a C++ type. Version and build switches.
#pragma once

#define CTRESNET_VERSION_MAJOR 0
#define CTRESNET_VERSION_MINOR 1
#define CTRESNET_VERSION_PATCH 0
#define CTRESNET_VERSION_STRING "0.1.0"

#include <cstddef>

namespace ctresnet {

/// Sizes and offsets into parameter and workspace buffers are counted in floats.
using index_t = std::ptrdiff_t;

/// BatchNorm2d's default epsilon in PyTorch; every torchvision ResNet uses it.
inline constexpr float batch_norm_eps = 1e-5f;

}  // namespace ctresnet
