// The digits page (examples/web) in Debian's headless Chromium, driven by puppeteer-core:
//
//   node test_page.mjs --site DIR --chromium /usr/bin/chromium --artifacts DIR
//
// serves DIR (the wasm build's examples/web/site) on 127.0.0.1 and checks that
//   - the page loads with no console error, page error or failed request;
//   - digits drawn with the mouse, stroke by stroke, are classified as the digits they are;
//   - the 360 held-out digits give 355/360, with their 5 mistakes shown;
//   - the network's facts and picture are shown;
//   - everything the page downloads, the 360 digits included, is at most 1.5 MB;
//   - a missing weights file, a broken one, a missing WebAssembly module and a browser without
//     WebAssembly SIMD each give a message on the page.
// A screenshot of the page goes to ARTIFACTS/digits_page.png. Exits with 1 on any failure.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const options = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
for (const name of ['site', 'chromium', 'artifacts'])
  if (!options[name]) throw new Error(`usage: node test_page.mjs --site DIR --chromium PATH --artifacts DIR (--${name} is missing)`);
const site = path.resolve(options.site);
if (!fs.existsSync(path.join(site, 'index.html'))) throw new Error(`${site} holds no index.html: build the wasm build's digits_web first`);

const downloadLimit = 1_500_000;     // bytes: the page, its module, the weights, the picture, the 360 digits
const expectedAccuracy = '355/360';  // PyTorch's (tests/wasm's wasm.digits_as_pytorch checks the same logits)

const failures = [];
function check(condition, message) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${message}`);
  if (!condition) failures.push(message);
}

// ---- a static server of the site on a free port, which counts the bytes it sends -----------

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml', '.txt': 'text/plain', '.pgm': 'image/x-portable-graymap', '.safetensors': 'application/octet-stream',
};
const served = new Map();  // path -> bytes sent
let sabotage = null;       // (path, bytes) -> {status, body} or null: a broken server, for the error checks

const server = http.createServer((request, response) => {
  const urlPath = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
  const file = path.join(site, urlPath === '/' ? 'index.html' : urlPath);
  if (!file.startsWith(site + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    response.writeHead(404).end('not found');
    return;
  }
  let body = fs.readFileSync(file);
  let status = 200;
  const broken = sabotage?.(path.relative(site, file), body);
  if (broken) ({ status, body } = broken);
  served.set(urlPath, (served.get(urlPath) ?? 0) + body.length);
  response.writeHead(status, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
  response.end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
console.log(`serving ${site} at ${origin}`);

const browser = await puppeteer.launch({
  executablePath: options.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions'],
});

/// A new page whose console errors, page errors and failed requests are collected in `problems`.
async function openPage(problems) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 1000 });
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`); });
  return page;
}

/// Waits until the page is ready or shows an error; returns the error's text ('' when ready).
async function loaded(page) {
  await page.waitForFunction(() => document.body.dataset.ready === 'true' || !document.getElementById('error').hidden,
                             { timeout: 60_000 });
  return page.$eval('#error', (box) => (box.hidden ? '' : box.textContent));
}

const nextFrames = (page) => page.evaluate(() => new Promise((resolve) =>
  requestAnimationFrame(() => requestAnimationFrame(resolve))));

// Digits as strokes of points on the 280x280 pad, the way a person draws them.
const arc = (cx, cy, rx, ry, from, to, steps = 24) => Array.from({ length: steps + 1 }, (_, i) => {
  const angle = ((from + ((to - from) * i) / steps) * Math.PI) / 180;
  return [cx + rx * Math.cos(angle), cy + ry * Math.sin(angle)];
});
const digits = {
  0: [arc(140, 140, 60, 95, -90, 270)],
  1: [[[150, 45], [147, 140], [145, 235]]],
  2: [[...arc(140, 100, 55, 55, 200, 360 + 45, 16), [100, 230], [200, 230]]],
  3: [[...arc(135, 90, 50, 45, 210, 450, 14), ...arc(135, 180, 55, 50, 270, 500, 14)]],
  4: [[[170, 45], [90, 170], [200, 170]], [[170, 100], [170, 240]]],
  5: [[[190, 50], [110, 50], [105, 125], ...arc(140, 170, 55, 55, 230, 480, 16)]],
  6: [[[175, 50], [120, 110], ...arc(140, 180, 55, 55, 200, 560, 24)]],
  7: [[[85, 55], [200, 55], [125, 240]]],
  8: [[...arc(140, 90, 45, 45, 90, 450), ...arc(140, 185, 55, 50, -90, 270)]],
  9: [[...arc(140, 95, 50, 45, 0, 360), [190, 95], [180, 240]]],
};

/// Draws `strokes` on the pad with the mouse and returns the class the page then shows.
async function draw(page, strokes) {
  await page.click('#clear');
  const box = await (await page.$('#pad')).boundingBox();
  const at = ([x, y]) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280];
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const point of stroke.slice(1)) await page.mouse.move(...at(point), { steps: 4 });
    await page.mouse.up();
  }
  await nextFrames(page);
  return page.$eval('#prediction', (output) => output.textContent);
}

try {
  // The page as a visitor uses it.
  const problems = [];
  const page = await openPage(problems);
  let started = performance.now();
  await page.goto(`${origin}/`);
  const error = await loaded(page);
  check(error === '', `the page loads (${Math.round(performance.now() - started)} ms)${error ? `: it shows "${error}"` : ''}`);
  if (error) throw new Error('the page did not load');

  const facts = await page.$$eval('#facts dd', (items) => Object.fromEntries(items.map((dd) => [dd.dataset.fact, dd.textContent])));
  console.log('facts:', facts);
  check(/^\d{1,3}(,\d{3})+$/.test(facts.Parameters ?? ''), `the parameter count is shown (${facts.Parameters})`);
  check(/KiB/.test(facts.State ?? '') && /KiB/.test(facts.Workspace ?? ''), 'the state and workspace sizes are shown');
  check(await page.$eval('#graph', (img) => img.complete && img.naturalWidth > 0), 'the network\'s picture is shown');

  const predictions = {};
  for (const [digit, strokes] of Object.entries(digits)) predictions[digit] = await draw(page, strokes);
  console.log('drawn digit -> shown class:', predictions);
  for (const digit of Object.keys(digits)) check(predictions[digit] === digit, `a drawn ${digit} is classified as ${digit} (shown: ${predictions[digit]})`);
  const bars = await page.$$eval('#bars .bar .value', (values) => values.map((v) => parseFloat(v.textContent)));
  check(bars.length === 10 && Math.abs(bars.reduce((a, b) => a + b, 0) - 100) < 1, `10 probabilities that sum to 100 % are shown (${bars.join(', ')})`);

  started = performance.now();
  await page.click('#run-test');
  await page.waitForFunction(() => /\d+\/\d+ right/.test(document.getElementById('accuracy').textContent) ||
                                   !document.getElementById('error').hidden, { timeout: 120_000 });
  const accuracy = await page.$eval('#accuracy', (p) => p.textContent);
  const mistakes = await page.$$eval('#mistakes figcaption', (captions) => captions.map((c) => c.textContent));
  console.log(`360 digits (${Math.round(performance.now() - started)} ms with their download): ${accuracy}; mistakes: ${mistakes.join('; ')}`);
  check(accuracy.startsWith(`${expectedAccuracy} right (98.61 %)`), `the 360 digits give ${expectedAccuracy} (shown: ${accuracy})`);
  check(mistakes.length === 5, `the 5 mistakes are shown as images (${mistakes.length})`);

  fs.mkdirSync(options.artifacts, { recursive: true });
  const screenshot = path.join(options.artifacts, 'digits_page.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);

  const total = [...served.values()].reduce((a, b) => a + b, 0);
  const largest = [...served].filter(([, bytes]) => bytes > 10_000).map(([file, bytes]) => `${file} ${bytes}`);
  console.log(`downloaded: ${served.size} files, ${total} bytes (${largest.join(', ')}, the rest smaller)`);
  check(served.has('/digits_module.wasm') && served.has('/resnet20_digits.safetensors') && served.has('/network.svg'),
        'the module, the weights and the picture were downloaded');
  check(total <= downloadLimit, `the page downloads at most ${downloadLimit} bytes, the 360 digits included (${total})`);
  check(problems.length === 0, `no console error, page error or failed request${problems.length ? `: ${problems.join('; ')}` : ''}`);
  await page.close();

  // What a visitor sees when something is wrong: a message, never a blank page.
  async function messageWhen(describe, brokenServer, beforeLoad) {
    sabotage = brokenServer;
    const errorPage = await openPage([]);
    if (beforeLoad) await errorPage.evaluateOnNewDocument(beforeLoad);
    await errorPage.goto(`${origin}/`);
    const message = await loaded(errorPage);
    await errorPage.close();
    sabotage = null;
    console.log(`${describe}: "${message}"`);
    return message;
  }
  const weights = 'resnet20_digits.safetensors';
  check((await messageWhen('missing weights', (file) => (file === weights ? { status: 404, body: Buffer.from('') } : null)))
    .startsWith(`Could not fetch ${weights}: HTTP 404`), 'a missing weights file gives a message');
  check((await messageWhen('truncated weights', (file, body) => (file === weights ? { status: 200, body: body.subarray(0, 5000) } : null)))
    .startsWith('The weights did not load: '), 'a truncated weights file gives the loader\'s message');
  check((await messageWhen('missing module', (file) => (file === 'digits_module.wasm' ? { status: 404, body: Buffer.from('') } : null)))
    .startsWith('The WebAssembly module did not start: '), 'a missing WebAssembly module gives a message');
  check((await messageWhen('no SIMD', null, () => { WebAssembly.validate = () => false; }))
    .startsWith('This browser has no WebAssembly SIMD'), 'a browser without WebAssembly SIMD gets a message');
} catch (error) {
  failures.push(error.message);
  console.log(`FAIL ${error.stack}`);
} finally {
  await browser.close();
  server.close();
}

if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
