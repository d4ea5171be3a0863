// A ResNet-152 in the stage-projection layout (5 classes) on a random 1x3x224x224 input: prints the
// output shape. Then the network's summary,
// computed at compile time, and how long the forward pass took.
#include <ctresnet/ctresnet.hpp>

#include <chrono>
#include <iostream>

int main() {
  using net_type = ctresnet::stage_projection::resnet152<>;
  const net_type model;  // Kaiming-normal convs, BatchNorm weight 1 and bias 0, as PyTorch initialises them

  net_type::input_tensor input(1, 3, 224, 224);
  ctresnet::random_generator generator(2021);
  for (Eigen::Index i = 0; i < input.size(); ++i) input.data()[i] = static_cast<float>(generator.normal());

  const auto start = std::chrono::steady_clock::now();
  const net_type::output_tensor out = model.forward(input);
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;

  std::cout << "output shape: [" << out.dimension(0) << ", " << out.dimension(1) << "]\n";
  std::cout << "logits:";
  for (Eigen::Index c = 0; c < out.dimension(1); ++c) std::cout << ' ' << out(0, c);
  std::cout << "\n\n";
  ctresnet::print_summary<net_type>(std::cout, 2);
  std::cout << "\nforward pass: " << elapsed.count() << " ms (1 thread)\n";
}
