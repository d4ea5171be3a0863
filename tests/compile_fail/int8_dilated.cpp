// A quantized network with dilated stages: not supported yet.
// expected-error {{"ctresnet::quantized: dilated stages are not supported yet"}}
#include <ctresnet/quantized.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using layout = ctresnet::dilated_layout<ctresnet::torchvision_layout, false, true, true>;
#else
using layout = ctresnet::dilated_layout<ctresnet::torchvision_layout, false, false, false>;
#endif
using float_net = ctresnet::resnet<ctresnet::bottleneck, ctresnet::stages<3, 4, 6, 3>, 1000, ctresnet::imagenet_input, layout>;
using net = ctresnet::quantized<float_net>;
static_assert(net::state_bytes > 0);
int main() {}
