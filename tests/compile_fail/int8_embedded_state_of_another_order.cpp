// expected-error {{"ctresnet::quantized_view: the embedded int8 state holds its weights in [a-z_]+ .the order of builds [^)]*., but this build's kernels read them in another packing"}}
// An int8 weights header written in the order that another build's kernels read (rows for a
// Cortex-M, written on a host with AVX2, or panels the other way round), included in this build:
// its weights would be read in the wrong order, so the view does not compile.
#include <ctresnet/quantized.hpp>

using digits = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>;
using plan = ctresnet::quantized_plan<digits>;
constexpr ctresnet::int8_weight_order this_build = ctresnet::build_int8_weight_order;
#ifdef CTRESNET_SHOULD_FAIL
constexpr ctresnet::int8_weight_order written = this_build == ctresnet::int8_weight_order::rows
                                                    ? ctresnet::int8_weight_order::panels
                                                    : ctresnet::int8_weight_order::rows;
#else
constexpr ctresnet::int8_weight_order written = this_build;
#endif

// What a generated header defines (its array shortened: only its type matters here).
alignas(64) inline constexpr unsigned char state_data[1] = {0};
inline constexpr ctresnet::embedded_int8_state<plan::state_bytes, plan::state_fingerprint, written> state{state_data};

int main() {
  const ctresnet::quantized_view<digits> net(state);
  return net.state_data() == nullptr;
}
