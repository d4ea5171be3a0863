// ONNX Runtime's side of bench/run_bench.py: a worker with the same line protocol as ctresnet_bench.
//
//   node ort_bench.mjs MODEL.onnx INPUT.f32 BATCH THREADS LOGITS.f32
//
// The session runs on the CPU with every graph optimisation (so BatchNorm folds into the convs),
// THREADS intra-op threads, one inter-op thread and sequential execution. Replies, one JSON
// object a line: {"ready":true,...} once set up; {"ms":[...]} for "run K"; {"max_rss_kib":...}
// for "quit", after writing the last logits.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import ort from 'onnxruntime-node';
import { sessionOptions } from './ort_session.mjs';

const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

async function main() {
  const [modelPath, inputPath, batchText, threadsText, logitsPath] = process.argv.slice(2);
  const batch = Number(batchText);
  const threads = Number(threadsText);

  const session = await ort.InferenceSession.create(modelPath, sessionOptions(threads));
  const bytes = readFileSync(inputPath);
  const expected = batch * 3 * 224 * 224;
  if (bytes.length !== expected * 4) throw new Error(`${inputPath}: ${bytes.length} bytes, expected ${expected * 4}`);
  // A view of the file's buffer rather than a copy; a Buffer this large is its own allocation at
  // offset 0, but a misaligned one would have to be copied.
  const images =
    bytes.byteOffset % 4 === 0
      ? new Float32Array(bytes.buffer, bytes.byteOffset, expected)
      : new Float32Array(new Uint8Array(bytes).buffer);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', images, [batch, 3, 224, 224]) };
  const outputName = session.outputNames[0];

  let logits = null;
  reply({ ready: true, onnxruntime: ort.env.versions.common, threads });
  for await (const line of createInterface({ input: process.stdin })) {
    const [verb, count] = line.trim().split(/\s+/);
    if (verb === 'run') {
      const times = [];
      for (let i = 0; i < Number(count); ++i) {
        const start = process.hrtime.bigint();
        const results = await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
        logits = results[outputName];
      }
      reply({ ms: times });
    } else if (verb === 'quit') {
      writeFileSync(logitsPath, Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
      reply({ max_rss_kib: process.resourceUsage().maxRSS });
      await session.release();
      process.exit(0); // stdin's reader would keep the process alive
    } else {
      throw new Error(`unknown command: ${line}`);
    }
  }
  throw new Error('stdin closed before quit');
}

main().catch((error) => {
  reply({ error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
});
