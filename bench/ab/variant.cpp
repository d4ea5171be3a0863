// One side of an A/B comparison (bench/ab_compare.py): compiled once per ctresnet version, each
// time with `-Dctresnet=<a unique namespace> -DAB_SIDE=<name>` against that version's headers, so
// that both versions live in one process and alternate forward pass by forward pass.
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#define AB_JOIN2(a, b) a##b
#define AB_JOIN(a, b) AB_JOIN2(a, b)

namespace {

/// A network, a fixed input, a workspace and a pool of `threads`. The weights are seeded random
/// ones, or with AB_WEIGHTS=DIR set, DIR/resnet<depth>_seed0.safetensors.
template <class Net>
struct runner {
  Net net{1};
  typename Net::input_tensor input{1, 3, 224, 224};
  std::vector<float> workspace, logits;
  ctresnet::thread_pool pool;

  runner(int depth, int threads)
      : workspace(static_cast<std::size_t>(Net::workspace_floats_for(threads))), logits(1000), pool(threads) {
    for (long i = 0; i < input.size(); ++i) input.data()[i] = static_cast<float>((i * 7919) % 1000) / 500.0f - 1.0f;
    if (const char* directory = std::getenv("AB_WEIGHTS"))
      ctresnet::load_safetensors(net, std::string(directory) + "/resnet" + std::to_string(depth) +
                                          "_seed0.safetensors");
  }
  double seconds_for_one_pass() {
    const auto start = std::chrono::steady_clock::now();
    net.forward(typename Net::input_map(input.data(), input.dimensions()),
                typename Net::output_map(logits.data(), 1, 1000), workspace.data(), pool);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

template <class Net>
double run(int depth, int threads, float* logits) {
  static std::unique_ptr<runner<Net>> r;
  if (!r) r = std::make_unique<runner<Net>>(depth, threads);
  const double seconds = r->seconds_for_one_pass();
  std::copy(r->logits.begin(), r->logits.end(), logits);
  return seconds;
}

}  // namespace

/// One forward pass of resnet18 or resnet50 (`depth`) at batch 1: its seconds, and its logits.
double AB_JOIN(forward_, AB_SIDE)(int depth, int threads, float* logits) {
  return depth == 18 ? run<ctresnet::resnet18<>>(depth, threads, logits)
                     : run<ctresnet::resnet50<>>(depth, threads, logits);
}
