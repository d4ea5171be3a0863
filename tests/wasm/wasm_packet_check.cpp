// Prints the packet the fp32 kernels compute with: in the wasm build, wasm_packet.hpp's four floats
// (a scalar fallback would print 1 and still pass every other test, only slower).
#include <ctresnet/ctresnet.hpp>

#include <cstdio>

int main() {
  std::printf("packet: %d floats (%s)\n", ctresnet::kernels::detail::packet_floats,
              CTRESNET_WASM_PACKET ? "wasm SIMD" : "Eigen's");
}
