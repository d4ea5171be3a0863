// A quantized ResNeXt: the int8 kernels cover ungrouped convs only, for now.
// expected-error {{"ctresnet::quantized: ResNeXt layouts \(grouped convs, groups other than 1\) are not supported yet"}}
#include <ctresnet/quantized.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using net = ctresnet::quantized<ctresnet::resnext50_32x4d<>>;
#else
using net = ctresnet::quantized<ctresnet::wide_resnet50_2<>>;
#endif
static_assert(net::state_bytes > 0);
int main() {}
