// The smallest ResNet worth loading weights into (382 floats), for the malformed-weights tests and
// the loader's fuzzer: one basic block of 4 channels on 1x8x8 images, 2 classes. Its weights files
// are tests/malformed/*.safetensors, written by tools/make_malformed_weights.py.
#pragma once

#include <ctresnet/ctresnet.hpp>

namespace ctresnet_tests {

struct tiny_layout : ctresnet::cifar_layout {
  static constexpr int stem_width = 4;
  static constexpr int stage_width(int stage) { return 4 << stage; }
};

using tiny_network = ctresnet::resnet<ctresnet::basic_block, ctresnet::stages<1>, 2, ctresnet::shape<1, 8, 8>, tiny_layout>;

}  // namespace ctresnet_tests
