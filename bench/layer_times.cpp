// Where a forward pass spends its time, layer by layer, on one thread and on several: each job a
// network gives its thread pool (every conv, the stem's with its max pool, the classifier) is timed
// on 1 thread and on N, and so is each of the N threads' share of it. A layer whose N-thread time
// is well over 1/N of its 1-thread time splits badly: its busiest thread worked longer than the
// others (an uneven split, or a slower CPU), or all of them worked longer than 1/N (memory or
// cache traffic between the cores). A job's time beyond its busiest thread's is the pool's
// hand-over. The time outside the jobs is shown too: before the first (converting the input,
// waking the pool), between them, and after the last.
//
//   layer_times [--model resnet18|resnet50] [--threads N] [--passes P] [--weights FILE.safetensors]
//               [--evict MIB]
//
// The two thread counts alternate pass by pass, so that both see the same machine; every figure
// is a median over the passes. Without --weights the network has seeded random weights. With
// --evict, evict_caches (built beside this program) overwrites MIB MiB on every CPU as a process
// of its own before every pass, as run_bench.py --cold does.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

// What the timer uses has external linkage: ctresnet's inline functions hold a part_timer.
namespace layer_times {

using clock_type = std::chrono::steady_clock;

inline double seconds_since_start() {
  static const clock_type::time_point start = clock_type::now();
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// One pool job of a forward pass: when it began and ended, and how long each thread worked on it.
struct job_record {
  double begin = 0, end = 0;
  std::vector<double> busy;
};

/// The jobs of the pass being timed, in order.
inline std::vector<job_record> jobs;

/// The thread that runs the forward passes.
inline const std::thread::id caller = std::this_thread::get_id();

/// Made by ctresnet for every pool job (CTRESNET_PART_TIMER): records the job and how long each
/// thread worked on it. An index that the caller runs for a late worker counts as the caller's.
class part_timer {
 public:
  part_timer() : index_(jobs.size()) {
    jobs.push_back({seconds_since_start(), 0, std::vector<double>(8, 0.0)});
  }
  part_timer(const part_timer&) = delete;
  part_timer& operator=(const part_timer&) = delete;
  ~part_timer() { jobs[index_].end = seconds_since_start(); }
  void start(int thread) { started_[thread] = seconds_since_start(); }
  void stop(int thread) {
    const bool on_caller = std::this_thread::get_id() == caller;
    jobs[index_].busy[on_caller ? 0 : std::size_t(thread)] += seconds_since_start() - started_[thread];
  }

 private:
  std::size_t index_;
  double started_[8] = {};
};

}  // namespace layer_times

#define CTRESNET_PART_TIMER layer_times::part_timer
#include <ctresnet/ctresnet.hpp>
#include <ctresnet/safetensors.hpp>

#include <exception>
#include <iostream>
#include <stdexcept>

namespace {

using layer_times::jobs;
using layer_times::seconds_since_start;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// The names and multiply-adds of the pool's jobs in the order a forward pass runs them: the stem
/// with its max pool (one job, "conv1+maxpool", where the stem pools its conv band by band), each
/// block's convs with its shortcut's (a basic block's before its last conv, a bottleneck's first:
/// see blocks.hpp), the classifier.
template <class Net>
std::vector<ctresnet::layer_info> jobs_in_order() {
  std::vector<ctresnet::layer_info> order, block;
  bool bottleneck = false;
  const auto flush = [&] {
    const auto shortcut = std::find_if(block.begin(), block.end(), [](const ctresnet::layer_info& l) {
      return l.name.find("downsample") != std::string::npos;
    });
    if (shortcut != block.end() && block.size() > 1)
      std::rotate(bottleneck ? block.begin() : block.end() - 2, shortcut, shortcut + 1);
    order.insert(order.end(), block.begin(), block.end());
    block.clear();
  };
  Net::visit_layers([&](const ctresnet::layer_info& layer) {
    if (layer.depth <= 2) flush();  // a block, or a layer outside the blocks, follows the block before
    if (layer.depth == 2) bottleneck = layer.type == "Bottleneck";
    const bool job = layer.type.rfind("Conv2d", 0) == 0 || layer.type.rfind("MaxPool2d", 0) == 0 ||
                     layer.type.rfind("Linear", 0) == 0;
    if (!job) return;
    if (Net::stem_type::fused_pool && layer.depth < 3 && layer.type.rfind("MaxPool2d", 0) == 0)
      order.back().name += "+" + layer.name;
    else
      (layer.depth >= 3 ? block : order).push_back(layer);
  });
  flush();
  return order;
}

template <class Net>
int run(int threads, int passes, const std::string& weights, const std::string& evict) {
  Net net(1);
  if (!weights.empty()) ctresnet::load_safetensors(net, weights);
  typename Net::input_tensor input(1, 3, 224, 224);
  ctresnet::random_generator generator(1);
  for (ctresnet::index_t i = 0; i < input.size(); ++i) input.data()[i] = static_cast<float>(generator.normal());
  std::vector<float> logits(Net::num_classes);
  ctresnet::thread_pool one(1), many(threads);
  std::vector<float> workspace(static_cast<std::size_t>(Net::workspace_floats_for(threads)));

  // [thread count][job] -> samples; and the whole passes.
  std::vector<std::vector<double>> time[2], busiest[2], least[2];
  std::vector<double> total[2];
  // Outside the jobs: before the first (input conversion, waking the pool), between them (the
  // caller's work between convs and the pool's hand-over), after the last.
  std::vector<double> before[2], between[2], after[2];
  for (int pass = 0; pass < passes + 3; ++pass) {
    for (int side = 0; side < 2; ++side) {
      if (!evict.empty() && std::system(evict.c_str()) != 0) throw std::runtime_error("failed: " + evict);
      jobs.clear();
      const double begin = seconds_since_start();
      net.forward(typename Net::input_map(input.data(), input.dimensions()),
                  typename Net::output_map(logits.data(), 1, Net::num_classes), workspace.data(),
                  side == 0 ? one : many);
      const double seconds = seconds_since_start() - begin;
      if (pass < 3) continue;  // warm-up
      const int n = side == 0 ? 1 : threads;
      double gaps = 0;
      for (std::size_t j = 1; j < jobs.size(); ++j) gaps += jobs[j].begin - jobs[j - 1].end;
      before[side].push_back(jobs.front().begin - begin);
      between[side].push_back(gaps);
      after[side].push_back(begin + seconds - jobs.back().end);
      time[side].resize(jobs.size());
      busiest[side].resize(jobs.size());
      least[side].resize(jobs.size());
      for (std::size_t j = 0; j < jobs.size(); ++j) {
        const auto first = jobs[j].busy.begin(), last = first + n;
        time[side][j].push_back(jobs[j].end - jobs[j].begin);
        busiest[side][j].push_back(*std::max_element(first, last));
        least[side][j].push_back(*std::min_element(first, last));
      }
      total[side].push_back(seconds);
    }
  }

  const auto names = jobs_in_order<Net>();
  const bool named = names.size() == time[0].size();
  std::printf("%-28s %9s %9s %6s %9s %9s %8s\n", "job", "1T ms", "NT ms", "NT/1T", "busiest", "least", "1T GF/s");
  double sum[2] = {0, 0};
  for (std::size_t j = 0; j < time[0].size(); ++j) {
    const double t1 = median(time[0][j]), tn = median(time[1][j]);
    sum[0] += t1;
    sum[1] += tn;
    const std::string name = named ? names[j].name + " " + names[j].type.substr(names[j].type.find(' ') + 1)
                                   : "job " + std::to_string(j);
    const double gflops = named && names[j].macs ? 2e-9 * double(names[j].macs) / t1 : 0;
    std::printf("%-28s %9.3f %9.3f %6.2f %9.3f %9.3f %8.0f\n", name.c_str(), 1e3 * t1, 1e3 * tn, tn / t1,
                1e3 * median(busiest[1][j]), 1e3 * median(least[1][j]), gflops);
  }
  const double t1 = median(total[0]), tn = median(total[1]);
  std::printf("whole pass: 1 thread %.2f ms, %d threads %.2f ms (%.3f); in jobs %.2f and %.2f ms\n", 1e3 * t1,
              threads, 1e3 * tn, tn / t1, 1e3 * sum[0], 1e3 * sum[1]);
  for (int side = 0; side < 2; ++side)
    std::printf("outside the jobs, %d thread(s): %.3f ms before the first, %.3f ms between them, %.3f ms after the "
                "last\n",
                side == 0 ? 1 : threads, 1e3 * median(before[side]), 1e3 * median(between[side]),
                1e3 * median(after[side]));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string model = "resnet18", weights, evict;
    int threads = 2, passes = 40, evict_mib = 0;
    bool evicting = false;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      const std::string value = argv[++i];
      if (arg == "--model") model = value;
      else if (arg == "--threads") threads = std::stoi(value);
      else if (arg == "--passes") passes = std::stoi(value);
      else if (arg == "--weights") weights = value;
      else if (arg == "--evict") {
        evicting = true;
        evict_mib = std::stoi(value);
      } else {
        throw std::invalid_argument("unknown option " + arg);
      }
    }
    if (threads < 2 || threads > 8) throw std::invalid_argument("--threads takes 2 to 8");
    if (passes < 1) throw std::invalid_argument("--passes takes a positive number");
    if (evicting && evict_mib < 1) throw std::invalid_argument("--evict takes a positive number of MiB");
    if (evicting) {
      const std::string self = argv[0];
      const std::string dir = self.find('/') == std::string::npos ? "." : self.substr(0, self.rfind('/'));
      evict = "'" + dir + "/evict_caches' " + std::to_string(evict_mib) + " " +
              std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " > /dev/null";
    }
    if (model == "resnet18") return run<ctresnet::resnet18<>>(threads, passes, weights, evict);
    if (model == "resnet50") return run<ctresnet::resnet50<>>(threads, passes, weights, evict);
    throw std::invalid_argument("--model takes resnet18 or resnet50, not " + model);
  } catch (const std::exception& e) {
    std::cerr << "layer_times: " << e.what() << "\n";
    return 2;
  }
}
