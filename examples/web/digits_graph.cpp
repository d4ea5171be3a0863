// Writes the digits model's picture as a Graphviz digraph (ctresnet::write_dot) to the file named
// by its argument; examples/web/CMakeLists.txt runs it under Node and renders it with dot for the page.
#include <ctresnet/ctresnet.hpp>

#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: digits_graph OUTPUT.dot\n";
    return 2;
  }
  std::ofstream out(argv[1]);
  ctresnet::write_dot<ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>>(out, ctresnet::graph_detail::collapsed);
  out.close();
  if (!out) {
    std::cerr << "digits_graph: cannot write " << argv[1] << '\n';
    return 1;
  }
}
