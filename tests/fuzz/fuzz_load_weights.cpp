// libFuzzer target: any bytes as a safetensors file, read tensor by tensor and loaded into the tiny
// network, float and int8. A well-formed file either loads or throws weights_error; nothing else
// may happen (no crash, no sanitizer report, no other exception).
#include "../unit/tiny_network.hpp"

#include <ctresnet/quantized/safetensors.hpp>
#include <ctresnet/safetensors.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using ctresnet_tests::tiny_network;
  // Every tensor a header describes, whatever the network: the dtype conversions and the reads.
  try {
    ctresnet::safetensors::reader file(data, size, "fuzz input");
    std::vector<float> values;
    for (const auto& [name, e] : file.entries()) {
      if (!ctresnet::safetensors::is_float_dtype(e.dtype)) continue;
      values.resize((e.end - e.begin) / ctresnet::safetensors::dtype_size(e.dtype));
      file.read_floats(name, values.data());
    }
  } catch (const ctresnet::weights_error&) {
  }

  static tiny_network::input_tensor image(1, 1, 8, 8);
  image.setConstant(0.5f);
  // The int8 loader (tests/malformed/int8_* seed it); a network that took the file also runs.
  static ctresnet::quantized<tiny_network> int8_net;
  try {
    ctresnet::load_int8_safetensors_from_memory(int8_net, data, size, "fuzz input");
    if (int8_net.forward(image).size() != 2) __builtin_trap();
  } catch (const ctresnet::weights_error&) {
  }

  // The whole loader; a network that took the weights also runs.
  static tiny_network net(ctresnet::uninitialized);
  try {
    ctresnet::load_safetensors_from_memory(net, data, size, "fuzz input");
  } catch (const ctresnet::weights_error&) {
    return 0;
  }
  const tiny_network::output_tensor logits = net.forward(image);
  return logits.size() == 2 ? 0 : (__builtin_trap(), 0);
}
