// expected-error {{"the embedded state has another size than this network's state; the weights header was generated for another network type"}}
// A weights header (ctresnet-embed) written for the digits model, used with the 3x32x32 CIFAR
// ResNet-20: its state holds more floats (3 input channels), and the view does not compile.
#include <ctresnet/ctresnet.hpp>

using digits = ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>;
#ifdef CTRESNET_SHOULD_FAIL
using used_with = ctresnet::cifar::resnet20<>;
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
