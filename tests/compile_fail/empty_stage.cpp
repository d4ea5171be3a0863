// A stage with no blocks.
// expected-error {{"ctresnet::stages: every stage needs at least one block"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using blocks = ctresnet::stages<2, 0, 2, 2>;
#else
using blocks = ctresnet::stages<2, 1, 2, 2>;
#endif
using net = ctresnet::resnet<ctresnet::bottleneck, blocks, 10, ctresnet::imagenet_input, ctresnet::torchvision_layout>;
static_assert(net::num_params > 0);
int main() {}
