// A program that uses an installed (or add_subdirectory'd) ctresnet, as a user's would. Built and
// run by the packaging.* tests: a CIFAR ResNet-20 with random weights runs one forward pass and,
// with <ctresnet/safetensors.hpp>, saves its weights, loads them into a second network and requires
// the same logits from it.
//   consumer [SCRATCH.safetensors]
#include <ctresnet/ctresnet.hpp>
#ifdef CONSUMER_WITH_SAFETENSORS
#include <ctresnet/safetensors.hpp>
#endif

#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

using net_type = ctresnet::cifar::resnet20<>;  // 10 classes, 3x32x32 images
static_assert(net_type::num_params == 269'722);

namespace {
net_type::input_tensor ramp_input() {
  net_type::input_tensor x(1, 3, 32, 32);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.01F * static_cast<float>(i));
  return x;
}
}  // namespace

int main(int argc, char** argv) try {
  const net_type net(42);
  net_type::input_tensor zeros(1, 3, 32, 32);
  zeros.setZero();
  const net_type::output_tensor logits = net.forward(zeros);
  const net_type::output_tensor ramp_logits = net.forward(ramp_input());
  if (logits.dimension(0) != 1 || logits.dimension(1) != 10) return std::cerr << "wrong output shape\n", 1;
  for (Eigen::Index i = 0; i < ramp_logits.size(); ++i)
    if (!std::isfinite(ramp_logits.data()[i])) return std::cerr << "a logit is not finite\n", 1;
  std::cout << "logits: " << logits.dimension(1) << '\n';

#ifdef CONSUMER_WITH_SAFETENSORS
  const std::string path = argc > 1 ? argv[1] : "consumer_resnet20.safetensors";
  ctresnet::save_safetensors(net, path);
  net_type loaded(ctresnet::uninitialized);
  ctresnet::load_safetensors(loaded, path);
  std::remove(path.c_str());
  const net_type::output_tensor loaded_logits = loaded.forward(ramp_input());
  for (Eigen::Index i = 0; i < ramp_logits.size(); ++i)
    if (loaded_logits.data()[i] != ramp_logits.data()[i]) return std::cerr << "the loaded network differs\n", 1;
  std::cout << "safetensors: saved and loaded\n";
#else
  (void)argc;
  (void)argv;
  std::cout << "safetensors: not used\n";
#endif
  std::cout << "C++ " << __cplusplus << '\n';
} catch (const std::exception& e) {
  std::cerr << "consumer: " << e.what() << '\n';
  return 1;
}
