// The digits model as the web module holds it, shared by its two files: digits_module.cpp (the C
// API and the forward pass, compiled for speed) and digits_load.cpp (the safetensors loader,
// compiled for size: its JSON parsing and messages are most of the module's code, and run once).
#pragma once

#include "digits_transform.hpp"

#include <ctresnet/ctresnet.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

using digits_net = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>;

/// Loads a safetensors file's bytes into `net` through ctresnet's loader. Returns an empty
/// string, or the loader's message (and leaves `net` as it was).
std::string load_digits_weights(digits_net& net, const std::uint8_t* bytes, std::size_t size);
