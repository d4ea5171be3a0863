// ctresnet-embed: a weights file in, a C++ header of the network's prepared state out, for
// programs without a file system: `ctresnet::network_view<Net> net(name::state);` runs Net from
// it in read-only memory, or with --precision int8 `name::view net(name::state);` runs
// ctresnet::quantized<Net> (see docs/embedded.md).
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/embed.hpp>
#include <ctresnet/quantized/embed.hpp>
#include <ctresnet/quantized/safetensors.hpp>
#include <ctresnet/safetensors.hpp>

#include "one_line_message.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char* const program = "ctresnet-embed";
const char* const model_list =
    "digits, cifar-resnet20, cifar-resnet32, cifar-resnet44, cifar-resnet56, cifar-resnet110, resnet18, resnet34, "
    "resnet50";

const char* const usage = R"(Usage: ctresnet-embed --model NAME --weights FILE.safetensors --out HEADER.hpp
                      [--namespace IDENTIFIER] [--direct]
                      [--precision int8 [--int8-order build|rows|panels]]

Writes the network's prepared state (weights, BatchNorm statistics, Winograd's transformed
weights) as `alignas(64) inline constexpr float` arrays of exact hex-float literals, and a
`ctresnet::embedded_state` bound to the network type: ctresnet::network_view<Net> runs from it,
and a view of another network type does not compile. With --precision int8, a quantized model
file (tools/quantize.py) in, ctresnet::quantized<Net>'s state out as an `unsigned char` array
and a `ctresnet::embedded_int8_state`, which ctresnet::quantized_view<Net> runs from.

  --model NAME      digits (ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>, the model
                    of examples/digits), cifar-resnet20, -32, -44, -56, -110 (3x32x32, 10 classes),
                    resnet18, resnet34, resnet50 (torchvision's, 1000 classes, 3x224x224)
  --weights FILE    a safetensors file with the model's state dict
  --out HEADER      the header to write
  --namespace ID    the namespace of the arrays (default: ctresnet_weights)
  --direct          the network's without_winograd layout: every conv direct, a state of the
                    weights alone (smaller, slower); the header then binds to that type
  --precision P     fp32 (the default) or int8
  --int8-order O    how the int8 weights are packed, which is how the build that compiles the
                    header reads them: rows (builds without vector tiles: Cortex-M, RISC-V,
                    baseline x86-64), panels (x86-64 with AVX2 or AVX-512 VNNI, aarch64 NEON
                    without the dot product), panels_sdot (aarch64 with the dot product), or
                    build (the default: this program's build). A header packed otherwise than
                    the build that includes it reads fails to compile there, saying so.
)";

class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct options {
  std::string model, weights, out, name = "ctresnet_weights", precision = "fp32", int8_order;
  bool direct = false;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    if (arg == "--direct") {
      o.direct = true;
      continue;
    }
    std::string* target = arg == "--model" ? &o.model
                          : arg == "--weights" ? &o.weights
                          : arg == "--out" ? &o.out
                          : arg == "--namespace" ? &o.name
                          : arg == "--precision" ? &o.precision
                          : arg == "--int8-order" ? &o.int8_order
                                                  : nullptr;
    if (target == nullptr) throw usage_error("unknown option '" + arg + "'");
    if (i + 1 == argc || std::string(argv[i + 1]).empty()) throw usage_error(arg + " needs a value");
    *target = argv[++i];
  }
  if (o.model.empty()) throw usage_error(std::string("no model given; name one with --model: ") + model_list);
  if (o.weights.empty()) throw usage_error("no weights given; name the safetensors file with --weights");
  if (o.out.empty()) throw usage_error("no output given; name the header to write with --out");
  if (o.precision != "fp32" && o.precision != "int8")
    throw usage_error("unknown precision '" + o.precision + "'; the precisions are fp32 and int8");
  if (o.precision == "int8" && o.direct)
    throw usage_error("--direct chooses a float layout; an int8 state has no Winograd weights to leave out");
  if (!o.int8_order.empty() && o.precision != "int8")
    throw usage_error("--int8-order is the order of int8 weights; add --precision int8");
  if (!o.int8_order.empty() && o.int8_order != "build" && o.int8_order != "rows" && o.int8_order != "panels" &&
      o.int8_order != "panels_sdot")
    throw usage_error("unknown int8 order '" + o.int8_order + "'; the orders are build, rows, panels and panels_sdot");
  return o;
}

/// The int8 state of quantized<Net> (`spelling` is Net's C++ type), in the order asked for.
template <class Net>
int embed_int8(const options& o, const std::string& spelling) {
  using plan = ctresnet::quantized_plan<Net>;
  const auto net = std::make_unique<ctresnet::quantized<Net>>();
  ctresnet::load_int8_safetensors(*net, o.weights);
  using order_type = ctresnet::int8_weight_order;
  const order_type order = o.int8_order == "rows"          ? order_type::rows
                           : o.int8_order == "panels"      ? order_type::panels
                           : o.int8_order == "panels_sdot" ? order_type::panels_sdot
                                                           : ctresnet::build_int8_weight_order;
  std::ofstream out(o.out, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write '" + o.out + "'");
  ctresnet::write_embedded_int8_state(out, *net, o.name, spelling, o.weights, order);
  out.close();
  if (!out) throw std::runtime_error("writing '" + o.out + "' failed");
  std::cout << o.out << ": int8, " << plan::state_bytes << " bytes, weights in "
            << ctresnet::int8_weight_order_name(order) << ", workspace " << plan::workspace_bytes << " bytes\n";
  return 0;
}

template <class Net>
int embed(const options& o, const std::string& spelling) {
  const auto net = std::make_unique<Net>(ctresnet::uninitialized);  // resnet50's state is 100 MB: not on the stack
  ctresnet::load_safetensors(*net, o.weights);
  std::ofstream out(o.out, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write '" + o.out + "'");
  ctresnet::write_embedded_state(out, *net, o.name, spelling, o.weights);
  out.close();
  if (!out) throw std::runtime_error("writing '" + o.out + "' failed");
  std::cout << o.out << ": " << Net::state_floats << " floats (" << Net::state_floats * 4 << " bytes), workspace "
            << Net::workspace_bytes << " bytes\n";
  return 0;
}

/// The model as written, its without_winograd twin with --direct, or its int8 twin with
/// --precision int8. `spelling` is the C++ type; `in_layout` spells it with a layout put in
/// place of LAYOUT.
template <template <class> class Model, class Layout>
int embed_in_layout(const options& o, const std::string& spelling, const std::string& in_layout,
                    const std::string& layout) {
  if (o.precision == "int8") return embed_int8<Model<Layout>>(o, spelling);
  if (!o.direct) return embed<Model<Layout>>(o, spelling);
  std::string direct = in_layout;
  direct.replace(direct.find("LAYOUT"), 6, "ctresnet::without_winograd<" + layout + ">");
  return embed<Model<ctresnet::without_winograd<Layout>>>(o, direct);
}

template <int Classes, class Input>
struct cifar_model {
  template <class Layout>
  using type = ctresnet::cifar::resnet<20, Classes, Input, Layout>;
};
template <int Depth>
struct cifar_depth {
  template <class Layout>
  using type = ctresnet::cifar::resnet<Depth, 10, ctresnet::cifar_input, Layout>;
};
template <class Block, class Stages>
struct imagenet_model {
  template <class Layout>
  using type = ctresnet::resnet<Block, Stages, 1000, ctresnet::imagenet_input, Layout>;
};

template <int Depth>
int embed_cifar(const options& o) {
  const std::string depth = std::to_string(Depth);
  return embed_in_layout<cifar_depth<Depth>::template type, ctresnet::cifar_layout>(
      o, "ctresnet::cifar::resnet" + depth + "<>",
      "ctresnet::cifar::resnet<" + depth + ", 10, ctresnet::cifar_input, LAYOUT>",
      "ctresnet::cifar_layout");
}

template <class Block, class Stages>
int embed_imagenet(const options& o, const std::string& spelling, const std::string& block, const std::string& stages) {
  return embed_in_layout<imagenet_model<Block, Stages>::template type, ctresnet::torchvision_layout>(
      o, spelling,
      "ctresnet::resnet<ctresnet::" + block + ", ctresnet::stages<" + stages +
          ">, 1000, ctresnet::imagenet_input, LAYOUT>",
      "ctresnet::torchvision_layout");
}

int run(const options& o) {
  using ctresnet::basic_block;
  using ctresnet::bottleneck;
  using ctresnet::stages;
  if (o.model == "digits")
    return embed_in_layout<cifar_model<10, ctresnet::shape<1, 16, 16>>::type, ctresnet::cifar_layout>(
        o, "ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>",
        "ctresnet::cifar::resnet<20, 10, ctresnet::shape<1, 16, 16>, LAYOUT>", "ctresnet::cifar_layout");
  if (o.model == "cifar-resnet20") return embed_cifar<20>(o);
  if (o.model == "cifar-resnet32") return embed_cifar<32>(o);
  if (o.model == "cifar-resnet44") return embed_cifar<44>(o);
  if (o.model == "cifar-resnet56") return embed_cifar<56>(o);
  if (o.model == "cifar-resnet110") return embed_cifar<110>(o);
  if (o.model == "resnet18")
    return embed_imagenet<basic_block, stages<2, 2, 2, 2>>(o, "ctresnet::resnet18<>", "basic_block", "2, 2, 2, 2");
  if (o.model == "resnet34")
    return embed_imagenet<basic_block, stages<3, 4, 6, 3>>(o, "ctresnet::resnet34<>", "basic_block", "3, 4, 6, 3");
  if (o.model == "resnet50")
    return embed_imagenet<bottleneck, stages<3, 4, 6, 3>>(o, "ctresnet::resnet50<>", "bottleneck", "3, 4, 6, 3");
  throw usage_error("unknown model '" + o.model + "'; the models are " + model_list);
}

/// One line on stderr, whatever the message (see one_line_message.hpp).
void report_error(const std::string& message) {
  std::cerr << program << ": error: " << examples::one_line(message) << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const usage_error& e) {
    std::cerr << program << ": error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    report_error(e.what());
    return 1;
  }
}
