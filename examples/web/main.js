// The digits page: loads the WebAssembly module and the weights, classifies what is drawn on the
// pad (live, once a frame at most) and, on request, the 360 held-out digits. Any failure shows a
// message on the page.
import { digitImage, imageSize, paintImage } from './drawing.js';

const pixels = imageSize * imageSize;
const classes = 10;
const $ = (id) => document.getElementById(id);

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  $('status').hidden = true;
}
window.addEventListener('error', (event) => showError(`Error: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => showError(`Error: ${event.reason?.message ?? event.reason}`));

// A module of one function that returns a v128 constant: it validates only where the browser
// has WebAssembly SIMD, which the module is compiled with (-msimd128).
const simdProbe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,  // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,        // type section: () -> v128
  0x03, 0x02, 0x01, 0x00,                          // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c,        // code section: one body, no locals, v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //   its 16 bytes
  0x0b,                                            //   end
]);

async function fetchBytes(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`Could not fetch ${url}: ${error.message}`);
  }
  if (!response.ok) throw new Error(`Could not fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/// The digits model: the module's C API with the copying between JavaScript and its memory.
class DigitsModel {
  constructor(module) {
    this.module = module;
    this.input = module._malloc(pixels);
    this.output = module._malloc(4 * classes);
  }

  /// Loads the weights through ctresnet's safetensors loader; throws with its message.
  load(bytes) {
    const m = this.module;
    const address = m._malloc(bytes.length);
    m.HEAPU8.set(bytes, address);
    const loaded = m._ctresnet_digits_load(address, bytes.length);
    m._free(address);
    if (!loaded) throw new Error(`The weights did not load: ${m.UTF8ToString(m._ctresnet_digits_error())}`);
  }

  /// {digit, probabilities} of an 8x8 gray image (Uint8Array of 64).
  classify(image) {
    const m = this.module;
    m.HEAPU8.set(image, this.input);
    const digit = m._ctresnet_digits_classify(this.input, this.output);
    if (digit < 0) throw new Error(m.UTF8ToString(m._ctresnet_digits_error()));
    // HEAPF32 is read after the call: memory growth replaces the buffer.
    return { digit, probabilities: m.HEAPF32.slice(this.output / 4, this.output / 4 + classes) };
  }

  facts() {
    const m = this.module;
    return {
      params: m._ctresnet_digits_num_params(),
      macs: m._ctresnet_digits_num_macs(),
      stateBytes: m._ctresnet_digits_state_bytes(),
      weightsBytes: m._ctresnet_digits_weights_bytes(),
      workspaceBytes: m._ctresnet_digits_workspace_bytes(),
    };
  }
}

async function loadModel() {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(simdProbe))
    throw new Error('This browser has no WebAssembly SIMD, which the model is compiled with: '
                    + 'use a recent Chrome, Edge, Firefox or Safari (16.4 or later).');
  let createDigitsModule;
  try {
    ({ default: createDigitsModule } = await import('./digits_module.js'));
  } catch (error) {
    throw new Error(`Could not load digits_module.js: ${error.message}`);
  }
  const [module, weights] = await Promise.all([
    createDigitsModule().catch((error) => { throw new Error(`The WebAssembly module did not start: ${error.message ?? error}`); }),
    fetchBytes('resnet20_digits.safetensors'),
  ]);
  const model = new DigitsModel(module);
  model.load(weights);
  return model;
}

// ---- the page ------------------------------------------------------------------------------

const number = new Intl.NumberFormat('en');
const kib = (bytes) => `${number.format(Math.round(bytes / 1024))} KiB`;

function showFacts(model) {
  const f = model.facts();
  const rows = [
    ['Parameters', number.format(f.params)],
    ['Multiply-adds per image', number.format(f.macs)],
    ['State', `${kib(f.stateBytes)} (weights ${kib(f.weightsBytes)}, the rest Winograd-transformed weights)`],
    ['Workspace', `${kib(f.workspaceBytes)} per forward pass`],
  ];
  $('facts').replaceChildren(...rows.flatMap(([name, value]) => {
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = name;
    dd.textContent = value;
    dd.dataset.fact = name;
    return [dt, dd];
  }));
}

function makeBars() {
  const bars = [];
  for (let c = 0; c < classes; ++c) {
    const row = document.createElement('div');
    row.className = 'bar';
    row.innerHTML = `<span class="digit">${c}</span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
    $('bars').append(row);
    bars.push(row);
  }
  return bars;
}

function showProbabilities(bars, result) {
  bars.forEach((row, c) => {
    const p = result ? result.probabilities[c] : 0;
    row.querySelector('.fill').style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector('.value').textContent = result ? `${(100 * p).toFixed(1)} %` : '';
    row.classList.toggle('best', !!result && c === result.digit);
  });
  $('prediction').textContent = result ? String(result.digit) : '–';
}

function setUpPad(model, bars) {
  const pad = $('pad');
  const context = pad.getContext('2d');
  const strokes = [];
  let drawing = null;  // the stroke under the pointer
  let frameRequested = false;

  const point = (event) => {
    const box = pad.getBoundingClientRect();
    return { x: (event.clientX - box.left) * (pad.width / box.width), y: (event.clientY - box.top) * (pad.height / box.height) };
  };
  const redraw = () => {
    context.fillStyle = 'black';
    context.fillRect(0, 0, pad.width, pad.height);
    context.strokeStyle = context.fillStyle = 'white';
    context.lineWidth = pad.width / 20;
    context.lineCap = context.lineJoin = 'round';
    for (const stroke of strokes) {
      context.beginPath();
      context.moveTo(stroke[0].x, stroke[0].y);
      for (const p of stroke) context.lineTo(p.x, p.y);
      if (stroke.length === 1) context.lineTo(stroke[0].x + 0.1, stroke[0].y);
      context.stroke();
    }
  };
  // Classifies once per frame at most, however many pointer events arrive.
  const classifySoon = () => {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      const image = digitImage(strokes, pad.width);
      paintImage($('seen'), image);
      showProbabilities(bars, strokes.length ? model.classify(image) : null);
    });
  };

  pad.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    pad.setPointerCapture(event.pointerId);
    drawing = [point(event)];
    strokes.push(drawing);
    redraw();
    classifySoon();
  });
  pad.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    for (const e of event.getCoalescedEvents?.() ?? [event]) drawing.push(point(e));
    redraw();
    classifySoon();
  });
  const end = () => {
    if (!drawing) return;
    drawing = null;
    classifySoon();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => {
    strokes.length = 0;
    redraw();
    classifySoon();
  });
  redraw();
  classifySoon();
}

/// A binary PGM (P5, maxval 255) as train_digits.py writes them: {width, height, pixels}.
function parsePgm(bytes, name) {
  const header = new TextDecoder('ascii').decode(bytes.subarray(0, 64));
  const match = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(header);
  if (!match) throw new Error(`${name} is not a binary PGM with maxval 255`);
  const width = Number(match[1]), height = Number(match[2]);
  const pixels = bytes.subarray(match[0].length, match[0].length + width * height);
  if (pixels.length !== width * height) throw new Error(`${name} ends before its ${width}x${height} pixels`);
  return { width, height, pixels };
}

async function loadTestSet() {
  const listing = new TextDecoder().decode(await fetchBytes('digits/test/labels.txt'));
  const entries = listing.split('\n').filter((line) => line.trim()).map((line) => {
    const [file, label] = line.trim().split(/\s+/);
    return { file, label: Number(label) };
  });
  return Promise.all(entries.map(async ({ file, label }) => {
    const image = parsePgm(await fetchBytes(`digits/test/${file}`), file);
    if (image.width !== imageSize || image.height !== imageSize) throw new Error(`${file} is not ${imageSize}x${imageSize}`);
    return { file, label, pixels: image.pixels };
  }));
}

async function runTestSet(model) {
  const button = $('run-test');
  button.disabled = true;
  $('accuracy').textContent = 'Loading the 360 digits…';
  try {
    const images = await loadTestSet();
    const start = performance.now();
    const results = images.map((image) => model.classify(image.pixels).digit);
    const milliseconds = performance.now() - start;
    const mistakes = images.map((image, i) => ({ ...image, predicted: results[i] })).filter((m) => m.predicted !== m.label);
    const correct = images.length - mistakes.length;
    $('accuracy').textContent = `${correct}/${images.length} right (${(100 * correct / images.length).toFixed(2)} %), `
      + `${(1000 * milliseconds / images.length).toFixed(0)} µs per image, one at a time`;
    $('mistakes').replaceChildren(...mistakes.map((m) => {
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.className = 'pixels';
      paintImage(canvas, m.pixels);
      const caption = document.createElement('figcaption');
      caption.textContent = `${m.label}, seen as ${m.predicted}`;
      figure.title = m.file;
      figure.append(canvas, caption);
      return figure;
    }));
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const bars = makeBars();
  const model = await loadModel();
  showFacts(model);
  setUpPad(model, bars);
  $('run-test').disabled = false;
  $('run-test').addEventListener('click', () => runTestSet(model).catch((error) => showError(error.message)));
  $('status').textContent = 'Ready: draw a digit in the black square.';
  document.body.dataset.ready = 'true';
}

start().catch((error) => showError(error.message));
