// A CIFAR ResNet's depth counts the stem conv, the two convs of each of its 3n blocks and the fc: 6n + 2.
// expected-error {{"ctresnet::cifar::resnet: a CIFAR ResNet has 6n . 2 layers"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
constexpr int depth = 22;
#else
constexpr int depth = 20;
#endif
static_assert(ctresnet::cifar::resnet<depth>::num_params > 0);
int main() {}
