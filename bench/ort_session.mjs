// How bench/ runs ONNX Runtime on the CPU, shared by ort_bench.mjs (the benchmark's worker) and
// ort_layer_times.mjs (its profile of each node), so that both time the same configuration: the
// CPU provider with every graph optimisation (BatchNorm folds into the convs), `threads` intra-op
// threads, one inter-op thread and sequential execution.
export function sessionOptions(threads, extra = {}) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...extra,
  };
}
