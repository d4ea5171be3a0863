// Classifying one image from code: what a program that uses ctresnet writes. docs/classify.md shows it.
//   classify_one_image resnet50.safetensors cat.jpg
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/preprocess.hpp>
#include <ctresnet/safetensors.hpp>
#include <stb_image.h>  // Debian: apt-get install libstb-dev, link with -lstb

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) return std::cerr << "usage: classify_one_image WEIGHTS.safetensors IMAGE\n", 2;
  using net_type = ctresnet::resnet50<>;
  net_type net(ctresnet::uninitialized);     // no random weights: they are loaded next
  ctresnet::load_safetensors(net, argv[1]);  // throws ctresnet::weights_error if the file does not fit

  int width = 0, height = 0, channels = 0;
  unsigned char* rgb = stbi_load(argv[2], &width, &height, &channels, 3);  // gray and RGBA become RGB
  if (!rgb) return std::cerr << argv[2] << ": " << stbi_failure_reason() << '\n', 1;
  net_type::input_tensor x(1, 3, 224, 224);
  ctresnet::imagenet_eval_transform{}({rgb, width, height, 3}, x.data());  // Resize(256), CenterCrop(224), ...
  stbi_image_free(rgb);

  const net_type::output_tensor logits = net.forward(x);  // (1, 1000)
  Eigen::Index best = 0;
  for (Eigen::Index c = 1; c < logits.dimension(1); ++c)
    if (logits(0, c) > logits(0, best)) best = c;
  std::cout << "class " << best << " (logit " << logits(0, best) << ")\n";
}
