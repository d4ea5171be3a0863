// expected-error {{"the embedded int8 state's fingerprint differs from this network's state_fingerprint"}}
// An int8 weights header written for the digits model (16x16 images), used with the same network
// for 24x24 images: the states have the same size, but the fingerprints differ.
#include <ctresnet/quantized.hpp>

using digits = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>;
#ifdef CTRESNET_SHOULD_FAIL
using used_with = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 24, 24>>;
static_assert(ctresnet::quantized_plan<used_with>::state_bytes == ctresnet::quantized_plan<digits>::state_bytes);
#else
using used_with = digits;
#endif
using plan = ctresnet::quantized_plan<digits>;

// What a generated header defines (its array shortened: only its type matters here).
alignas(64) inline constexpr unsigned char state_data[1] = {0};
inline constexpr ctresnet::embedded_int8_state<plan::state_bytes, plan::state_fingerprint,
                                               ctresnet::build_int8_weight_order>
    state{state_data};

int main() {
  const ctresnet::quantized_view<used_with> net(state);
  return net.state_data() == nullptr;
}
