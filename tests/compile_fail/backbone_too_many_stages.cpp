// A backbone keeps some of a network's stages: resnet18 has four, so it cannot keep five.
// expected-error {{"ctresnet::backbone: a backbone keeps between 1 and all of the network's stages"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
constexpr int kept = 5;
#else
constexpr int kept = 4;
#endif
static_assert(ctresnet::backbone<ctresnet::resnet18<>, kept>::num_params > 0);
int main() {}
