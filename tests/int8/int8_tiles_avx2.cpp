// Checked by the syntax tests with -march=x86-64-v3: the int8 convs' AVX2 tile, which the other
// sources (compiled for the host's baseline there) do not reach, with the same warnings, under
// g++ and clang++, C++17 and C++20.
#include <ctresnet/quantized.hpp>

#include <string_view>

static_assert(std::string_view(ctresnet::kernels::int8::instruction_set) == "AVX2");

// A network's forward pass instantiates every tile and kernel the conv and the classifier use.
template class ctresnet::quantized<ctresnet::resnet18<>>;
