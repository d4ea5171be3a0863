// A ResNet without stages.
// expected-error {{"ctresnet::stages: the block list is empty; a ResNet needs at least one stage"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using blocks = ctresnet::stages<>;
#else
using blocks = ctresnet::stages<1>;
#endif
using net = ctresnet::resnet<ctresnet::basic_block, blocks, 10, ctresnet::imagenet_input, ctresnet::torchvision_layout>;
static_assert(net::num_params > 0);
int main() {}
