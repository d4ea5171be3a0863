// expected-error {{"the embedded state's fingerprint differs from this network's state_fingerprint; the weights header was generated for another network type"}}
// A weights header written for the digits model without Winograd (16x16 images), used with the
// same network for 24x24 images: the states have the same size, but the fingerprints differ.
#include <ctresnet/ctresnet.hpp>

using layout = ctresnet::without_winograd<ctresnet::cifar_layout>;
using digits = ctresnet::cifar::resnet<20, 10, ctresnet::shape<1, 16, 16>, layout>;
#ifdef CTRESNET_SHOULD_FAIL
using used_with = ctresnet::cifar::resnet<20, 10, ctresnet::shape<1, 24, 24>, layout>;
static_assert(used_with::state_floats == digits::state_floats);
#else
using used_with = digits;
#endif

// What a generated header defines (its array shortened: only its type matters here).
alignas(64) inline constexpr float state_data[1] = {0x0p+0f};
inline constexpr ctresnet::embedded_state<digits::state_floats, digits::state_fingerprint> state{state_data};

int main() {
  const ctresnet::network_view<used_with> net(state);
  return net.state_data() == nullptr;
}
