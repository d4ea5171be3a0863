// The web module's weights loading (see digits_model.hpp for why it is a file of its own).
#include "digits_model.hpp"

#include <ctresnet/safetensors.hpp>

#include <exception>

std::string load_digits_weights(digits_net& net, const std::uint8_t* bytes, std::size_t size) {
  try {
    ctresnet::load_safetensors_from_memory(net, bytes, size, "resnet20_digits.safetensors");
  } catch (const std::exception& error) {
    return error.what();
  }
  return {};
}
