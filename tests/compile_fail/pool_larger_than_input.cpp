// A 3x3 max pool without padding on a 2x2 feature map.
// expected-error {{"ctresnet::pool: the pooling window is larger than its \(padded\) input"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using in = ctresnet::shape<64, 2, 2>;
#else
using in = ctresnet::shape<64, 3, 3>;
#endif
using out = ctresnet::max_pool2d<3, 2, 0>::output_shape<in>;
static_assert(out::height == 1);
int main() {}
