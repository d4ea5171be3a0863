// torchvision's BasicBlock supports neither groups nor another width per group; neither does ctresnet's.
// expected-error {{"ctresnet::basic_block: groups and width_per_group apply to bottleneck blocks only"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using layout = ctresnet::grouped_layout<32, 4>;
#else
using layout = ctresnet::torchvision_layout;
#endif
using net = ctresnet::resnet<ctresnet::basic_block, ctresnet::stages<2, 2, 2, 2>, 1000, ctresnet::imagenet_input, layout>;
static_assert(net::num_params > 0);
int main() {}
