// The browser benchmark's page script (bench/web/index.html): ctresnet's wasm module and
// onnxruntime-web's wasm backend in one page, on the same weights and the same input, timed in
// turns. bench/web/run.mjs serves the files and calls window.runBenchmark(config):
//
//   /ctresnet/ctresnet_web_bench.mjs   ctresnet's module (bench/web/ctresnet_web_bench.cpp)
//   /ort/ort.wasm.min.mjs               onnxruntime-web (node_modules/onnxruntime-web/dist/)
//   /models/...                        the models and inputs of bench/export_models.py
//
// A run is `passes` forward passes back to back, timed with performance.now() around the calls
// (as a page calls them: ctresnet's synchronous export, ORT's awaited session.run) and divided by
// `passes`; the page is cross-origin isolated, so the clock has 5 us steps rather than 100 us.
import createCtresnetWebBench from '/ctresnet/ctresnet_web_bench.mjs';
import * as ort from '/ort/ort.wasm.min.mjs';

const log = (text) => {
  document.getElementById('log').textContent += text + '\n';
  console.log(text);
};

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/// ctresnet's side: loads the safetensors bytes into model `id` of the module.
async function ctresnetRunner(module, model) {
  const check = (status, what) => {
    if (status !== 0) throw new Error(`ctresnet ${what}: ${module.UTF8ToString(module._ctresnet_web_error())}`);
  };
  const weights = await fetchBytes(model.weights);
  const bytes = module._malloc(weights.length);
  if (!bytes) throw new Error(`ctresnet: no memory for the ${weights.length} bytes of ${model.weights}`);
  module.HEAPU8.set(weights, bytes);
  try {
    check(module._ctresnet_web_load(model.id, bytes, weights.length), `load ${model.weights}`);
  } finally {
    module._free(bytes);
  }
  const inputPtr = module._ctresnet_web_input(model.id);
  const logitsPtr = module._ctresnet_web_logits(model.id);
  if (!inputPtr || !logitsPtr) check(1, 'buffers');
  const input = await fetchBytes(model.input);
  // HEAPF32 is taken anew after every call that may grow the memory (the loader's above).
  module.HEAPF32.set(new Float32Array(input.buffer, input.byteOffset, input.length / 4), inputPtr / 4);
  return {
    async run(passes) {
      const start = performance.now();
      for (let p = 0; p < passes; ++p) {
        if (module._ctresnet_web_forward(model.id) !== 0) check(1, 'forward');
      }
      return (performance.now() - start) / passes;
    },
    logits() { return Array.from(module.HEAPF32.subarray(logitsPtr / 4, logitsPtr / 4 + model.classes)); },
  };
}

/// onnxruntime-web's side: one session of the ONNX model on the wasm backend.
async function ortRunner(model) {
  const session = await ort.InferenceSession.create(await fetchBytes(model.onnx), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const input = await fetchBytes(model.input);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(input.buffer), model.shape)};
  let last = null;
  return {
    async run(passes) {
      const start = performance.now();
      for (let p = 0; p < passes; ++p) last = await session.run(feeds);
      return (performance.now() - start) / passes;
    },
    logits() { return Array.from(last[session.outputNames[0]].data); },
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
};

/// Warm-up, then `rounds` rounds in which each framework does `runsPerTurn` runs, the order
/// alternating from round to round.
async function measure(model, runners) {
  const names = Object.keys(runners);
  for (const name of names) {
    for (let w = 0; w < model.warmup; ++w) await runners[name].run(model.passes);
  }
  const ms = Object.fromEntries(names.map((n) => [n, []]));
  const roundRatios = [];
  for (let round = 0; round < model.rounds; ++round) {
    const order = round % 2 ? [...names].reverse() : names;
    const turn = {};
    for (const name of order) {
      turn[name] = [];
      for (let r = 0; r < model.runsPerTurn; ++r) turn[name].push(await runners[name].run(model.passes));
      ms[name].push(...turn[name]);
    }
    roundRatios.push(median(turn.ctresnet) / median(turn.ort));
  }
  const logits = Object.fromEntries(names.map((n) => [n, runners[n].logits()]));
  const maxAbs = Math.max(...logits.ort.map(Math.abs));
  const maxDiff = Math.max(...logits.ort.map((v, i) => Math.abs(v - logits.ctresnet[i])));
  const tolerance = 1e-4 * Math.max(1, maxAbs);
  return {
    model: model.name,
    passesPerRun: model.passes,
    ms,
    roundRatios,
    median: Object.fromEntries(names.map((n) => [n, median(ms[n])])),
    ratio: median(roundRatios),
    logits: {maxAbs, maxDiff, tolerance, agree: maxDiff <= tolerance,
             argmax: Object.fromEntries(names.map((n) => [n, logits[n].indexOf(Math.max(...logits[n]))]))},
  };
}

window.runBenchmark = async (config) => {
  if (!crossOriginIsolated) log('warning: the page is not cross-origin isolated; performance.now() has 100 us steps');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  const module = await createCtresnetWebBench();
  const results = [];
  for (const model of config.models) {
    log(`${model.name}: loading`);
    const runners = {ctresnet: await ctresnetRunner(module, model), ort: await ortRunner(model)};
    log(`${model.name}: ${model.warmup} warm-up runs each, then ${model.rounds} rounds of ${model.runsPerTurn} runs ` +
        `of ${model.passes} passes`);
    const result = await measure(model, runners);
    log(`${model.name}: ctresnet ${result.median.ctresnet.toFixed(3)} ms, ORT-web ${result.median.ort.toFixed(3)} ms, ` +
        `ratio ${result.ratio.toFixed(2)}; max |logit difference| ${result.logits.maxDiff.toExponential(2)}`);
    results.push(result);
  }
  return {
    results,
    userAgent: navigator.userAgent,
    crossOriginIsolated,
    ortVersion: ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown',
  };
};
window.benchmarkReady = true;
