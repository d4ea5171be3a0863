// Alternates two ctresnet versions (variant.cpp compiled as side a and side b) forward pass by
// forward pass and prints, per model, the median of the per-pair time ratios b/a.
//   ab_driver PAIRS THREADS DEPTH...
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

double forward_a(int depth, int threads, float* logits);
double forward_b(int depth, int threads, float* logits);

namespace {
double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// The comparison itself (main below reports what it throws).
int compare(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: ab_driver PAIRS THREADS DEPTH...\n");
    return 2;
  }
  const int pairs = std::atoi(argv[1]), threads = std::atoi(argv[2]);
  for (int arg = 3; arg < argc; ++arg) {
    const int depth = std::atoi(argv[arg]);
    std::vector<float> a(1000), b(1000);
    for (int i = 0; i < 3; ++i) {  // warm-up: caches, page faults, the pools' threads
      forward_a(depth, threads, a.data());
      forward_b(depth, threads, b.data());
    }
    float difference = 0;
    for (int i = 0; i < 1000; ++i) difference = std::max(difference, std::fabs(a[std::size_t(i)] - b[std::size_t(i)]));
    std::vector<double> ratios, times_a, times_b;
    for (int i = 0; i < pairs; ++i) {  // who goes first alternates
      const bool a_first = i % 2 == 0;
      const double first = a_first ? forward_a(depth, threads, a.data()) : forward_b(depth, threads, b.data());
      const double second = a_first ? forward_b(depth, threads, b.data()) : forward_a(depth, threads, a.data());
      times_a.push_back(a_first ? first : second);
      times_b.push_back(a_first ? second : first);
      ratios.push_back(times_b.back() / times_a.back());
    }
    std::printf("resnet%d, %d thread(s): b/a %.3f   a %.2f ms   b %.2f ms   largest logit difference %.2g\n", depth,
                threads, median(ratios), 1e3 * median(times_a), 1e3 * median(times_b), double(difference));
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return compare(argc, argv);
  } catch (const std::exception& e) {  // such as a weights file (AB_WEIGHTS) that does not load
    std::fprintf(stderr, "ab_driver: %s\n", e.what());
    return 1;
  }
}
