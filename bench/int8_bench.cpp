// int8 against float latency of ctresnet, side by side in one process: for each model and thread
// count, ctresnet::quantized<Net> and Net take turns, a few runs each per round, the order
// rotating every round, so that a drift of the machine hits both alike.
//
//   int8_bench [--models resnet18,resnet50] [--threads 1,2] [--rounds 10] [--runs 2] [--warmup 2]
//              [--batch 1] [--only int8|float]
//   int8_bench --layers [--models resnet18,resnet50] [--rounds 10]
//
// Both networks have seeded random weights: the float one as its constructor draws them, the int8
// one from a model file made in memory (random int8 weights, scales that keep activations in
// range), loaded through load_int8_safetensors_from_memory like any file. The latency of either
// does not depend on the values. The input is one seeded random batch of 224x224 images.
//
// Prints, per model and thread count, the median ms of each and the median of the per-round
// ratios int8 / float, and checks that every thread count gives the int8 logits of one thread,
// bit for bit (exit status 1 if not). --only runs one of the two (for a profiler), and prints its
// median alone.
//
// --layers times the int8 conv kernel alone on each distinct conv of the models (random data,
// one thread): microseconds of this thread's CPU time per call (so that other work on the machine
// counts less), GMAC/s, and the share of the model's conv time.
#include <ctresnet/quantized/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct options {
  std::vector<std::string> models{"resnet18", "resnet50"};
  std::vector<int> threads{1, 2};
  int rounds = 10, runs = 2, warmup = 2, batch = 1;
  std::string only;  // "int8", "float" or empty: both
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

/// A safetensors file in memory, tensor by tensor.
class file_builder {
 public:
  template <class T>
  void add(const std::string& name, const char* dtype, std::vector<std::int64_t> shape, const std::vector<T>& values) {
    const std::size_t begin = data_.size();
    data_.resize(begin + values.size() * sizeof(T));
    std::memcpy(data_.data() + begin, values.data(), values.size() * sizeof(T));
    header_[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, data_.size()}}};
  }
  std::vector<char> bytes() {
    header_["__metadata__"] = {{"format", "ctresnet-int8"}, {"format_version", "1"}, {"engine", "qnnpack"}};
    std::string text = header_.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::vector<char> out(8 + text.size() + data_.size());
    for (int i = 0; i < 8; ++i) out[std::size_t(i)] = static_cast<char>(text.size() >> (8 * i));
    std::memcpy(out.data() + 8, text.data(), text.size());
    std::memcpy(out.data() + 8 + text.size(), data_.data(), data_.size());
    return out;
  }

 private:
  nlohmann::json header_ = nlohmann::json::object();
  std::vector<char> data_;
};

/// A valid int8 model file for Net with seeded random weights: each conv's weight scale makes the
/// sums of its window about as wide as its input, each output keeps about 40 levels either side
/// of its zero point.
template <class Net>
std::vector<char> random_int8_file(std::uint64_t seed) {
  ctresnet::random_generator random(seed);
  file_builder file;
  std::map<std::string, float> scale_of;
  const auto scalar_f32 = [&](const std::string& name, float v) { file.add(name, "F32", {}, std::vector<float>{v}); };
  const auto scalar_i32 = [&](const std::string& name, std::int32_t v) {
    file.add(name, "I32", {}, std::vector<std::int32_t>{v});
  };
  for (const ctresnet::int8_layer_info& layer : ctresnet::quantized<Net>::layers()) {
    const std::string p = layer.name + ".";
    const std::int32_t zero_point = 64;
    float scale = 0.05f;
    if (layer.kind == ctresnet::int8_layer_kind::conv || layer.kind == ctresnet::int8_layer_kind::linear) {
      const float in_scale = scale_of.at(layer.input);
      const std::int64_t o = layer.out_channels, i = layer.in_channels, k = layer.kernel;
      const std::int64_t length = i * k * k;
      scale = in_scale * 0.5f;
      std::vector<std::int8_t> weights(static_cast<std::size_t>(o * length));
      for (auto& w : weights) w = static_cast<std::int8_t>(std::lround(random.uniform(-127.0, 127.0)));
      const auto count = static_cast<std::size_t>(o);
      std::vector<float> weight_scales(count), bias_float(count), requant(count);
      std::vector<std::int32_t> bias(count), zeros(count, 0);
      for (std::size_t c = 0; c < count; ++c) {
        weight_scales[c] = static_cast<float>(random.uniform(0.5, 1.5) / (73.0 * std::sqrt(double(length))));
        bias_float[c] = static_cast<float>(random.uniform(-1.0, 1.0) * scale);
        bias[c] = ctresnet::kernels::int8::quantized_bias(bias_float[c], weight_scales[c], in_scale);
        requant[c] = ctresnet::kernels::int8::requantization_scale(weight_scales[c], in_scale, scale);
      }
      if (layer.kind == ctresnet::int8_layer_kind::conv)
        file.add(p + "weight", "I8", {o, i, k, k}, weights);
      else
        file.add(p + "weight", "I8", {o, i}, weights);
      file.add(p + "weight_scale", "F32", {o}, weight_scales);
      file.add(p + "weight_zero_point", "I32", {o}, zeros);
      file.add(p + "bias", "I32", {o}, bias);
      file.add(p + "bias_float", "F32", {o}, bias_float);
      file.add(p + "requant_scale", "F32", {o}, requant);
    } else if (layer.kind == ctresnet::int8_layer_kind::add) {
      const float branch = scale_of.at(layer.input), side = scale_of.at(layer.shortcut);
      scale = std::max(branch, side) * 1.25f;
      const auto m = ctresnet::kernels::int8::add_parameters_for(branch, side, scale);
      file.add(p + "multipliers", "I32", {2}, std::vector<std::int32_t>{m.branch, m.shortcut});
      scalar_i32(p + "shift", m.shift);
    }
    scalar_f32(p + "output_scale", scale);
    scalar_i32(p + "output_zero_point", zero_point);
    scale_of[layer.name] = scale;
  }
  return file.bytes();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class Net>
bool bench(const std::string& model, const options& o) {
  using q_net = ctresnet::quantized<Net>;
  using shape = typename Net::input_shape;
  const auto float_net = std::make_unique<Net>(1);
  const auto int8_net = std::make_unique<q_net>();
  const std::vector<char> file = random_int8_file<Net>(2);
  ctresnet::load_int8_safetensors_from_memory(*int8_net, file.data(), file.size());

  ctresnet::random_generator random(3);
  std::vector<float> input(static_cast<std::size_t>(o.batch * shape::size));
  for (float& x : input) x = static_cast<float>(random.normal());
  const typename Net::input_map images(input.data(), o.batch, shape::channels, shape::height, shape::width);
  const typename q_net::input_map int8_images(input.data(), o.batch, shape::channels, shape::height, shape::width);

  bool same = true;
  std::vector<std::uint8_t> first_logits;
  for (const int threads : o.threads) {
    ctresnet::thread_pool pool(threads);
    std::vector<float> float_logits(static_cast<std::size_t>(o.batch * Net::num_classes));
    std::vector<std::uint8_t> int8_logits(float_logits.size());
    std::vector<float> float_workspace(static_cast<std::size_t>(Net::workspace_floats_for(threads)));
    std::vector<std::byte> int8_workspace(q_net::workspace_bytes_for(threads));
    const auto run_float = [&] {
      float_net->forward(images, typename Net::output_map(float_logits.data(), o.batch, Net::num_classes),
                         float_workspace.data(), pool);
    };
    const auto run_int8 = [&] {
      int8_net->forward(int8_images, typename q_net::uint8_output_map(int8_logits.data(), o.batch, Net::num_classes),
                        int8_workspace.data(), pool);
    };
    const auto time = [&](auto& run) {
      const auto start = std::chrono::steady_clock::now();
      run();
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    };
    const bool with_int8 = o.only != "float", with_float = o.only != "int8";
    for (int i = 0; i < o.warmup; ++i) {
      if (with_int8) run_int8();
      if (with_float) run_float();
    }
    std::vector<double> float_ms, int8_ms, ratios;
    for (int round = 0; round < o.rounds; ++round) {
      std::vector<double> f, q;
      for (int turn = 0; turn < 2; ++turn) {
        const bool int8_turn = (turn + round) % 2 == 0;
        if (!(int8_turn ? with_int8 : with_float)) continue;
        for (int i = 0; i < o.runs; ++i) (int8_turn ? q : f).push_back(int8_turn ? time(run_int8) : time(run_float));
      }
      float_ms.insert(float_ms.end(), f.begin(), f.end());
      int8_ms.insert(int8_ms.end(), q.begin(), q.end());
      if (with_int8 && with_float) ratios.push_back(median(q) / median(f));
    }
    if (!with_int8 || !with_float) {
      std::printf("%-10s batch %d  threads %d   %s %8.2f ms\n", model.c_str(), o.batch, threads, o.only.c_str(),
                  median(with_int8 ? int8_ms : float_ms));
      continue;
    }
    if (first_logits.empty())
      first_logits = int8_logits;
    else if (int8_logits != first_logits)
      same = false;
    std::printf("%-10s batch %d  threads %d   float %8.2f ms   int8 %8.2f ms   int8/float %.3f%s\n", model.c_str(),
                o.batch, threads, median(float_ms), median(int8_ms), median(ratios),
                int8_logits == first_logits ? "" : "   (int8 logits differ from 1 thread's!)");
    std::fflush(stdout);
  }
  return same;
}

/// This thread's CPU time in microseconds: on a machine shared with other work, the time the
/// kernel itself took.
double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) * 1e6 + double(t.tv_nsec) / 1e3;
}

/// One distinct conv of a model: its shape and how often the model runs it.
struct conv_entry {
  ctresnet::kernels::conv_geometry shape;
  int count;
};

std::vector<conv_entry> resnet18_convs() {
  using s = ctresnet::kernels::conv_geometry;
  return {{s{224, 224, 3, 112, 112, 64, 7, 2, 3}, 1},   {s{56, 56, 64, 56, 56, 64, 3, 1, 1}, 4},
          {s{56, 56, 64, 28, 28, 128, 3, 2, 1}, 1},     {s{28, 28, 128, 28, 28, 128, 3, 1, 1}, 3},
          {s{56, 56, 64, 28, 28, 128, 1, 2, 0}, 1},     {s{28, 28, 128, 14, 14, 256, 3, 2, 1}, 1},
          {s{14, 14, 256, 14, 14, 256, 3, 1, 1}, 3},    {s{28, 28, 128, 14, 14, 256, 1, 2, 0}, 1},
          {s{14, 14, 256, 7, 7, 512, 3, 2, 1}, 1},      {s{7, 7, 512, 7, 7, 512, 3, 1, 1}, 3},
          {s{14, 14, 256, 7, 7, 512, 1, 2, 0}, 1}};
}

std::vector<conv_entry> resnet50_convs() {
  using s = ctresnet::kernels::conv_geometry;
  return {{s{224, 224, 3, 112, 112, 64, 7, 2, 3}, 1},
          // layer1, 56x56
          {s{56, 56, 64, 56, 56, 64, 1, 1, 0}, 1},
          {s{56, 56, 256, 56, 56, 64, 1, 1, 0}, 2},
          {s{56, 56, 64, 56, 56, 64, 3, 1, 1}, 3},
          {s{56, 56, 64, 56, 56, 256, 1, 1, 0}, 4},  // three conv3 and the projection
          // layer2, 28x28
          {s{56, 56, 256, 56, 56, 128, 1, 1, 0}, 1},
          {s{56, 56, 128, 28, 28, 128, 3, 2, 1}, 1},
          {s{56, 56, 256, 28, 28, 512, 1, 2, 0}, 1},
          {s{28, 28, 512, 28, 28, 128, 1, 1, 0}, 3},
          {s{28, 28, 128, 28, 28, 128, 3, 1, 1}, 3},
          {s{28, 28, 128, 28, 28, 512, 1, 1, 0}, 4},
          // layer3, 14x14
          {s{28, 28, 512, 28, 28, 256, 1, 1, 0}, 1},
          {s{28, 28, 256, 14, 14, 256, 3, 2, 1}, 1},
          {s{28, 28, 512, 14, 14, 1024, 1, 2, 0}, 1},
          {s{14, 14, 1024, 14, 14, 256, 1, 1, 0}, 5},
          {s{14, 14, 256, 14, 14, 256, 3, 1, 1}, 5},
          {s{14, 14, 256, 14, 14, 1024, 1, 1, 0}, 6},
          // layer4, 7x7
          {s{14, 14, 1024, 14, 14, 512, 1, 1, 0}, 1},
          {s{14, 14, 512, 7, 7, 512, 3, 2, 1}, 1},
          {s{14, 14, 1024, 7, 7, 2048, 1, 2, 0}, 1},
          {s{7, 7, 2048, 7, 7, 512, 1, 1, 0}, 2},
          {s{7, 7, 512, 7, 7, 512, 3, 1, 1}, 2},
          {s{7, 7, 512, 7, 7, 2048, 1, 1, 0}, 3}};
}

void bench_layers(const std::string& model, const options& o) {
  namespace k8 = ctresnet::kernels::int8;
  const std::vector<conv_entry> convs = model == "resnet18"   ? resnet18_convs()
                                        : model == "resnet50" ? resnet50_convs()
                                                              : throw std::invalid_argument("--layers: resnet18 or resnet50");
  ctresnet::random_generator random(4);
  struct result {
    double us, macs;
  };
  std::vector<result> results;
  double total_us = 0;
  for (const conv_entry& c : convs) {
    const ctresnet::kernels::conv_geometry& g = c.shape;
    const auto length = g.patch_length();
    std::vector<std::uint8_t> in(static_cast<std::size_t>(g.in_height) * g.in_width * g.in_channels);
    std::vector<std::uint8_t> out(static_cast<std::size_t>(g.out_height) * g.out_width * g.out_channels);
    std::vector<std::int8_t> rows(static_cast<std::size_t>(g.out_channels * length)), packed(rows.size());
    std::vector<std::int32_t> bias(static_cast<std::size_t>(g.out_channels)), folded(bias.size());
    std::vector<float> multipliers(bias.size(), 1.0f / 4096);
    for (auto& v : in) v = static_cast<std::uint8_t>(random.next() % 256);
    for (auto& w : rows) w = static_cast<std::int8_t>(static_cast<int>(random.next() % 255) - 127);
    k8::pack_layer(rows.data(), bias.data(), g.out_channels, length, 64, packed.data(), folded.data());
    std::vector<std::uint8_t> scratch(static_cast<std::size_t>(std::max<ctresnet::index_t>(k8::conv_scratch_bytes(g), 64)));
    const k8::layer_weights p{packed.data(), folded.data(), multipliers.data()};
    // The spare buffer a block's convs get in the network: one activation buffer.
    std::vector<std::uint8_t> spare(ctresnet::quantized<ctresnet::resnet50<>>::activation_stride);
    const k8::workers work{scratch.data(), nullptr, spare.data(), spare.size()};
    const auto call = [&] { k8::conv(g, in.data(), 64, p, 10, true, out.data(), work); };
    call();
    std::vector<double> us;
    for (int r = 0; r < o.rounds; ++r) {
      const double start = thread_cpu_us();
      for (int i = 0; i < o.runs; ++i) call();
      us.push_back((thread_cpu_us() - start) / o.runs);
    }
    const double macs = double(g.out_height) * g.out_width * g.out_channels * double(length);
    results.push_back({median(us), macs});
    total_us += median(us) * c.count;
  }
  std::printf("%s, int8 convs (%s), one thread: %.2f ms in all\n", model.c_str(), k8::instruction_set, total_us / 1000);
  std::printf("  in HxWxC      out HxWxC     k s  count   us/call  GMAC/s  share\n");
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const ctresnet::kernels::conv_geometry& g = convs[i].shape;
    std::printf("  %3dx%3dx%4d  %3dx%3dx%4d  %d %d  %5d  %8.1f  %6.1f  %4.1f%%\n", g.in_height, g.in_width,
                g.in_channels, g.out_height, g.out_width, g.out_channels, g.kernel, g.stride, convs[i].count,
                results[i].us, results[i].macs / results[i].us / 1000, 100 * results[i].us * convs[i].count / total_us);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options o;
    bool layers = false;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--layers") {
        layers = true;
        continue;
      }
      if (i + 1 >= argc) throw std::invalid_argument("missing value after " + arg);
      const std::string value = argv[++i];
      if (arg == "--models") {
        o.models = split(value);
      } else if (arg == "--threads") {
        o.threads.clear();
        for (const std::string& t : split(value)) o.threads.push_back(std::stoi(t));
      } else if (arg == "--rounds") {
        o.rounds = std::stoi(value);
      } else if (arg == "--runs") {
        o.runs = std::stoi(value);
      } else if (arg == "--warmup") {
        o.warmup = std::stoi(value);
      } else if (arg == "--batch") {
        o.batch = std::stoi(value);
      } else if (arg == "--only") {
        if (value != "int8" && value != "float") throw std::invalid_argument("--only takes int8 or float");
        o.only = value;
      } else {
        throw std::invalid_argument("unknown option " + arg);
      }
    }
    if (o.rounds < 1 || o.runs < 1 || o.batch < 1 || o.threads.empty())
      throw std::invalid_argument("--rounds, --runs and --batch must be at least 1, --threads not empty");
    if (layers) {
      for (const std::string& model : o.models) bench_layers(model, o);
      return 0;
    }
    bool same = true;
    for (const std::string& model : o.models) {
      if (model == "resnet18")
        same &= bench<ctresnet::resnet18<>>(model, o);
      else if (model == "resnet34")
        same &= bench<ctresnet::resnet34<>>(model, o);
      else if (model == "resnet50")
        same &= bench<ctresnet::resnet50<>>(model, o);
      else
        throw std::invalid_argument("unknown model '" + model + "' (resnet18, resnet34, resnet50)");
    }
    return same ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "int8_bench: " << e.what() << "\n";
    return 2;
  }
}
