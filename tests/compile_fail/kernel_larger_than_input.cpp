// A 7x7 kernel without padding on a 5x5 input.
// expected-error {{"ctresnet::conv2d: the kernel .spread by its dilation. is larger than the padded input"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using in = ctresnet::shape<3, 5, 5>;
#else
using in = ctresnet::shape<3, 7, 7>;
#endif
using out = ctresnet::conv2d<3, 16, 7, 1, 0>::output_shape<in>;
static_assert(out::height == 1);
int main() {}
