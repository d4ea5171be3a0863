// Linked into test_int8_avx2 and compiled with its flags: its build fails if they give other int8
// kernels than AVX2's (a -march after -march=x86-64-v3, a compiler that ignores it), so that the
// int8.avx2.<case> tests cannot pass on the kernels the other tests check already.
#include <ctresnet/quantized/conv.hpp>

#include <string_view>

static_assert(std::string_view(ctresnet::kernels::int8::instruction_set) == "AVX2",
              "tests/int8: the AVX2 leg is built for other int8 kernels than AVX2's");
