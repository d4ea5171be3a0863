// fma_peak: this machine's fp32 FMA throughput, the ceiling that the benchmark's GFLOP/s are
// measured against.
//
//   fma_peak [MAX_THREADS [REPEATS [SECONDS]]] [--no-check]     prints one JSON object
//
// bench/run_bench.py runs it once in full at the start, and as a short probe (1 thread, one
// repeat of 0.05 s, --no-check) in every round of every configuration, since the speed of a
// virtual machine can drift by a third within minutes.
//
// Each thread runs `chains` independent chains acc = acc * m + c on Eigen's widest float packet
// (16 floats with AVX-512). An FMA has a latency of about 4 cycles and a core issues up to two a
// cycle, so at least 8 chains must be in flight. The chains and the two constants must all stay in
// registers, or the loop also loads and stores: 16 chains with AVX-512's 32 registers, 12 with
// the 16 of AVX2 (there 16 chains spill to the stack and measured about half of what 12 give,
// on an AMD EPYC Zen 4 with -march=x86-64-v3). The loop body is nothing but the FMAs.
//
// Why the compiler cannot skip the work: m, c and the iteration count are run-time values, float
// arithmetic is not reassociated without -ffast-math, and every accumulator ends up in a checksum
// that is printed. As a check that the time really is the FMAs, doubling the iteration count must
// double the time (reported as "doubling_ratio", from the fastest of three runs each way; null
// with --no-check).
//
// Output: the median GFLOP/s of REPEATS (default 7) repeats of about SECONDS (default 0.2),
// per_core_gflops for one thread and gflops_by_threads for 1..MAX_THREADS threads together, and
// the best repeat beside each.
#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using packet = Eigen::internal::packet_traits<float>::type;
constexpr int lanes = Eigen::internal::packet_traits<float>::size;
#if defined(__AVX512F__) || defined(__aarch64__)
constexpr int vector_registers = 32;
#else
constexpr int vector_registers = 16;
#endif
constexpr int chains = vector_registers >= 32 ? 16 : 12;
constexpr double flops_per_iteration = 2.0 * lanes * chains;  // an FMA is two flops per lane

/// Runs the chains for `iterations` steps; returns the sum of all accumulators' lanes.
float fma_chains(long iterations, float multiplier, float addend) {
  using Eigen::internal::padd;
  using Eigen::internal::pmadd;
  using Eigen::internal::predux;
  using Eigen::internal::pset1;
  const packet m = pset1<packet>(multiplier);
  const packet c = pset1<packet>(addend);
  packet acc[chains];
  for (int k = 0; k < chains; ++k) acc[k] = pset1<packet>(1.0f + 0.001f * static_cast<float>(k));
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < chains; ++k) acc[k] = pmadd(acc[k], m, c);
  }
  packet sum = acc[0];
  for (int k = 1; k < chains; ++k) sum = padd(sum, acc[k]);
  return predux(sum);
}

struct measurement {
  double gflops;   // all threads together
  double seconds;  // of the slowest thread
  float checksum;
};

/// `threads` threads run fma_chains at once; each times itself after a common start signal.
measurement measure(int threads, long iterations, float multiplier, float addend) {
  std::atomic<bool> go{false};
  std::atomic<int> waiting{0};
  std::vector<double> seconds(static_cast<std::size_t>(threads));
  std::vector<float> sums(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ++waiting;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const auto start = std::chrono::steady_clock::now();
      sums[static_cast<std::size_t>(t)] = fma_chains(iterations, multiplier, addend);
      seconds[static_cast<std::size_t>(t)] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  }
  while (waiting.load() != threads) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (std::thread& w : workers) w.join();
  const double slowest = *std::max_element(seconds.begin(), seconds.end());
  float checksum = 0;
  for (const float s : sums) checksum += s;
  return {threads * iterations * flops_per_iteration / slowest * 1e-9, slowest, checksum};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool check = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-check")
      check = false;
    else
      positional.push_back(arg);
  }
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int max_threads = positional.size() > 0 ? std::stoi(positional[0]) : cpus;
  const int repeats = positional.size() > 1 ? std::stoi(positional[1]) : 7;
  const double seconds = positional.size() > 2 ? std::stod(positional[2]) : 0.2;
  if (max_threads < 1 || repeats < 1 || !(seconds > 0)) {
    std::fprintf(stderr, "usage: %s [MAX_THREADS [REPEATS [SECONDS]]] [--no-check]\n", argv[0]);
    return 2;
  }
  // Values that keep the accumulators near 1 for ever: no overflow, no denormals.
  const float multiplier = 0.999999f + static_cast<float>(argc) * 1e-12f;
  const float addend = 1e-6f;

  // Iterations for about `seconds` a repeat, from a short calibration run; the second of two, as
  // the first also pays for waking the vector units up.
  const long probe = 1'000'000;
  measure(1, probe, multiplier, addend);
  const double probe_seconds = measure(1, probe, multiplier, addend).seconds;
  const long iterations = std::max(probe, static_cast<long>(probe * seconds / probe_seconds));

  // The median is the figure; the best repeat is reported beside it, since on a noisy host (a VM
  // whose neighbours share the hardware) the two drift apart and the gap says how noisy it was.
  float checksum = 0;
  std::string median_json, best_json;
  double one_thread = 0, one_thread_best = 0;
  for (int threads = 1; threads <= max_threads; ++threads) {
    std::vector<double> rates;
    for (int r = 0; r < repeats; ++r) {
      const measurement m = measure(threads, iterations, multiplier, addend);
      rates.push_back(m.gflops);
      checksum += m.checksum;
    }
    const double rate = median(rates), best = *std::max_element(rates.begin(), rates.end());
    if (threads == 1) {
      one_thread = rate;
      one_thread_best = best;
    }
    const std::string key = (threads > 1 ? ",\"" : "\"") + std::to_string(threads) + "\":";
    median_json += key + std::to_string(rate);
    best_json += key + std::to_string(best);
  }

  // The fastest of three runs each way, so that a moment of noise does not fail the check.
  double single = 1e300, twice = 1e300;
  for (int r = 0; check && r < 3; ++r) {
    const measurement a = measure(1, iterations, multiplier, addend);
    const measurement b = measure(1, 2 * iterations, multiplier, addend);
    single = std::min(single, a.seconds);
    twice = std::min(twice, b.seconds);
    checksum += a.checksum + b.checksum;
  }
  const bool sane = std::isfinite(checksum) && checksum > 0;

  std::printf(
      "{\"lanes\":%d,\"chains\":%d,\"iterations\":%ld,\"repeats\":%d,\"per_core_gflops\":%.2f,"
      "\"per_core_best_gflops\":%.2f,\"gflops_by_threads\":{%s},\"best_gflops_by_threads\":{%s},"
      "\"doubling_ratio\":%s,\"checksum\":%.6g,\"checksum_ok\":%s}\n",
      lanes, chains, iterations, repeats, one_thread, one_thread_best, median_json.c_str(), best_json.c_str(),
      check ? std::to_string(twice / single).c_str() : "null", static_cast<double>(checksum), sane ? "true" : "false");
  return sane ? 0 : 1;
}
