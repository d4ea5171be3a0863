// ctresnet's int8 networks: ctresnet::quantized<Net>, the quantized twin of a float network type,
// equal to PyTorch's quantized model bit for bit (docs/int8.md). Not part of <ctresnet/ctresnet.hpp>,
// so that float programs compile none of it. quantized_view<Net> runs one from a state it borrows
// (weights compiled into flash: <ctresnet/embed.hpp>). Loading a model file is in
// <ctresnet/quantized/safetensors.hpp>, which also needs nlohmann/json.
#pragma once

#include <ctresnet/ctresnet.hpp>
#include <ctresnet/quantized/kernels.hpp>
#include <ctresnet/quantized/conv.hpp>
#include <ctresnet/quantized/parameters.hpp>
#include <ctresnet/quantized/state.hpp>
#include <ctresnet/quantized/parts.hpp>
#include <ctresnet/quantized/plan.hpp>
#include <ctresnet/quantized/runner.hpp>
#include <ctresnet/quantized/api.hpp>
#include <ctresnet/quantized/network.hpp>
#include <ctresnet/quantized/weight_order.hpp>
#include <ctresnet/quantized/view.hpp>
