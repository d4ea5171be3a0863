// torchvision raises "Dilation > 1 not supported in BasicBlock" at run time; ctresnet refuses to compile.
// expected-error {{"ctresnet::basic_block: dilated stages need bottleneck blocks"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using layout = ctresnet::dilated_layout<ctresnet::torchvision_layout, false, true, true>;
#else
using layout = ctresnet::dilated_layout<ctresnet::torchvision_layout, false, false, false>;
#endif
using net = ctresnet::resnet<ctresnet::basic_block, ctresnet::stages<2, 2, 2, 2>, 1000, ctresnet::imagenet_input, layout>;
static_assert(net::num_params > 0);
int main() {}
