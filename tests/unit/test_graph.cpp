// write_dot: the Graphviz picture of a network type, checked against the type's own facts (stage
// and block counts, visit_layers' names and shapes).
#include "tiny_network.hpp"

#include <ctresnet/ctresnet.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {
using namespace ctresnet;

/// What a DOT text declares: node labels (escapes undone), edges, clusters.
struct dot_graph {
  std::string text;
  std::vector<std::string> nodes;  // in order of declaration
  std::map<std::string, std::string> labels;
  std::vector<std::pair<std::string, std::string>> edges;
  std::vector<std::string> clusters;

  bool has_edge(const std::string& from, const std::string& to) const {
    for (const auto& e : edges)
      if (e.first == from && e.second == to) return true;
    return false;
  }
  std::string label(const std::string& node) const {
    const auto found = labels.find(node);
    return found == labels.end() ? "(no node " + node + ")" : found->second;
  }
};

/// The quoted string that starts at text[start] (a '"'), its escapes undone; `end` goes past it.
std::string unquote(const std::string& text, std::size_t start, std::size_t& end) {
  std::string value;
  std::size_t i = start + 1;
  for (; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
      value += text[i] == 'n' ? '\n' : text[i];
    } else {
      value += text[i];
    }
  }
  end = i + 1;
  return value;
}

/// Reads what write_dot writes: one statement a line.
dot_graph parse(const std::string& text) {
  dot_graph g;
  g.text = text;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    std::size_t end = 0;
    if (line.compare(first, 9, "subgraph ") == 0) {
      g.clusters.push_back(unquote(line, first + 9, end));
      continue;
    }
    if (line[first] != '"') continue;
    const std::string id = unquote(line, first, end);
    if (line.compare(end, 4, " -> ") == 0) {
      g.edges.emplace_back(id, unquote(line, end + 4, end));
    } else if (line.compare(end, 8, " [label=") == 0) {
      g.nodes.push_back(id);
      g.labels[id] = unquote(line, end + 8, end);
    }
  }
  return g;
}

template <class Net>
dot_graph graph_of(graph_detail level) {
  std::ostringstream out;
  write_dot<Net>(out, level);
  return parse(out.str());
}

struct counts {
  int nodes, edges;
};

/// What write_dot should draw for Net, counted from its type: the input, the stem's conv (and max
/// pool), each drawn block's convs, its add and its shortcut's node (none for the identity), a
/// "×N" node for each collapsed stage of more than one block, then the pool, fc and logits, or a
/// backbone's feature map. Every node but the input has one edge in, and each add a second.
template <class Net>
counts expected_counts(graph_detail level, int convs_per_block, int shortcut_nodes) {
  int nodes = 2 + (Net::stem_type::pooled ? 1 : 0) + (Net::has_classifier ? 3 : 1) + shortcut_nodes;
  int blocks_drawn = 0;
  for (const int blocks : Net::blocks_per_stage) {
    const int drawn = level == graph_detail::full ? blocks : 1;
    blocks_drawn += drawn;
    nodes += drawn * (convs_per_block + 1) + (level == graph_detail::collapsed && blocks > 1 ? 1 : 0);
  }
  return {nodes, nodes - 1 + blocks_drawn};
}

template <class Net>
void check_counts(int convs_per_block, int shortcut_nodes) {
  for (const graph_detail level : {graph_detail::collapsed, graph_detail::full}) {
    CAPTURE(level == graph_detail::full);
    const dot_graph g = graph_of<Net>(level);
    const counts expected = expected_counts<Net>(level, convs_per_block, shortcut_nodes);
    CHECK(g.nodes.size() == std::size_t(expected.nodes));
    CHECK(g.labels.size() == g.nodes.size());  // no node declared twice
    CHECK(g.edges.size() == std::size_t(expected.edges));
    CHECK(g.clusters.size() == std::size_t(Net::num_stages));
    for (const auto& edge : g.edges) {
      CAPTURE(edge.first);
      CAPTURE(edge.second);
      CHECK(g.labels.count(edge.first) == 1);  // no edge to or from an undeclared node
      CHECK(g.labels.count(edge.second) == 1);
    }
  }
}

/// "3x3 conv, 128, /2, groups 32" for visit_layers' "Conv2d 3x3/2, 32 groups".
std::string conv_text(const layer_info& layer) {
  int kernel = 0, kernel_width = 0, stride = 0;
  REQUIRE(std::sscanf(layer.type.c_str(), "Conv2d %dx%d/%d", &kernel, &kernel_width, &stride) == 3);
  std::string text = std::to_string(kernel) + "x" + std::to_string(kernel) + " conv, " + std::to_string(layer.channels);
  if (stride != 1) text += ", /" + std::to_string(stride);
  const std::size_t groups = layer.type.find(" groups");
  if (groups != std::string::npos) {
    const std::size_t comma = layer.type.rfind(", ", groups);
    text += ", groups " + layer.type.substr(comma + 2, groups - comma - 2);
  }
  const std::size_t dilation = layer.type.find("dilation ");
  if (dilation != std::string::npos) text += ", " + layer.type.substr(dilation);
  return text;
}

bool starts_with(const std::string& text, const std::string& start) { return text.rfind(start, 0) == 0; }
bool ends_with(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

/// In the full picture, every conv, pool and zero-padded shortcut that visit_layers names is a node
/// labelled with that name, its kernel, width, stride, groups and dilation, and its output shape.
template <class Net>
void check_layers_drawn() {
  const dot_graph g = graph_of<Net>(graph_detail::full);
  int checked = 0;
  Net::visit_layers([&](const layer_info& layer) {
    const bool conv = starts_with(layer.type, "Conv2d ");
    if (!conv && !starts_with(layer.type, "ZeroPadShortcut") && layer.type.find("Pool2d") == std::string::npos)
      return;
    CAPTURE(layer.name);
    const std::string shape = "[" + std::to_string(layer.channels) + ", " + std::to_string(layer.height) + ", " +
                              std::to_string(layer.width) + "]";
    const std::string label = g.label(layer.name);
    CHECK(starts_with(label, layer.name + "\n" + (conv ? conv_text(layer) + " + BN" : "")));
    CHECK(ends_with(label, "\n" + shape));
    ++checked;
  });
  CHECK(checked > 0);
}

using small_resnet18 = resnet18<10, shape<3, 64, 64>>;
using dilated_resnet50 = resnet<bottleneck, stages<3, 4, 6, 3>, 21, imagenet_input,
                                dilated_layout<torchvision_layout, false, true, true>>;
}  // namespace

TEST_CASE("node and edge counts follow the block counts, collapsed and full, and every edge joins two nodes") {
  // (convs per block, blocks whose shortcut is a node: a projection or a zero padding)
  SUBCASE("tiny network: one block, the identity") { check_counts<ctresnet_tests::tiny_network>(2, 0); }
  SUBCASE("resnet18: projections in layer2 to layer4") { check_counts<resnet18<>>(2, 3); }
  SUBCASE("resnet18 on 64x64 images") { check_counts<small_resnet18>(2, 3); }
  SUBCASE("resnet50: a projection in every stage") { check_counts<resnet50<>>(3, 4); }
  SUBCASE("resnet152") { check_counts<resnet152<>>(3, 4); }
  SUBCASE("stage-projection resnet18: a projection in every stage") { check_counts<stage_projection::resnet18<>>(2, 4); }
  SUBCASE("CIFAR resnet20, option A: zero padding in layer2 and layer3") { check_counts<cifar::resnet20<>>(2, 2); }
  SUBCASE("CIFAR resnet56, option B") {
    check_counts<cifar::resnet56<10, cifar_input, cifar_projection_layout>>(2, 2);
  }
  SUBCASE("a backbone of resnet50's first three stages") { check_counts<backbone<resnet50<>, 3>>(3, 3); }
}

TEST_CASE("every conv and pool is drawn with its PyTorch name, its parameters and its output shape") {
  SUBCASE("resnet18") { check_layers_drawn<resnet18<>>(); }
  SUBCASE("resnet50") { check_layers_drawn<resnet50<>>(); }
  SUBCASE("ResNet v1: the stride on the first 1x1") { check_layers_drawn<v1::resnet50<>>(); }
  SUBCASE("ResNeXt: grouped 3x3 convs") { check_layers_drawn<resnext50_32x4d<>>(); }
  SUBCASE("dilated layer3 and layer4") { check_layers_drawn<dilated_resnet50>(); }
  SUBCASE("stage-projection resnet18: nn.Sequential names, a fixed average pool") {
    check_layers_drawn<stage_projection::resnet18<>>();
  }
  SUBCASE("CIFAR resnet20, option A") { check_layers_drawn<cifar::resnet20<>>(); }
  SUBCASE("tiny network") { check_layers_drawn<ctresnet_tests::tiny_network>(); }
}

TEST_CASE("resnet18: the stem, a block in full, a projection beside it, the identity as an edge") {
  const dot_graph g = graph_of<resnet18<>>(graph_detail::collapsed);
  CHECK(starts_with(g.text, "digraph resnet {\n"));
  CHECK(g.text.find("rankdir=TB") != std::string::npos);
  CHECK(ends_with(g.text, "}\n"));
  CHECK(g.clusters == std::vector<std::string>{"cluster_layer1", "cluster_layer2", "cluster_layer3", "cluster_layer4"});

  CHECK(g.label("input") == "input\n[3, 224, 224]");
  CHECK(g.label("conv1") == "conv1\n7x7 conv, 64, /2 + BN + ReLU\n[64, 112, 112]");
  CHECK(g.label("maxpool") == "maxpool\n3x3 max pool, /2\n[64, 56, 56]");
  CHECK(g.has_edge("input", "conv1"));
  CHECK(g.has_edge("conv1", "maxpool"));

  // layer1.0: two convs, the add, and the identity from the block's input to the add.
  CHECK(g.label("layer1.0.conv1") == "layer1.0.conv1\n3x3 conv, 64 + BN + ReLU\n[64, 56, 56]");
  CHECK(g.label("layer1.0.conv2") == "layer1.0.conv2\n3x3 conv, 64 + BN\n[64, 56, 56]");
  CHECK(g.has_edge("maxpool", "layer1.0.conv1"));
  CHECK(g.has_edge("layer1.0.conv2", "layer1.0.add"));
  CHECK(g.has_edge("maxpool", "layer1.0.add"));
  CHECK(g.labels.count("layer1.0.downsample.0") == 0);

  // layer2.0: a strided projection from layer1's output to the add.
  CHECK(g.label("layer2.0.conv1") == "layer2.0.conv1\n3x3 conv, 128, /2 + BN + ReLU\n[128, 28, 28]");
  CHECK(g.label("layer2.0.downsample.0") == "layer2.0.downsample.0\n1x1 conv, 128, /2 + BN\n[128, 28, 28]");
  CHECK(g.has_edge("layer1.1", "layer2.0.downsample.0"));
  CHECK(g.has_edge("layer2.0.downsample.0", "layer2.0.add"));

  // Collapsed: the second block of each stage is one node.
  CHECK(g.label("layer1.1") == "layer1.1\nBasicBlock ×1\n[64, 56, 56]");
  CHECK(g.label("layer4.1") == "layer4.1\nBasicBlock ×1\n[512, 7, 7]");
  CHECK(g.has_edge("layer4.0.add", "layer4.1"));

  CHECK(g.label("avgpool") == "avgpool\nadaptive avg pool\n[512, 1, 1]");
  CHECK(g.label("fc") == "fc\nfully connected, 1000\n[1000]");
  CHECK(g.has_edge("layer4.1", "avgpool"));
  CHECK(g.has_edge("fc", "logits"));
}

TEST_CASE("a collapsed stage draws its repeated blocks as one node, a full stage every block") {
  const dot_graph collapsed = graph_of<resnet50<>>(graph_detail::collapsed);
  CHECK(collapsed.label("layer1.1 … layer1.2") == "layer1.1 … layer1.2\nBottleneck ×2\n[256, 56, 56]");
  CHECK(collapsed.label("layer3.1 … layer3.5") == "layer3.1 … layer3.5\nBottleneck ×5\n[1024, 14, 14]");
  CHECK(collapsed.labels.count("layer3.5.conv3") == 0);

  const dot_graph full = graph_of<resnet50<>>(graph_detail::full);
  CHECK(full.text.find("×") == std::string::npos);
  CHECK(full.label("layer3.5.conv3") == "layer3.5.conv3\n1x1 conv, 1024 + BN\n[1024, 14, 14]");
  CHECK(full.has_edge("layer3.4.add", "layer3.5.conv1"));
  CHECK(full.has_edge("layer3.4.add", "layer3.5.add"));  // the identity
  CHECK(full.has_edge("layer3.5.add", "layer4.0.conv1"));
}

TEST_CASE("the stage-projection layout draws the projection of layer1 that torchvision's lacks") {
  const dot_graph g = graph_of<stage_projection::resnet18<>>(graph_detail::collapsed);
  CHECK(g.label("layer1.0.downsample.0") == "layer1.0.downsample.0\n1x1 conv, 64 + BN\n[64, 56, 56]");
  CHECK(g.has_edge("maxpool", "layer1.0.downsample.0"));
  CHECK(g.label("layer1.0.basicblock.0") == "layer1.0.basicblock.0\n3x3 conv, 64 + BN + ReLU\n[64, 56, 56]");
  CHECK(g.label("avgpool") == "avgpool\n7x7 avg pool, /1\n[512, 1, 1]");
  CHECK(g.label("fc") == "fc\nfully connected, 5\n[5]");
}

TEST_CASE("a CIFAR network's zero-padded shortcut (option A) is a node of its own") {
  const dot_graph g = graph_of<cifar::resnet20<>>(graph_detail::collapsed);
  CHECK(g.label("conv1") == "conv1\n3x3 conv, 16 + BN + ReLU\n[16, 32, 32]");
  CHECK(g.labels.count("maxpool") == 0);
  CHECK(g.label("layer2.0.shortcut") == "layer2.0.shortcut\nsubsample /2, zero-pad to 32 channels\n[32, 16, 16]");
  CHECK(g.label("layer3.0.shortcut") == "layer3.0.shortcut\nsubsample /2, zero-pad to 64 channels\n[64, 8, 8]");
  CHECK(g.has_edge("layer1.1 … layer1.2", "layer2.0.shortcut"));
  CHECK(g.has_edge("layer2.0.shortcut", "layer2.0.add"));
  CHECK(g.text.find("downsample") == std::string::npos);

  using option_b_resnet20 = cifar::resnet20<10, cifar_input, cifar_projection_layout>;
  const dot_graph option_b = graph_of<option_b_resnet20>(graph_detail::collapsed);
  CHECK(option_b.label("layer2.0.downsample.0") == "layer2.0.downsample.0\n1x1 conv, 32, /2 + BN\n[32, 16, 16]");
  CHECK(option_b.text.find("zero-pad") == std::string::npos);
}

TEST_CASE("a backbone ends in its feature map, without pool or classifier") {
  const dot_graph g = graph_of<backbone<resnet50<>, 3>>(graph_detail::collapsed);
  CHECK(g.label("features") == "features\n[1024, 14, 14]");
  CHECK(g.has_edge("layer3.1 … layer3.5", "features"));
  CHECK(g.nodes.back() == "features");
  for (const char* absent : {"avgpool", "fc", "logits"}) CHECK(g.labels.count(absent) == 0);
  CHECK(g.clusters.size() == 3);
}
