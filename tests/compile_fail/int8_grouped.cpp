// A quantized ResNeXt or Wide ResNet: the int8 kernels and model files cover ungrouped convs of
// torchvision's widths only, for now.
// expected-error {{"ctresnet::quantized: ResNeXt and Wide ResNet layouts"}}
#include <ctresnet/quantized.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using net = ctresnet::quantized<ctresnet::resnext50_32x4d<>>;
#else
using net = ctresnet::quantized<ctresnet::resnet50<>>;
#endif
static_assert(net::state_bytes > 0);
int main() {}
