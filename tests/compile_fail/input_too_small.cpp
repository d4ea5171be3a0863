// The stage-projection layout's fixed 7x7 average pool needs a 7x7 feature map, which a 64x64 input
// (downsampled 32 times) does not give.
// expected-error {{"ctresnet::resnet: the input is too small for the network's downsamplings"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using in = ctresnet::shape<3, 64, 64>;
#else
using in = ctresnet::shape<3, 224, 224>;
#endif
static_assert(ctresnet::stage_projection::resnet18<5, in>::num_params > 0);
int main() {}
