// A conv2d fed by a layer with another channel count.
// expected-error {{"ctresnet::conv2d: input channels differ from the previous layer's output channels"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using previous_output = ctresnet::shape<32, 56, 56>;
#else
using previous_output = ctresnet::shape<64, 56, 56>;
#endif
using out = ctresnet::conv2d<64, 128, 3, 2>::output_shape<previous_output>;
static_assert(out::channels == 128);
int main() {}
