// ONNX Runtime's time per node of a forward pass, from its own profiler: the other half of
// bench/compare_layers.py, which sets these node times beside ctresnet's layer_times.
//
//   node ort_layer_times.mjs MODEL.onnx THREADS PASSES
//
// The session is configured as bench/ort_bench.mjs configures it (ort_session.mjs), with
// profiling on. After 3 warm-up passes, PASSES passes are profiled. Prints one JSON object:
// "nodes", in the order they ran, each with its name, its operator and its median milliseconds,
// and "pass_ms", the median of the whole passes.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { sessionOptions } from './ort_session.mjs';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const [modelPath, threadsText, passesText] = process.argv.slice(2);
  const threads = Number(threadsText);
  const passes = Number(passesText);
  if (!modelPath || !(threads >= 1) || !(passes >= 1))
    throw new Error('usage: node ort_layer_times.mjs MODEL.onnx THREADS PASSES');
  const prefix = `ort_layer_times_${process.pid}_`;
  const session = await ort.InferenceSession.create(
    modelPath,
    sessionOptions(threads, { enableProfiling: true, profileFilePrefix: join(tmpdir(), prefix) }),
  );
  const input = new Float32Array(3 * 224 * 224).map((_, i) => ((i * 7919) % 1000) / 500 - 1);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, 224, 224]) };
  const warmUp = 3;
  for (let i = 0; i < warmUp + passes; ++i) await session.run(feeds);
  await session.endProfiling();  // writes <prefix>_<date>.json into the temporary directory
  const written = readdirSync(tmpdir()).filter((f) => f.startsWith(prefix));
  if (written.length !== 1)
    throw new Error(`expected one profile ${prefix}*.json in ${tmpdir()}, found ${written.length}`);
  const profile = join(tmpdir(), written[0]);
  let events;
  try {
    events = JSON.parse(readFileSync(profile, 'utf8'));
  } finally {
    rmSync(profile);
  }

  // Each pass is one model_run event; its nodes are the kernel_time events within it. The
  // warm-up passes come first, so the timed passes' nodes are those from the first timed one on.
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(warmUp);
  const timedFrom = runs[0].ts;
  const byName = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < timedFrom) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!byName.has(name)) byName.set(name, { name, op: e.args.op_name, us: [] });
    byName.get(name).us.push(e.dur);
  }
  const nodes = [...byName.values()].map((n) => ({ name: n.name, op: n.op, ms: median(n.us) / 1000 }));
  const passMs = median(runs.map((r) => r.dur)) / 1000;
  process.stdout.write(JSON.stringify({ threads, passes, pass_ms: passMs, nodes }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`ort_layer_times: ${error.message}\n`);
  process.exit(1);
});
