// A batch_norm sized for another channel count than the layer before it.
// expected-error {{"ctresnet::batch_norm: its channel count differs from the previous layer's output channels"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using norm = ctresnet::batch_norm<32>;
#else
using norm = ctresnet::batch_norm<64>;
#endif
using out = norm::output_shape<ctresnet::shape<64, 56, 56>>;
static_assert(out::channels == 64);
int main() {}
