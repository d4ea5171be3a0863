// An input with no channels.
// expected-error {{"ctresnet::shape: channels, height and width must all be positive"}}
#include <ctresnet/ctresnet.hpp>

#ifdef CTRESNET_SHOULD_FAIL
using in = ctresnet::shape<0, 224, 224>;
#else
using in = ctresnet::shape<3, 224, 224>;
#endif
static_assert(in::size > 0);
int main() {}
