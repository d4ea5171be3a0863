// A picture of a network: its type drawn as a Graphviz digraph, layer by layer with output shapes.
#pragma once
// IWYU pragma: private, include <ctresnet/ctresnet.hpp>

#include <ctresnet/blocks.hpp>
#include <ctresnet/layout.hpp>
#include <ctresnet/summary.hpp>

#include <cstddef>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>

namespace ctresnet {

/// How much of a network write_dot draws.
enum class graph_detail {
  collapsed,  // each stage's first block in full, the identical blocks after it as one node
  full        // every block in full
};

namespace detail {

/// The shortcut kind and stride of a block's shortcut type.
template <class Shortcut>
struct drawn_shortcut;
template <shortcut_kind Kind, class In, int OutChannels, int Stride>
struct drawn_shortcut<shortcut<Kind, In, OutChannels, Stride>> {
  static constexpr shortcut_kind kind = Kind;
  static constexpr int stride = Stride;
};

/// A block's main-branch convs (conv_bn types) as a tuple, found through its block_parts base.
template <class Kind, class Layout, class Shortcut, class... Convs>
std::tuple<Convs...> main_branch(const block_parts<Kind, Layout, Shortcut, Convs...>*);
template <class Block>
using main_branch_t = decltype(main_branch(static_cast<const Block*>(nullptr)));

/// "[64, 56, 56]"
template <class Shape>
std::string shape_label() {
  return "[" + std::to_string(Shape::channels) + ", " + std::to_string(Shape::height) + ", " +
         std::to_string(Shape::width) + "]";
}

/// "3x3 conv, 128, /2, groups 32", as the ResNet paper's figures write a conv.
template <class ConvBn>
std::string conv_label() {
  using c = typename ConvBn::conv;
  const std::string k = std::to_string(c::kernel);
  std::string text = k + "x" + k + " conv, " + std::to_string(c::out_channels);
  if (c::stride != 1) text += ", /" + std::to_string(c::stride);
  if (c::groups != 1) text += ", groups " + std::to_string(c::groups);
  if (c::dilation != 1) text += ", dilation " + std::to_string(c::dilation);
  return text;
}

// Node and edge styles. The main path's edges weigh more than the shortcuts', which keeps the
// main path a straight vertical line and sends each shortcut around its block at the side.
inline constexpr const char* conv_style = "";
inline constexpr const char* add_style = "shape=ellipse, fillcolor=\"#eeeeee\", width=1.2";
inline constexpr const char* repeated_style = "fillcolor=\"#c6dbef\", peripheries=2";
inline constexpr const char* pool_style = "fillcolor=\"#e5f5e0\"";
inline constexpr const char* end_style = "style=\"rounded\", width=1.2";
inline constexpr const char* projection_style = "fillcolor=\"#fdd0a2\"";
inline constexpr const char* zero_padded_style = "fillcolor=\"#fff3c4\", style=\"rounded,filled,dashed\"";
inline constexpr const char* main_edge = "weight=20";
// A shortcut leaves the block's input on the right and enters the add from the right.
inline constexpr const char* identity_edge = "color=\"#e6550d\", tailport=e, headport=e";
inline constexpr const char* shortcut_in_edge = "color=\"#e6550d\", tailport=e";
inline constexpr const char* shortcut_out_edge = "color=\"#e6550d\", headport=e";

/// Writes DOT statements, one a line, quoting every name and label.
class dot_writer {
 public:
  explicit dot_writer(std::ostream& out) : out_(out) {}

  void node(const std::string& id, const std::string& label, const char* attributes) {
    out_ << indent_ << quoted(id) << " [label=" << quoted(label) << (*attributes ? ", " : "") << attributes << "];\n";
  }
  /// Edges wait for finish(): one written inside a cluster would pull its ends into the cluster.
  void edge(const std::string& from, const std::string& to, const char* attributes = main_edge) {
    edges_ += "  " + quoted(from) + " -> " + quoted(to) + " [" + attributes + "];\n";
  }
  void finish() { out_ << edges_ << "}\n"; }
  void begin_cluster(const std::string& name) {
    out_ << indent_ << "subgraph " << quoted("cluster_" + name) << " {\n";
    indent_ += "  ";
    out_ << indent_ << "label=" << quoted(name) << ";\n";
  }
  void end_cluster() {
    indent_.resize(indent_.size() - 2);
    out_ << indent_ << "}\n";
  }

 private:
  /// A DOT string: quotes and backslashes escaped, line breaks as DOT's centred "\n".
  static std::string quoted(const std::string& text) {
    std::string q = "\"";
    for (const char c : text) {
      if (c == '\n') {
        q += "\\n";
        continue;
      }
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + '"';
  }

  std::ostream& out_;
  std::string indent_ = "  ";
  std::string edges_;
};

/// One block: its convs down the main path, its shortcut beside them, the add and ReLU where they
/// meet. Returns the add's node, the block's output.
template <class Kind, class Layout, class Block, std::size_t... I>
std::string draw_block(dot_writer& dot, const std::string& name, const std::string& input,
                       std::index_sequence<I...>) {
  using convs = main_branch_t<Block>;
  const std::string prefix = name + ".";
  std::string previous = input;
  const auto draw_conv = [&](auto index) {
    constexpr int i = decltype(index)::value;
    using conv = std::tuple_element_t<i, convs>;
    const std::string id = prefix + Layout::block_conv_name(Kind::family, i);
    const char* const after = i + 1 == int(sizeof...(I)) ? " + BN" : " + BN + ReLU";  // ReLU follows the add
    dot.node(id, id + "\n" + conv_label<conv>() + after + "\n" + shape_label<typename conv::output>(), conv_style);
    dot.edge(previous, id);
    previous = id;
  };
  (draw_conv(std::integral_constant<int, int(I)>{}), ...);

  const std::string add = prefix + "add";
  dot.node(add, "add, ReLU", add_style);
  dot.edge(previous, add);

  using side = typename Block::shortcut;
  using drawn = drawn_shortcut<side>;
  if constexpr (drawn::kind == shortcut_kind::identity) {
    dot.edge(input, add, identity_edge);
  } else {
    std::string id, label;
    if constexpr (drawn::kind == shortcut_kind::projection) {
      id = prefix + Layout::downsample_conv_name();
      label = id + "\n" + conv_label<typename side::projection>() + " + BN";
    } else {
      id = prefix + "shortcut";
      label = id + "\n" + (drawn::stride != 1 ? "subsample /" + std::to_string(drawn::stride) + ", " : "") +
              "zero-pad to " + std::to_string(side::output::channels) + " channels";
    }
    dot.node(id, label + "\n" + shape_label<typename side::output>(),
             drawn::kind == shortcut_kind::projection ? projection_style : zero_padded_style);
    dot.edge(input, id, shortcut_in_edge);
    dot.edge(id, add, shortcut_out_edge);
  }
  return add;
}

template <class Kind, class Layout, class Block>
std::string draw_block(dot_writer& dot, const std::string& name, const std::string& input) {
  return draw_block<Kind, Layout, Block>(dot, name, input,
                                         std::make_index_sequence<std::tuple_size_v<main_branch_t<Block>>>{});
}

/// Stage I in a cluster of its own; `previous` is the node before it, and then its last node.
template <class Net, std::size_t I>
void draw_stage(dot_writer& dot, std::string& previous, graph_detail level) {
  using layout = typename Net::layout;
  using kind = typename Net::block_type;
  using stage = std::tuple_element_t<I, typename Net::stage_types>;
  constexpr int blocks = Net::blocks_per_stage[I];
  const std::string name = layout::stage_name(int(I));
  dot.begin_cluster(name);
  previous = draw_block<kind, layout, typename stage::first>(dot, name + ".0", previous);
  if (level == graph_detail::full) {
    for (int b = 1; b < blocks; ++b)
      previous = draw_block<kind, layout, typename stage::repeated>(dot, name + "." + std::to_string(b), previous);
  } else if (blocks > 1) {
    std::string id = name + ".1";
    if (blocks > 2) id += " … " + name + "." + std::to_string(blocks - 1);
    dot.node(id,
             id + "\n" + kind::type_name + " ×" + std::to_string(blocks - 1) + "\n" +
                 shape_label<typename stage::repeated::output>(),
             repeated_style);
    dot.edge(previous, id);
    previous = id;
  }
  dot.end_cluster();
}

template <class Net, std::size_t... I>
void draw_stages(dot_writer& dot, std::string& previous, graph_detail level, std::index_sequence<I...>) {
  (draw_stage<Net, I>(dot, previous, level), ...);
}

template <class Net, std::size_t... I>
std::string stages_label(std::index_sequence<I...>) {
  std::string text;
  ((text += (I == 0 ? "" : ", ") + std::to_string(Net::blocks_per_stage[I])), ...);
  return "[" + text + "]";
}

}  // namespace detail

/// Writes Net as a Graphviz digraph, top to bottom: the input and its shape, the stem, each stage
/// in a box of its own with every conv's PyTorch name, kernel, width, stride and output shape, each
/// block's shortcut beside it (a projection or a zero-padding as a node of its own, the identity as
/// an edge), then the pool and classifier or, for a backbone, the feature map. Collapsed, a
/// stage's blocks after its first, all alike, are one node ("Bottleneck ×5"). Render it with
/// `dot -Tsvg`.
template <class Net>
void write_dot(std::ostream& out, graph_detail level = graph_detail::collapsed) {
  using layout = typename Net::layout;
  using stem = typename Net::stem_type;
  constexpr auto stage_indices = std::make_index_sequence<Net::num_stages>{};
  out << "digraph resnet {\n"
         "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.25, labelloc=t,\n"
         "         label=\""
      << Net::block_type::type_name << " stages " << detail::stages_label<Net>(stage_indices) << ", "
      << detail::with_thousands(Net::num_params)
      << " parameters\"];\n"
         "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#deebf7\", fontname=\"Helvetica\", fontsize=10,\n"
         "        margin=\"0.12,0.04\", width=2.3, height=0.3];\n"
         "  edge [arrowsize=0.6, color=\"#555555\"];\n";
  detail::dot_writer dot(out);

  dot.node("input", "input\n" + detail::shape_label<typename Net::input_shape>(), detail::end_style);
  std::string previous = layout::stem_conv_name();
  dot.node(previous,
           previous + "\n" + detail::conv_label<typename stem::conv>() + " + BN + ReLU\n" +
               detail::shape_label<typename stem::conv::output>(),
           detail::conv_style);
  dot.edge("input", previous);
  if constexpr (stem::pooled) {
    using pool = typename stem::pool;
    const std::string k = std::to_string(pool::kernel);
    dot.node("maxpool",
             "maxpool\n" + k + "x" + k + " max pool, /" + std::to_string(pool::stride) + "\n" +
                 detail::shape_label<typename stem::output>(),
             detail::pool_style);
    dot.edge(previous, "maxpool");
    previous = "maxpool";
  }

  detail::draw_stages<Net>(dot, previous, level, stage_indices);

  if constexpr (Net::has_classifier) {
    using head = typename Net::head_type;
    const std::string k = std::to_string(head::kernel_height) + "x" + std::to_string(head::kernel_width);
    dot.node("avgpool",
             std::string("avgpool\n") + (head::adaptive ? "adaptive avg pool" : k + " avg pool, /1") + "\n" +
                 detail::shape_label<typename head::pooled>(),
             detail::pool_style);
    dot.edge(previous, "avgpool");
    const std::string fc = layout::classifier_name();
    dot.node(fc, fc + "\nfully connected, " + std::to_string(Net::num_classes) + "\n[" +
                     std::to_string(Net::num_classes) + "]",
             detail::conv_style);
    dot.edge("avgpool", fc);
    previous = fc;
  }
  const std::string output = Net::has_classifier ? "logits" : "features";
  dot.node(output,
           output + "\n" +
               (Net::has_classifier ? "[" + std::to_string(Net::num_classes) + "]"
                                    : detail::shape_label<typename Net::features_shape>()),
           detail::end_style);
  dot.edge(previous, output);
  dot.finish();
}

}  // namespace ctresnet
