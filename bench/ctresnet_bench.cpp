// ctresnet's side of bench/run_bench.py: a worker process that loads one network, one input batch
// and one thread count, then times forward passes when told to. The driver keeps one such worker
// per configuration alive next to the PyTorch and ONNX Runtime workers and sends each of them a
// few runs in turn, so that any drift of the machine hits all three alike.
//
//   ctresnet_bench MODEL WEIGHTS.safetensors INPUT.f32 BATCH THREADS LOGITS.f32
//
// MODEL is resnet18, resnet34, resnet50, resnet101 or resnet152 (torchvision's, 1000 classes,
// 3x224x224); INPUT.f32 holds BATCH images as raw little-endian NCHW floats. A WEIGHTS file whose
// name ends in .int8.safetensors is a quantized model (tools/quantize.py's format): it runs as
// ctresnet::quantized<MODEL>, float images in, dequantized logits out. The protocol is one line
// each way, the replies being JSON objects:
//
//   (start)  -> {"ready":true, "num_macs":..., "weights_bytes":..., "workspace_bytes":..., ...}
//               or {"ready":false, "unsupported":"why"} (e.g. threads > 1 before the thread pool)
//   run K    -> {"ms":[t1,...,tK]}            K timed forward passes, steady_clock, milliseconds
//   quit     -> {"max_rss_kib":..., "rss_now_kib":...}   after writing the last logits (BATCH x 1000)
//               to LOGITS.f32; the current RSS tells the steady state from the peak
//
// Peak RSS is the point of the exercise as much as time: the process holds the network's state
// (the weights, once), the input batch, the logits and the workspace, and nothing else of size.
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

// The thread pool and the forward overload that takes it came with the GEMM kernels. Against older
// headers the benchmark still builds, runs single-threaded and reports threads > 1 as unsupported.
#if __has_include(<ctresnet/thread_pool.hpp>)
#include <ctresnet/thread_pool.hpp>
#define CTRESNET_BENCH_THREAD_POOL 1
#else
#define CTRESNET_BENCH_THREAD_POOL 0
#endif
// The int8 networks, where the headers have them (with threads).
#if __has_include(<ctresnet/quantized/safetensors.hpp>) && CTRESNET_BENCH_THREAD_POOL
#include <ctresnet/quantized/safetensors.hpp>
#define CTRESNET_BENCH_INT8 1
#else
#define CTRESNET_BENCH_INT8 0
#endif

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct options {
  std::string model, weights, input, logits;
  long batch = 0;
  int threads = 0;
};

/// Peak resident set size of this process so far, in KiB (Linux reports ru_maxrss in KiB).
long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/// Resident set size right now, in KiB (second field of /proc/self/statm, in pages); -1 if unknown.
long rss_now_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = -1;
  if (!(statm >> size >> resident)) return -1;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// One reply line; flushed at once, since the driver is waiting for it.
void reply(const std::string& json) { std::cout << json << std::endl; }

/// Reads the whole file straight into the one buffer the network reads from (no second copy).
std::vector<float> read_input(const std::string& path, std::size_t floats) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw std::runtime_error(path + ": cannot open the input file");
  const auto bytes = static_cast<std::size_t>(file.tellg());
  if (bytes != floats * sizeof(float))
    throw std::runtime_error(path + ": " + std::to_string(bytes) + " bytes, expected " +
                             std::to_string(floats * sizeof(float)) + " (the batch as float32 NCHW)");
  std::vector<float> data(floats);
  file.seekg(0);
  file.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(bytes));
  if (!file) throw std::runtime_error(path + ": cannot read the input file");
  return data;
}

void write_logits(const std::string& path, const std::vector<float>& logits) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
  if (!file.flush()) throw std::runtime_error(path + ": cannot write the logits");
}

/// What the worker needs to know of a float network, or of an int8 one (Int8 = true; Net is then
/// ctresnet::quantized<Float>).
template <class Net, bool Int8>
struct precision;

template <class Net>
struct precision<Net, false> {
  using workspace_element = float;
  static void load(Net& net, const std::string& path) { ctresnet::load_safetensors(net, path); }
  static std::size_t workspace_elements(int threads) {
#if CTRESNET_BENCH_THREAD_POOL
    return static_cast<std::size_t>(Net::workspace_floats_for(threads));
#else
    (void)threads;
    return static_cast<std::size_t>(Net::workspace_floats);
#endif
  }
  static constexpr std::size_t state_bytes = static_cast<std::size_t>(Net::state_floats) * sizeof(float);
  static constexpr std::size_t params_bytes = static_cast<std::size_t>(Net::num_params) * sizeof(float);
};

#if CTRESNET_BENCH_INT8
template <class Float>
struct precision<ctresnet::quantized<Float>, true> {
  using Net = ctresnet::quantized<Float>;
  using workspace_element = std::byte;
  static void load(Net& net, const std::string& path) { ctresnet::load_int8_safetensors(net, path); }
  static std::size_t workspace_elements(int threads) { return Net::workspace_bytes_for(threads); }
  static constexpr std::size_t state_bytes = Net::state_bytes;
  static constexpr std::size_t params_bytes = static_cast<std::size_t>(Float::num_params);  // one byte each
};
#endif

template <class Net, bool Int8, class Float>
int run(const options& o) {
  using input_shape = typename Float::input_shape;
  using traits = precision<Net, Int8>;
  Net net;
  traits::load(net, o.weights);
  // The loader's staging buffers are gone by now, but their peak is part of ru_maxrss; recording
  // it here tells a loading peak from a running one.
  const long rss_after_load = max_rss_kib();

  const auto batch = static_cast<Eigen::Index>(o.batch);
  std::vector<float> input = read_input(o.input, static_cast<std::size_t>(o.batch * input_shape::size));
  std::vector<float> logits(static_cast<std::size_t>(o.batch * Float::num_classes));
  const typename Net::input_map images(input.data(), batch, input_shape::channels, input_shape::height,
                                       input_shape::width);
  const typename Net::output_map outputs(logits.data(), batch, Float::num_classes);
  std::vector<typename traits::workspace_element> workspace(traits::workspace_elements(o.threads));

#if CTRESNET_BENCH_THREAD_POOL
  const char* api = "thread_pool";
  ctresnet::thread_pool pool(o.threads);
  const auto forward = [&] { net.forward(images, outputs, workspace.data(), pool); };
#else
  const char* api = "single_thread";
  if (o.threads != 1) {
    reply(R"({"ready":false,"unsupported":"threads > 1 needs <ctresnet/thread_pool.hpp>, which this ctresnet lacks"})");
    return 0;
  }
  const auto forward = [&] { net.forward(images, outputs, workspace.data()); };
#endif

  std::ostringstream ready;
  ready << R"({"ready":true,"model":)" << json_string(o.model) << R"(,"precision":")" << (Int8 ? "int8" : "float32")
        << R"(","api":")" << api << R"(","batch":)" << o.batch << R"(,"threads":)" << o.threads
        << R"(,"num_macs":)" << Float::num_macs << R"(,"params_bytes":)" << traits::params_bytes
        << R"(,"weights_bytes":)" << traits::state_bytes
        << R"(,"workspace_bytes":)" << workspace.size() * sizeof(typename traits::workspace_element)
        << R"(,"input_bytes":)" << input.size() * sizeof(float)
        << R"(,"rss_after_load_kib":)" << rss_after_load << "}";
  reply(ready.str());

  std::string command;
  while (std::getline(std::cin, command)) {
    std::istringstream words(command);
    std::string verb;
    words >> verb;
    if (verb == "run") {
      int runs = 0;
      if (!(words >> runs) || runs < 1) throw std::runtime_error("bad command: " + command);
      std::ostringstream times;
      times.precision(6);
      times << R"({"ms":[)";
      for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        forward();
        const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
        times << (i ? "," : "") << elapsed.count();
      }
      reply(times.str() + "]}");
    } else if (verb == "quit") {
      write_logits(o.logits, logits);
      reply(R"({"max_rss_kib":)" + std::to_string(max_rss_kib()) + R"(,"rss_now_kib":)" +
            std::to_string(rss_now_kib()) + "}");
      return 0;
    } else {
      throw std::runtime_error("unknown command: " + command);
    }
  }
  throw std::runtime_error("stdin closed before quit");
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class Float>
int run_precision(const options& o) {
  if (!ends_with(o.weights, ".int8.safetensors")) return run<Float, false, Float>(o);
#if CTRESNET_BENCH_INT8
  return run<ctresnet::quantized<Float>, true, Float>(o);
#else
  reply(R"({"ready":false,"unsupported":"int8 needs <ctresnet/quantized/safetensors.hpp>, which this ctresnet lacks"})");
  return 0;
#endif
}

int dispatch(const options& o) {
  if (o.model == "resnet18") return run_precision<ctresnet::resnet18<>>(o);
  if (o.model == "resnet34") return run_precision<ctresnet::resnet34<>>(o);
  if (o.model == "resnet50") return run_precision<ctresnet::resnet50<>>(o);
  if (o.model == "resnet101") return run_precision<ctresnet::resnet101<>>(o);
  if (o.model == "resnet152") return run_precision<ctresnet::resnet152<>>(o);
  throw std::invalid_argument("unknown model '" + o.model + "' (resnet18, resnet34, resnet50, resnet101, resnet152)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: " << argv[0] << " MODEL WEIGHTS.safetensors INPUT.f32 BATCH THREADS LOGITS.f32\n";
    return 2;
  }
  try {
    options o{argv[1], argv[2], argv[3], argv[6], std::stol(argv[4]), std::stoi(argv[5])};
    if (o.batch < 1 || o.threads < 1) throw std::invalid_argument("BATCH and THREADS must be at least 1");
    return dispatch(o);
  } catch (const std::exception& e) {
    reply(R"({"error":)" + json_string(e.what()) + "}");
    return 1;
  }
}
