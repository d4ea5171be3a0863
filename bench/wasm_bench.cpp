// Forward-pass time of the digits model (batch 1) and resnet18 (batch 1, 224x224) in the wasm
// build, under Node: the median of timed passes after one warm-up, single-threaded, random weights
// (the time does not depend on them). Built by tests/wasm/CMakeLists.txt as wasm_bench (not part
// of the tests); docs/web.md quotes it.
//
//   cmake --build build-wasm --target wasm_bench && node build-wasm/tests/wasm/wasm_bench.js [passes]
#include <ctresnet/ctresnet.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {
template <class Net>
double median_forward_ms(int passes) {
  const auto net = std::make_unique<const Net>();  // Kaiming-normal weights, as PyTorch initialises them
  using input = typename Net::input_shape;
  std::vector<float> pixels(input::size), logits(Net::num_classes);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  const typename Net::input_map x(pixels.data(), 1, input::channels, input::height, input::width);
  const typename Net::output_map y(logits.data(), 1, Net::num_classes);
  std::vector<float> workspace(static_cast<std::size_t>(Net::workspace_floats));
  net->forward(x, y, workspace.data());  // warm-up: first touches of the memory
  std::vector<double> ms;
  for (int p = 0; p < passes; ++p) {
    const auto start = std::chrono::steady_clock::now();
    net->forward(x, y, workspace.data());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  const int passes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 21;
  std::printf("packet: %d floats (%s)\n", ctresnet::kernels::detail::packet_floats,
              CTRESNET_WASM_PACKET ? "wasm SIMD" : "Eigen's");
  std::printf("digits (cifar resnet20, 1x16x16), batch 1: %.3f ms\n",
              median_forward_ms<ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>>(passes * 10));
  std::printf("resnet18 (3x224x224), batch 1: %.1f ms\n", median_forward_ms<ctresnet::resnet18<>>(passes));
}
