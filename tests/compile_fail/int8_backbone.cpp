// A quantized backbone: quantized networks end in their classifier, for now.
// expected-error {{"ctresnet::quantized: backbones \(layouts without_classifier\) are not supported yet"}}
#include <ctresnet/quantized.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using net = ctresnet::quantized<ctresnet::backbone<ctresnet::resnet18<>, 3>>;
#else
using net = ctresnet::quantized<ctresnet::resnet18<>>;
#endif
static_assert(net::state_bytes > 0);
int main() {}
