// Checked by the syntax tests with -mavx512f -mavx512bw -mavx512vnni (on top of x86-64-v3): the
// int8 convs' AVX-512 VNNI tile, which the other sources (compiled for the host's baseline there)
// do not reach, with the same warnings, under g++ and clang++, C++17 and C++20.
#include <ctresnet/quantized.hpp>

#include <string_view>

static_assert(std::string_view(ctresnet::kernels::int8::instruction_set) == "AVX-512 VNNI");

// A network's forward pass instantiates every tile and kernel the conv and the classifier use.
template class ctresnet::quantized<ctresnet::resnet18<>>;
