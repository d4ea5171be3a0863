#!/usr/bin/env node
// The browser benchmark in one command: ctresnet-wasm against onnxruntime-web (wasm backend, SIMD,
// 1 thread) in Debian's headless Chromium, on torchvision resnet18 (1x3x224x224, seeded random
// weights) and on the digits model (1x1x16x16). See bench/README.md, "In the browser".
//
//   node bench/web/run.mjs [--rounds N] [--repeat K] [--models resnet18,digits]
//
// It builds ctresnet's module into build-bench/wasm/ (cmake/toolchains/wasm.cmake), installs the
// pinned npm packages (npm ci), exports the models into build-bench/models/ (bench/export_models.py),
// serves the files on 127.0.0.1, runs the page in Chromium, prints a markdown table and writes it,
// with every sample, to build-bench/web-results.md and build-bench/web-results.json. --repeat K
// runs the whole page K times in fresh browsers, to show the spread between runs. The exit status
// is 1 if the two frameworks' logits disagree.
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, createReadStream, statSync, writeFileSync, readFileSync} from 'node:fs';
import {createServer} from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const buildDir = path.join(root, 'build-bench');
const wasmDir = path.join(buildDir, 'wasm');
const modelsDir = path.join(buildDir, 'models');
const python = '/usr/bin/python3';
const chromium = '/usr/bin/chromium';

function parseArgs(argv) {
  const options = {rounds: 15, repeat: 1, models: ['resnet18', 'digits']};
  for (let i = 0; i < argv.length; ++i) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    if (argv[i] === '--rounds') options.rounds = Number(value());
    else if (argv[i] === '--repeat') options.repeat = Number(value());
    else if (argv[i] === '--models') options.models = value().split(',');
    else throw new Error(`unknown argument ${argv[i]} (expected --rounds N, --repeat K, --models resnet18,digits)`);
  }
  if (!(options.rounds >= 1) || !(options.repeat >= 1)) throw new Error('--rounds and --repeat must be at least 1');
  for (const m of options.models) {
    if (!['resnet18', 'digits'].includes(m)) throw new Error(`unknown model ${m} (expected resnet18 or digits)`);
  }
  return options;
}

function step(what, command, args, env = {}) {
  console.log(`== ${what}`);
  const result = spawnSync(command, args, {cwd: root, stdio: 'inherit', env: {...process.env, ...env}});
  if (result.status !== 0) throw new Error(`${what} failed: ${command} ${args.join(' ')}`);
}

function prepare() {
  if (!existsSync(path.join(wasmDir, 'CMakeCache.txt'))) {
    step('configure the wasm build', 'cmake', ['-S', root, '-B', wasmDir, '--toolchain',
      path.join(root, 'cmake/toolchains/wasm.cmake'), '-DCMAKE_BUILD_TYPE=Release', '-DCTRESNET_BUILD_BENCH=ON',
      '-DCTRESNET_BUILD_TESTS=OFF']);
  }
  step('build ctresnet_web_bench', 'cmake', ['--build', wasmDir, '--target', 'ctresnet_web_bench', '-j2']);
  if (!existsSync(path.join(here, 'node_modules', 'onnxruntime-web')) ||
      !existsSync(path.join(here, 'node_modules', 'puppeteer-core'))) {
    // No install scripts: puppeteer-core downloads no browser, and none of the packages needs one.
    step('npm ci', 'npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', here]);
  }
  step('export the models', python, [path.join(root, 'bench/export_models.py'), '--cache', modelsDir, '--depths', '18',
    '--batches', '1', '--digits']);
}

const contentTypes = {
  '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/// A static server on 127.0.0.1 for the page, the two runtimes and the models. The page is
/// cross-origin isolated (COOP/COEP), which gives performance.now() its fine resolution.
function serve() {
  const routes = [
    ['/ctresnet/', path.join(wasmDir, 'bench')],
    ['/ort/', path.join(here, 'node_modules', 'onnxruntime-web', 'dist')],
    ['/models/', modelsDir],
    ['/digits/', path.join(root, 'examples', 'digits')],  // the digits model as committed
    ['/', here],
  ];
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    const pathname = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname);
    const [prefix, dir] = routes.find(([p]) => pathname.startsWith(p));
    const file = path.join(dir, pathname.slice(prefix.length));
    if (!file.startsWith(dir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, {'Content-Type': 'text/plain'}).end(`not found: ${pathname}\n`);
      return;
    }
    response.writeHead(200, {
      'Content-Type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function modelConfigs(options) {
  const all = {
    resnet18: {name: 'resnet18', id: 0, weights: '/models/resnet18_seed0.safetensors', onnx: '/models/resnet18_seed0.onnx',
      input: '/models/input_b1_seed1.f32', shape: [1, 3, 224, 224], classes: 1000,
      warmup: 3, rounds: options.rounds, runsPerTurn: 2, passes: 1},
    // A pass takes under a millisecond: a run is 50 passes, so that one timing spans tens of ms.
    digits: {name: 'digits', id: 1, weights: '/digits/resnet20_digits.safetensors', onnx: '/models/resnet20_digits.onnx',
      input: '/models/digits_input_b1_seed1.f32', shape: [1, 1, 16, 16], classes: 10,
      warmup: 3, rounds: options.rounds, runsPerTurn: 2, passes: 50},
  };
  return options.models.map((m) => all[m]);
}

async function runPage(puppeteer, port, options) {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    protocolTimeout: 30 * 60 * 1000,
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
      console.log(`  [page] ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${port}/`, {waitUntil: 'load'});
    await page.waitForFunction('window.benchmarkReady === true || window.benchmarkFailed', {timeout: 60000})
      .catch(() => { throw new Error(`the page did not load its script: ${errors.join('; ') || 'no error reported'}`); });
    const result = await page.evaluate((config) => window.runBenchmark(config), {models: modelConfigs(options)});
    result.chromium = await browser.version();
    result.consoleErrors = errors;
    return result;
  } finally {
    await browser.close();
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
};
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  const x = q * (sorted.length - 1);
  const lo = Math.floor(x);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (x - lo);
};
const spread = (values) => (quantile(values, 0.75) - quantile(values, 0.25)) / median(values);

function cpuDescription() {
  try {
    const fields = Object.fromEntries(execFileSync('lscpu', {encoding: 'utf8', env: {...process.env, LC_ALL: 'C'}})
      .split('\n').map((l) => l.split(/:\s+/)).filter((kv) => kv.length === 2));
    return `${fields['Model name']} (family ${fields['CPU family']}, model ${fields['Model']}), ` +
           `${fields['CPU(s)']} CPUs`;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown CPU';
  }
}

function emccVersion() {
  try {
    return execFileSync('emcc', ['--version'], {encoding: 'utf8'}).split('\n')[0].match(/\d+\.\d+\.\d+/)[0];
  } catch {
    return 'unknown';
  }
}

function commit() {
  try {
    const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], {encoding: 'utf8'}).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'include', 'bench'], {encoding: 'utf8'}).trim();
    return dirty ? `${sha} (modified)` : sha;
  } catch {
    return 'unknown';
  }
}

function report(pages, loads, started, options) {
  const fmt = (ms) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1));
  const versions = pages[0];
  const lines = [];
  lines.push(`ctresnet-wasm against onnxruntime-web ${versions.ortVersion} (wasm backend, SIMD, 1 thread), ` +
             `in headless Chromium ${versions.chromium.replace(/^[^/]*\//, '')}`);
  lines.push('');
  lines.push(`- CPU: ${cpuDescription()}`);
  lines.push(`- date: ${started.toISOString().replace(/\.\d+Z$/, 'Z')}; ctresnet ${commit()}, emscripten ${emccVersion()} ` +
             `(-O3 -msimd128), node ${process.version}`);
  lines.push(`- ${pages.length} page run(s), each: 3 warm-up runs per framework, then ${options.rounds} rounds of 2 runs ` +
             `per framework, the order alternating; a run is 1 pass (resnet18) or 50 passes (digits)`);
  lines.push(`- load average (1 min) during the runs: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} ` +
             `on ${os.cpus().length} CPUs`);
  lines.push('');
  lines.push('| model | page run | ctresnet-wasm (ms) | spread | ORT-web (ms) | spread | ctresnet / ORT-web | max \\|logit diff\\| (tolerance) |');
  lines.push('|---|---|---|---|---|---|---|---|');
  let agree = true;
  for (const model of pages[0].results.map((r) => r.model)) {
    pages.forEach((page, i) => {
      const r = page.results.find((x) => x.model === model);
      agree &&= r.logits.agree;
      lines.push(`| ${model} | ${i + 1} | ${fmt(r.median.ctresnet)} | ${(100 * spread(r.ms.ctresnet)).toFixed(0)} % | ` +
                 `${fmt(r.median.ort)} | ${(100 * spread(r.ms.ort)).toFixed(0)} % | ${r.ratio.toFixed(2)} | ` +
                 `${r.logits.maxDiff.toExponential(1)} (${r.logits.tolerance.toExponential(1)})` +
                 `${r.logits.agree ? '' : ' **disagree**'} |`);
    });
  }
  lines.push('');
  lines.push('ms: median of the runs (per pass). spread: interquartile range / median. ctresnet / ORT-web: ' +
             'median of the per-round ratios. Logits compared on the same input, tolerance 1e-4 x max(1, max |logit|).');
  return {text: lines.join('\n') + '\n', agree};
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  prepare();
  const {default: puppeteer} = await import('puppeteer-core');  // installed by prepare()
  const server = await serve();
  const port = server.address().port;
  const started = new Date();
  const loads = [os.loadavg()[0]];
  const sampler = setInterval(() => loads.push(os.loadavg()[0]), 5000);
  const pages = [];
  try {
    for (let k = 0; k < options.repeat; ++k) {
      console.log(`== page run ${k + 1} of ${options.repeat}`);
      pages.push(await runPage(puppeteer, port, options));
    }
  } finally {
    clearInterval(sampler);
    loads.push(os.loadavg()[0]);
    server.close();
  }
  const {text, agree} = report(pages, loads, started, options);
  console.log('\n' + text);
  writeFileSync(path.join(buildDir, 'web-results.md'), text);
  writeFileSync(path.join(buildDir, 'web-results.json'), JSON.stringify({options, loads, pages}, null, 1));
  console.log(`wrote ${path.join('build-bench', 'web-results.md')} and web-results.json`);
  for (const page of pages) {
    if (page.consoleErrors.length) console.log(`console errors: ${page.consoleErrors.join('; ')}`);
  }
  if (!agree) {
    console.error('error: the logits of ctresnet and onnxruntime-web disagree (see the table)');
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
