// ctresnet-classify: classifies image files with a ResNet run by ctresnet on weights exported from
// PyTorch, and prints the most probable classes. `--labels FILE` evaluates a labelled set instead
// and prints the accuracy: with the digits model and examples/digits/test/labels.txt that is the
// main job, the held-out digits classified in C++ as PyTorch classifies them. `--eval DIR` evaluates
// an ImageFolder tree as torchvision would, decoding on one thread while the network runs batches
// on the others, and reports top-1/top-5 accuracy, per class, the confusion matrix and the speed.
//
// Every model is a type, so all of them are compiled into this one program; they share the
// convolution kernels, so each extra model costs little compile time. `--precision int8` runs a
// model's int8 twin, ctresnet::quantized<Net>, on a file that tools/quantize.py writes; the twins
// share the int8 kernels and loader, which cost most of what int8 adds to the compile time, and
// `models` below says which models have one.
#include "digits_transform.hpp"
#include "evaluation.hpp"
#include "image_file.hpp"
#include "image_folder.hpp"
#include "one_line_message.hpp"
#include "progress_bar.hpp"

#include <ctresnet/ctresnet.hpp>
#include <ctresnet/preprocess.hpp>
#include <ctresnet/quantized/safetensors.hpp>
#include <ctresnet/safetensors.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

constexpr const char* program = "ctresnet-classify";

constexpr const char* usage = R"(Usage: ctresnet-classify --model NAME --weights FILE [options] IMAGE...
       ctresnet-classify --model NAME --weights FILE --labels FILE [options]
       ctresnet-classify --model NAME --weights FILE --eval DIR [--batch N] [--json] [options]
       ctresnet-classify --model NAME --summary [--precision int8]
       ctresnet-classify --model NAME --graph [collapsed|full]

Classifies images with a ResNet run by ctresnet on weights exported from PyTorch, and
prints the most probable classes with their probabilities (the softmax of the logits).

Models:
  digits      the digits model that tools/train_digits.py trains, shipped as
              examples/digits/resnet20_digits.safetensors: ctresnet::cifar::resnet20<10,
              ctresnet::shape<1, 16, 16>>, classes 0 to 9. It expects a white digit on black,
              as in scikit-learn's 8x8 digits. An image is made gray as PIL's convert("L")
              does, resized to 8x8 if it is not 8x8 (any aspect ratio, PIL's bilinear), then
              x / 255, repeated to 16x16, (x - 0.5) / 0.5.
  resnet18, resnet34, resnet50, resnet101, resnet152
              torchvision's ResNets (ctresnet::resnet18<> ... ctresnet::resnet152<>) with
              1000 ImageNet classes. Convert torchvision's weights with
                tools/export_safetensors.py --layout torchvision --depth 50 \
                    --from-state-dict resnet50-0676ba61.pth r50.safetensors
              An image is converted to RGB and put through torchvision's evaluation transform:
              Resize(256) (PIL's antialiased bilinear), CenterCrop(224), ToTensor(),
              Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]).
  stage_projection_resnet18
              the stage-projection layout's ResNet-18
              (ctresnet::stage_projection::resnet18<>): a projection shortcut in the first block of
              every stage, layer1's included, a fixed 7x7 average pool and 5 classes, named 0
              to 4. Its weights: tools/export_safetensors.py --layout stage_projection --depth 18.
              Images are preprocessed as for torchvision's ResNets.

Options:
  --model NAME     the network, one of the models above (required)
  --weights FILE   its weights: a .safetensors file of PyTorch state_dict keys (required
                   unless only --summary or --graph is asked for); with --precision int8, a
                   quantized model file as tools/quantize.py writes it (metadata format
                   ctresnet-int8)
  --precision fp32|int8
                   fp32 (the default) runs the float network; int8 runs its int8 twin
                   (ctresnet::quantized<Net>), which computes what PyTorch's quantized model
                   computes (docs/int8.md), and prints the probabilities of its dequantized
                   logits. Every model above has an int8 twin, which --threads shares out
                   as it does the float network
  --top K          print the K most probable classes of each image (default 5; at most the
                   number of classes)
  --labels FILE    evaluate instead: classify every image that FILE lists, one "IMAGE LABEL"
                   per line (IMAGE relative to FILE's directory, LABEL a class index or name;
                   empty lines and lines starting with # are skipped), print each mistake and
                   then "accuracy: CORRECT/TOTAL = PERCENT %"
  --eval DIR       evaluate the ImageFolder tree DIR, as torchvision's ImageFolder reads it:
                   one subfolder per class, the classes sorted by name (the i-th folder is the
                   model's class i: digits 0 to 9, or ImageNet's synset folders n01440764 ...),
                   image files (.jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp, as ImageFolder;
                   a BMP, TIFF or WebP file is an error) at any depth below them. Prints top-1 and top-5 accuracy, a table per class, the
                   confusion matrix (up to 20 classes) and the images per second. Images are
                   decoded and preprocessed on one thread while the network runs batches on
                   the --threads others; a progress line goes to stderr if it is a terminal
  --batch N        --eval: images per forward pass (default 8)
  --json           --eval: print the results as JSON instead: per image its path, label and
                   --top classes with their probabilities; the accuracies, per class too,
                   the confusion matrix and the time
  --resize N       ImageNet models: the shorter side's length before the 224x224 crop
                   (default 256; torchvision's IMAGENET1K_V2 weights of resnet50, resnet101
                   and resnet152 were evaluated with 232)
  --threads N      threads that share each forward pass (default 1)
  --summary        first print the network's layers with output shapes, parameters and
                   multiply-adds
  --graph [collapsed|full]
                   print the network as a Graphviz digraph (DOT), and nothing else:
                   its layers with output shapes, each block's shortcut beside it. collapsed
                   (the default) draws each stage's first block in full and the blocks after
                   it as one node, full every block. Render it with: dot -Tsvg -o net.svg
  -h, --help       print this help and exit

Images: JPEG (libjpeg-turbo) and PNG (libpng), decoded as PIL decodes them, so that each
image's tensor is torchvision's to the last bit, and binary PGM/PPM (stb_image). The format is
told by the file's first bytes. A truncated or corrupt file is an error (for JPEG, so is every
warning of libjpeg's about corrupt data).

Exit status: 0 on success, whatever the accuracy; 1 if an image, the weights or the labels
file cannot be used; 2 for wrong arguments. Each error is one line on stderr, starting with
"ctresnet-classify: error:".

Examples:
  ctresnet-classify --model digits --weights examples/digits/resnet20_digits.safetensors \
      examples/digits/test/0000_label3.pgm
  ctresnet-classify --model digits --weights examples/digits/resnet20_digits.safetensors \
      --labels examples/digits/test/labels.txt
  ctresnet-classify --model digits --precision int8 \
      --weights examples/digits/resnet20_digits.int8.safetensors \
      --labels examples/digits/test/labels.txt
  ctresnet-classify --model resnet50 --weights r50.safetensors --top 3 cat.jpg dog.png
  ctresnet-classify --model resnet50 --weights r50.safetensors --resize 232 \
      --eval imagenet/val --batch 16 --threads 4
)";

/// Wrong arguments: reported with a pointer to --help, exit status 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file that cannot be used (labels, weights, images): exit status 1.
class input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- class names --------------------------------------------------------------------------

// examples/imagenet_classes.txt (tools/export_imagenet_classes.py), compiled in by CMake so that
// the program runs from any directory: line i names class i.
constexpr char imagenet_class_text[] =
#include "imagenet_classes.inc"
    ;

constexpr int count_lines(const char* text) {
  int lines = 0;
  for (; *text; ++text) lines += *text == '\n';
  return lines;
}
static_assert(count_lines(imagenet_class_text) == 1000,
              "examples/imagenet_classes.txt must name the 1000 ImageNet classes, one per line; "
              "tools/export_imagenet_classes.py writes it");

std::vector<std::string> imagenet_class_names() {
  std::vector<std::string> names;
  std::string_view rest = imagenet_class_text;
  for (std::size_t end; (end = rest.find('\n')) != std::string_view::npos; rest.remove_prefix(end + 1))
    names.emplace_back(rest.substr(0, end));
  return names;
}

/// Classes named by their index: "0", "1", ...
std::vector<std::string> numbered_class_names(int count) {
  std::vector<std::string> names;
  for (int index = 0; index < count; ++index) names.push_back(std::to_string(index));
  return names;
}

// ---- arguments ----------------------------------------------------------------------------

/// The models, and whether the program has their int8 twin (ctresnet::quantized<Net>).
struct model_entry {
  std::string_view name;
  bool int8;
};
constexpr model_entry models[] = {{"digits", true},    {"resnet18", true},  {"resnet34", true},
                                  {"resnet50", true},  {"resnet101", true}, {"resnet152", true},
                                  {"stage_projection_resnet18", true}};

constexpr const model_entry* find_model(std::string_view name) {
  for (const model_entry& model : models)
    if (model.name == name) return &model;
  return nullptr;
}

/// Whether --precision int8 runs `name`: run() instantiates quantized<Net> only for these.
constexpr bool has_int8(std::string_view name) { return find_model(name) != nullptr && find_model(name)->int8; }

/// The names of the models for which `keep` holds, as "a, b and c".
template <class Keep>
std::string model_list(Keep&& keep) {
  std::vector<std::string_view> names;
  for (const model_entry& model : models)
    if (keep(model)) names.push_back(model.name);
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i)
    list += std::string(i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + std::string(names[i]);
  return list;
}

std::string model_list() {
  return model_list([](const model_entry&) { return true; });
}

/// What the weights are and which network runs them: `--precision fp32` or `int8`.
enum class precision { fp32, int8 };

struct options {
  bool help = false;
  std::string model;
  std::string weights;
  std::string labels;
  std::string eval;  // an ImageFolder tree
  std::vector<std::string> images;
  int top = 5;
  int threads = 1;
  int batch = 8;
  bool batch_given = false;
  bool json = false;
  int resize = ctresnet::imagenet_eval_transform{}.resize_size;
  precision numbers = precision::fp32;
  bool resize_given = false;
  bool summary = false;
  bool graph = false;
  ctresnet::graph_detail graph_level = ctresnet::graph_detail::collapsed;
};

/// The whole of `text` as an integer in [low, high], or a usage error naming the option.
int parse_int(const std::string& option, const std::string& text, int low, int high) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value < low || value > high)
    throw usage_error(option + " takes a whole number from " + std::to_string(low) + " to " + std::to_string(high) +
                      ", not '" + text + "'");
  return value;
}

options parse_arguments(int argc, char** argv) {
  options o;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args)
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      return o;
    }

  bool only_images = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_images || arg.size() < 2 || arg[0] != '-') {
      o.images.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_images = true;
      continue;
    }
    if (arg == "--summary") {
      o.summary = true;
      continue;
    }
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (arg == "--graph" || arg.rfind("--graph=", 0) == 0) {
      // Its value is optional: "--graph", "--graph full" or "--graph=full".
      std::string level = "collapsed";
      if (arg != "--graph")
        level = arg.substr(std::string("--graph=").size());
      else if (i + 1 < args.size() && !args[i + 1].empty() && args[i + 1][0] != '-')
        level = args[++i];
      if (level != "collapsed" && level != "full")
        throw usage_error("--graph takes collapsed or full, not '" + level + "'");
      o.graph = true;
      o.graph_level = level == "full" ? ctresnet::graph_detail::full : ctresnet::graph_detail::collapsed;
      continue;
    }
    // The options with a value: "--top 3" or "--top=3".
    const std::size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const bool takes_value = name == "--model" || name == "--weights" || name == "--labels" || name == "--top" ||
                             name == "--threads" || name == "--resize" || name == "--precision" ||
                             name == "--eval" || name == "--batch";
    if (!takes_value) throw usage_error("unknown option '" + arg + "'");
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else {
      if (i + 1 == args.size()) throw usage_error(name + " needs a value");
      value = args[++i];
    }
    if (value.empty()) throw usage_error(name + " needs a value");
    if (name == "--model") o.model = value;
    if (name == "--weights") o.weights = value;
    if (name == "--labels") o.labels = value;
    if (name == "--eval") o.eval = value;
    if (name == "--batch") {
      o.batch = parse_int(name, value, 1, 1024);
      o.batch_given = true;
    }
    if (name == "--top") o.top = parse_int(name, value, 1, 1000000);
    if (name == "--threads") o.threads = parse_int(name, value, 1, 256);
    if (name == "--precision") {
      if (value != "fp32" && value != "int8") throw usage_error("--precision takes fp32 or int8, not '" + value + "'");
      o.numbers = value == "int8" ? precision::int8 : precision::fp32;
    }
    if (name == "--resize") {
      o.resize = parse_int(name, value, ctresnet::imagenet_eval_transform::crop_size, 8192);
      o.resize_given = true;
    }
  }

  if (o.model.empty()) throw usage_error("no model given; name one with --model: " + model_list());
  if (find_model(o.model) == nullptr)
    throw usage_error("unknown model '" + o.model + "'; the models are " + model_list());
  if (o.numbers == precision::int8 && !has_int8(o.model))
    throw usage_error("--precision int8: this program has no int8 version of " + o.model + "; it has one of " +
                      model_list([](const model_entry& model) { return model.int8; }));
  if (o.resize_given && o.model == "digits") throw usage_error("--resize applies to the ImageNet models, not to digits");
  if (!o.images.empty() + !o.labels.empty() + !o.eval.empty() > 1)
    throw usage_error("give one of image files, --labels and --eval, not several");
  if (o.eval.empty() && (o.json || o.batch_given))
    throw usage_error(std::string(o.json ? "--json" : "--batch") + " applies to --eval");
  if (o.json && o.summary) throw usage_error("--json prints the results alone; give it without --summary");
  const bool classifies = !o.images.empty() || !o.labels.empty() || !o.eval.empty();
  if (o.graph && (classifies || o.summary))
    throw usage_error("--graph prints the network's graph alone; give it without images, --labels, --eval or --summary");
  if (!classifies && !o.summary && !o.graph)
    throw usage_error("no image given; name image files, a labels file with --labels or an image folder with --eval");
  if (classifies && o.weights.empty()) throw usage_error("no weights given; name the weights file with --weights");
  return o;
}

// ---- the labelled set of --labels ---------------------------------------------------------

struct labelled_image {
  std::string name;  // as the labels file writes it
  std::string path;  // where to read it
  int label = 0;
};

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

/// At most 40 characters of `text` for an error message, anything unprintable as '?'.
std::string excerpt(const std::string& text) {
  std::string shown = text.substr(0, 40);
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return "'" + shown + (text.size() > 40 ? "...'" : "'");
}

/// A class index ("3") or a class name ("tabby, tabby cat"), as its index.
int class_of(const std::string& label, const std::vector<std::string>& class_names, const std::string& where) {
  int index = -1;
  const char* end = label.data() + label.size();
  const auto [stop, error] = std::from_chars(label.data(), end, index);
  if (error == std::errc() && stop == end) {
    if (index < 0 || index >= static_cast<int>(class_names.size()))
      throw input_error(where + ": label " + label + " is not a class index from 0 to " +
                        std::to_string(class_names.size() - 1));
    return index;
  }
  const auto named = std::find(class_names.begin(), class_names.end(), label);
  if (named == class_names.end())
    throw input_error(where + ": label " + excerpt(label) + " is neither a class index nor a class name of this model");
  return static_cast<int>(named - class_names.begin());
}

std::vector<labelled_image> read_labels(const std::string& path, const std::vector<std::string>& class_names) {
  std::ifstream file(path);
  if (!file) throw input_error("cannot open labels file '" + path + "': " + std::strerror(errno));
  const std::filesystem::path directory = std::filesystem::path(path).parent_path();
  std::vector<labelled_image> set;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    line = trimmed(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + " line " + std::to_string(number);
    const auto space = line.find_first_of(" \t");
    if (space == std::string::npos)
      throw input_error(where + ": expected \"IMAGE LABEL\", found " + excerpt(line));
    labelled_image entry;
    entry.name = line.substr(0, space);
    entry.path = (directory / entry.name).string();
    entry.label = class_of(trimmed(line.substr(space)), class_names, where);
    set.push_back(entry);
  }
  if (file.bad()) throw input_error("cannot read labels file '" + path + "'");
  if (set.empty()) throw input_error("labels file '" + path + "' lists no image");
  return set;
}

// ---- the weights file -----------------------------------------------------------------------

/// The metadata `format` of the int8 model files that tools/quantize.py writes (docs/int8.md).
constexpr const char* int8_file_format = "ctresnet-int8";

/// Refuses a weights file of the other precision, before a loader lists every tensor that does
/// not fit: an int8 file says so in its metadata (`format` ctresnet-int8), a float file does not.
void check_precision_of(const std::string& path, precision wanted) {
  const ctresnet::safetensors::reader file(path);  // throws weights_error if it cannot be read
  const auto format = file.metadata().find("format");
  const bool int8_file = format != file.metadata().end() && format->second == int8_file_format;
  if (wanted == precision::int8 && !int8_file)
    throw input_error("--precision int8 expects an int8 model file as tools/quantize.py writes it (metadata format '" +
                      std::string(int8_file_format) + "'), and '" + path + "' is not one (its metadata's format is " +
                      (format == file.metadata().end() ? std::string("not given") : excerpt(format->second)) +
                      "); give the int8 file, or leave out --precision int8 to run float weights");
  if (wanted == precision::fp32 && int8_file)
    throw input_error("'" + path + "' is an int8 model file (metadata format '" + std::string(int8_file_format) +
                      "'), and --precision is fp32 (the default): run it with --precision int8, or give float weights");
}

// ---- classifying --------------------------------------------------------------------------

template <class Model>
struct is_int8 : std::false_type {};
template <class Net>
struct is_int8<ctresnet::quantized<Net>> : std::true_type {};

/// A loaded network with its preprocessing, threads and buffers, which it reuses image after
/// image: the forward pass itself allocates nothing. Model is a float network type Net, or its
/// int8 twin ctresnet::quantized<Net>, whose logits come out dequantized.
template <class Model, class Transform>
class classifier {
  static_assert(std::is_same_v<typename Transform::output_shape, typename Model::input_shape>,
                "ctresnet-classify: a model's transform must produce its network's input shape");
  static constexpr bool int8 = is_int8<Model>::value;

 public:
  classifier(const std::string& weights, const Transform& transform, int threads)
      : transform_(transform),
        pool_(threads),
        workspace_(workspace_floats(pool_.size())),
        input_(static_cast<std::size_t>(Model::input_shape::size)),
        logits_(Model::num_classes) {
    check_precision_of(weights, int8 ? precision::int8 : precision::fp32);
    if constexpr (int8)
      ctresnet::load_int8_safetensors(net_, weights);
    else
      ctresnet::load_safetensors(net_, weights);
  }

  /// The floats of one preprocessed image (C x H x W).
  static constexpr std::size_t input_floats = static_cast<std::size_t>(Model::input_shape::size);

  /// The class probabilities of one image file.
  std::vector<double> probabilities(const std::string& path) {
    transform_(examples::read_image_file(path), input_.data());
    return probabilities(input_.data(), 1).front();
  }

  /// The class probabilities of each of `count` preprocessed images, stored one after the other
  /// (N x C x H x W) in `inputs`: one forward pass.
  std::vector<std::vector<double>> probabilities(const float* inputs, int count) {
    using shape = typename Model::input_shape;
    logits_.resize(static_cast<std::size_t>(count) * Model::num_classes);
    const typename Model::input_map images(inputs, count, shape::channels, shape::height, shape::width);
    const typename Model::output_map logits(logits_.data(), count, Model::num_classes);
    net_.forward(images, logits, workspace_.data(), pool_);
    std::vector<std::vector<double>> p;
    for (int i = 0; i < count; ++i)
      p.push_back(softmax(logits_.data() + static_cast<std::ptrdiff_t>(i) * Model::num_classes));
    return p;
  }

  const Transform& transform() const { return transform_; }

  /// The threads that share each forward pass.
  int threads() const { return pool_.size(); }

 private:
  static std::vector<double> softmax(const float* logits) {
    const double largest = *std::max_element(logits, logits + Model::num_classes);
    std::vector<double> p(Model::num_classes);
    double sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum += p[i] = std::exp(logits[i] - largest);
    for (double& value : p) value /= sum;
    return p;
  }

  /// The workspace as floats: the float network counts it in floats, the int8 one in bytes.
  static std::size_t workspace_floats(int threads) {
    if constexpr (int8)
      return (Model::workspace_bytes_for(threads) + sizeof(float) - 1) / sizeof(float);
    else
      return static_cast<std::size_t>(Model::workspace_floats_for(threads));
  }
  static Model blank() {
    if constexpr (int8)
      return Model{};  // all zeros
    else
      return Model{ctresnet::uninitialized};  // no random weights
  }

  Model net_ = blank();  // the file's weights replace it at once
  Transform transform_;
  ctresnet::thread_pool pool_;
  std::vector<float> workspace_, input_, logits_;
};

/// The classes from most to least probable (ties in class order), the first `count` of them.
std::vector<int> most_probable(const std::vector<double>& p, int count) {
  std::vector<int> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  const auto k = std::min(order.size(), static_cast<std::size_t>(count));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), [&](int a, int b) {
    return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)] ||
           (p[static_cast<std::size_t>(a)] == p[static_cast<std::size_t>(b)] && a < b);
  });
  order.resize(k);
  return order;
}

/// "palace [698]" for ImageNet, just "3" for a digit, whose name is its index.
std::string class_label(int index, const std::vector<std::string>& class_names) {
  const std::string& name = class_names[static_cast<std::size_t>(index)];
  return name == std::to_string(index) ? name : name + " [" + std::to_string(index) + "]";
}

/// "98.61 %"; with `width`, right-aligned in that many characters before the " %".
std::string percent(double fraction, int width = 0) {
  char text[32];
  std::snprintf(text, sizeof text, "%*.2f %%", width, 100.0 * fraction);
  return text;
}

/// print_summary's table of Net's layers, with the int8 twin's state and workspace in place of
/// the float network's.
template <class Net>
void print_int8_summary(std::ostream& out) {
  std::ostringstream summary;
  ctresnet::print_summary<Net>(summary);
  std::istringstream lines(summary.str());
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("State:", 0) != 0 && line.rfind("Workspace:", 0) != 0) out << line << '\n';
  using int8_net = ctresnet::quantized<Net>;
  const auto mib = [](std::size_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
  out << "State:        " << ctresnet::detail::with_thousands(static_cast<ctresnet::index_t>(int8_net::state_bytes))
      << " bytes (" << mib(int8_net::state_bytes)
      << " MiB: int8 weights, int32 biases, requantization multipliers and scales)\n";
  out << "Workspace:    " << mib(int8_net::workspace_bytes) << " MiB per forward call\n";
}

// ---- --eval: an ImageFolder tree, decoded on one thread, classified in batches on the others ----

/// Preprocessed images, `count` of them one after the other, from the `first`-th of the set on.
struct input_batch {
  std::vector<float> inputs;
  std::size_t first = 0;
  int count = 0;
};

/// Batches handed from the decoding thread to the classifying one: at most `capacity` wait, so
/// that decoding runs ahead of the network by that much and no more. The decoding thread's error
/// is handed over too, and rethrown where the batches are taken.
class batch_queue {
 public:
  explicit batch_queue(std::size_t capacity) : capacity_(capacity) {}

  /// Waits for room; false if the taker has given up.
  bool push(input_batch batch) {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [&] { return cancelled_ || batches_.size() < capacity_; });
    if (cancelled_) return false;
    batches_.push_back(std::move(batch));
    ready_.notify_one();
    return true;
  }
  /// No more batches: the set is done, or `error` stopped it.
  void close(std::exception_ptr error = nullptr) {
    const std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    error_ = error;
    ready_.notify_one();
  }
  /// The next batch, or none after the last; rethrows the decoding thread's error.
  std::optional<input_batch> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !batches_.empty(); });
    if (!batches_.empty()) {
      input_batch batch = std::move(batches_.front());
      batches_.pop_front();
      room_.notify_one();
      return batch;
    }
    if (error_) std::rethrow_exception(error_);
    return std::nullopt;
  }
  /// The taker gives up: push returns false from now on.
  void cancel() {
    const std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    room_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable room_, ready_;
  std::deque<input_batch> batches_;
  bool closed_ = false, cancelled_ = false;
  std::exception_ptr error_;
};

/// Decodes and preprocesses the set's images, `batch_size` at a time, into `queue`.
template <class Transform>
void decode_batches(const examples::image_folder& set, Transform transform, std::size_t input_floats, int batch_size,
                    batch_queue& queue) {
  try {
    for (std::size_t first = 0; first < set.images.size(); first += static_cast<std::size_t>(batch_size)) {
      input_batch batch;
      batch.first = first;
      batch.count = static_cast<int>(std::min(set.images.size() - first, static_cast<std::size_t>(batch_size)));
      batch.inputs.resize(input_floats * static_cast<std::size_t>(batch.count));
      for (int i = 0; i < batch.count; ++i)
        transform(examples::read_image_file(set.images[first + static_cast<std::size_t>(i)].path),
                  batch.inputs.data() + input_floats * static_cast<std::size_t>(i));
      if (!queue.push(std::move(batch))) return;
    }
    queue.close();
  } catch (...) {
    queue.close(std::current_exception());
  }
}

/// Classifies every image of `set` and prints the report (evaluation.hpp), as text or JSON.
template <class Model, class Transform>
int evaluate(const options& o, const examples::image_folder& set, classifier<Model, Transform>& model,
             const std::vector<std::string>& class_names) {
  examples::evaluation results(set.classes, class_names);
  examples::progress_bar progress(static_cast<long>(set.images.size()));
  const auto start = std::chrono::steady_clock::now();
  batch_queue queue(2);
  std::thread decoder(decode_batches<Transform>, std::cref(set), model.transform(),
                      classifier<Model, Transform>::input_floats, o.batch, std::ref(queue));
  // Whatever ends the loop below, the decoding thread stops and is joined before the queue goes.
  struct stop_decoder {
    batch_queue& queue;
    std::thread& thread;
    ~stop_decoder() {
      queue.cancel();
      thread.join();
    }
  } stopper{queue, decoder};
  long done = 0;
  while (std::optional<input_batch> batch = queue.pop()) {
    const std::vector<std::vector<double>> p = model.probabilities(batch->inputs.data(), batch->count);
    for (int i = 0; i < batch->count; ++i) {
      const auto& image = set.images[batch->first + static_cast<std::size_t>(i)];
      const std::vector<double>& q = p[static_cast<std::size_t>(i)];
      examples::evaluation::image_result result{image.path, image.label, most_probable(q, std::max(o.top, 5)), {}};
      for (const int c : result.top) result.probabilities.push_back(q[static_cast<std::size_t>(c)]);
      results.add(std::move(result));
    }
    progress.update(done += batch->count);
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  progress.clear();
  results.set_timing(elapsed.count(), o.batch, model.threads());
  if (o.json) {
    // A path that is not UTF-8 gets U+FFFD in place of its stray bytes, rather than stop the dump.
    std::cout << results.json(o.top).dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  } else {
    std::cout << "evaluated " << set.images.size() << " images of " << set.classes.size() << " classes in '" << o.eval
              << "' with " << o.model << (is_int8<Model>::value ? " (int8)" : "") << '\n';
    results.print(std::cout);
  }
  return 0;
}

/// Model (Net, or its int8 twin quantized<Net>) on the images or the labelled set of `o`.
template <class Model, class Net, class Transform>
int classify_with(const options& o, const Transform& transform, const std::vector<std::string>& class_names) {
  if (o.graph) {
    ctresnet::write_dot<Net>(std::cout, o.graph_level);
    return 0;
  }
  if (o.summary) {
    if constexpr (is_int8<Model>::value)
      print_int8_summary<Net>(std::cout);
    else
      ctresnet::print_summary<Net>(std::cout);
    if (!o.images.empty() || !o.labels.empty()) std::cout << '\n';
  }
  if (o.images.empty() && o.labels.empty() && o.eval.empty()) return 0;

  // The labels or the folder first: a mistake in them should not wait for the weights to load.
  const std::vector<labelled_image> labelled = o.labels.empty() ? std::vector<labelled_image>{}
                                                                 : read_labels(o.labels, class_names);
  examples::image_folder set;
  if (!o.eval.empty()) {
    set = examples::read_image_folder(o.eval);
    if (set.classes.size() > class_names.size())
      throw input_error("the image folder '" + o.eval + "' has " + std::to_string(set.classes.size()) +
                        " class folders, and " + o.model + " has " + std::to_string(class_names.size()) +
                        " classes: the i-th folder (sorted by name) must be the model's class i");
  }
  const auto model = std::make_unique<classifier<Model, Transform>>(o.weights, transform, o.threads);
  if (!o.eval.empty()) return evaluate(o, set, *model, class_names);

  if (labelled.empty()) {
    char rank[16];
    for (const std::string& path : o.images) {
      const std::vector<double> p = model->probabilities(path);
      std::cout << path << ":\n";
      int place = 0;
      for (const int c : most_probable(p, o.top)) {
        std::snprintf(rank, sizeof rank, "%4d. ", ++place);
        std::cout << rank << percent(p[static_cast<std::size_t>(c)], 6) << "  " << class_label(c, class_names) << '\n';
      }
    }
    return 0;
  }

  const auto start = std::chrono::steady_clock::now();
  int correct = 0;
  for (const labelled_image& item : labelled) {
    const std::vector<double> p = model->probabilities(item.path);
    const int guess = most_probable(p, 1).front();
    if (guess == item.label) {
      ++correct;
      continue;
    }
    std::cout << "mistake: " << item.name << " is " << class_label(item.label, class_names) << ", classified as "
              << class_label(guess, class_names) << " (" << percent(p[static_cast<std::size_t>(guess)]) << ")\n";
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  const auto total = static_cast<int>(labelled.size());
  std::cout << "accuracy: " << correct << '/' << total << " = " << percent(static_cast<double>(correct) / total) << '\n';
  char timing[96];
  std::snprintf(timing, sizeof timing, "%.3f s for %d images (%.2f ms each, decoding and preprocessing included)",
                elapsed.count(), total, 1000 * elapsed.count() / total);
  const int threads = model->threads();
  std::cout << "time: " << timing << ", " << threads << (threads == 1 ? " thread" : " threads")
            << (is_int8<Model>::value ? ", int8\n" : "\n");
  return 0;
}

/// The float network, or with --precision int8 its int8 twin: for the models of has_int8 only, so
/// that the others compile no quantized<Net>.
template <class Net, bool WithInt8, class Transform>
int classify(const options& o, const Transform& transform, const std::vector<std::string>& class_names) {
  if constexpr (WithInt8) {
    if (o.numbers == precision::int8) return classify_with<ctresnet::quantized<Net>, Net>(o, transform, class_names);
  } else if (o.numbers == precision::int8) {
    throw usage_error("--precision int8: this program has no int8 version of " + o.model);
  }
  return classify_with<Net, Net>(o, transform, class_names);
}

int run(const options& o) {
  if (o.model == "digits")
    return classify<ctresnet::cifar::resnet20<10, ctresnet::shape<1, 16, 16>>, has_int8("digits")>(
        o, digits_transform{}, numbered_class_names(10));
  const ctresnet::imagenet_eval_transform imagenet{o.resize};
  if (o.model == "stage_projection_resnet18")
    return classify<ctresnet::stage_projection::resnet18<>, has_int8("stage_projection_resnet18")>(
        o, imagenet, numbered_class_names(5));
  const std::vector<std::string> names = imagenet_class_names();
  if (o.model == "resnet18") return classify<ctresnet::resnet18<>, has_int8("resnet18")>(o, imagenet, names);
  if (o.model == "resnet34") return classify<ctresnet::resnet34<>, has_int8("resnet34")>(o, imagenet, names);
  if (o.model == "resnet50") return classify<ctresnet::resnet50<>, has_int8("resnet50")>(o, imagenet, names);
  if (o.model == "resnet101") return classify<ctresnet::resnet101<>, has_int8("resnet101")>(o, imagenet, names);
  if (o.model == "resnet152") return classify<ctresnet::resnet152<>, has_int8("resnet152")>(o, imagenet, names);
  throw usage_error("unknown model '" + o.model + "'; the models are " + model_list());
}

/// One line on stderr, whatever the message (see one_line_message.hpp).
void report_error(const std::string& message) {
  std::cerr << program << ": error: " << examples::one_line(message) << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    o = parse_arguments(argc, argv);
    if (o.help) {
      std::cout << usage;
      return 0;
    }
    return run(o);
  } catch (const usage_error& e) {
    report_error(std::string(e.what()) + " (see " + program + " --help)");
    return 2;
  } catch (const ctresnet::weights_error& e) {
    std::string message = e.what();
    if (message.find("do not fit this network") != std::string::npos)
      message += "\n(are these weights of another network than --model " + o.model + "?)";
    report_error(message);
    return 1;
  } catch (const std::exception& e) {
    report_error(e.what());
    return 1;
  }
}
