// A drawing turned into the image the digits model sees. tools/train_digits.py trains on
// scikit-learn's 8x8 digits: 32x32 bitmaps of handwritten digits, scaled so that each digit fills
// the bitmap's height, cut into 4x4 blocks, each block's count of ink pixels (0..16) a gray level,
// stored as floor(count * 255 / 16 + 0.5). The same steps here: the strokes are scaled so that
// their bounding box fills the height (or the width, for a digit wider than tall), centred, drawn
// white on black into a 32x32 bitmap (at 4x for smooth edges), and each 4x4 block's ink, rounded
// to 0..16, becomes a gray level as in the data set.

export const imageSize = 8;           // the model's input, before digits_transform's x2
const bitmapSize = 32;                // scikit-learn's bitmaps
const supersample = 4;                // drawn at 128x128, averaged down
const strokeWidth = 4.5;              // in bitmap pixels: about the data set's pen
const smallestExtent = 0.15;          // a dot or a short dash is not blown up to fill the bitmap

/// The 8x8 gray image (Uint8Array of 64, row by row) of `strokes`, arrays of {x, y} points in any
/// coordinates (a canvas's); all zeros for no strokes.
export function digitImage(strokes, canvasSize) {
  const points = strokes.flat();
  const image = new Uint8Array(imageSize * imageSize);
  if (points.length === 0) return image;
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const left = Math.min(...xs), top = Math.min(...ys);
  const width = Math.max(...xs) - left, height = Math.max(...ys) - top;
  const extent = Math.max(width, height, smallestExtent * canvasSize);
  const side = bitmapSize * supersample;
  const pen = strokeWidth * supersample;
  const scale = (side - pen) / extent;
  const offsetX = (side - width * scale) / 2 - left * scale;
  const offsetY = (side - height * scale) / 2 - top * scale;

  const bitmap = makeCanvas(side);
  const context = bitmap.getContext('2d', { willReadFrequently: true });
  context.fillStyle = 'black';
  context.fillRect(0, 0, side, side);
  context.strokeStyle = context.fillStyle = 'white';
  context.lineWidth = pen;
  context.lineCap = context.lineJoin = 'round';
  for (const stroke of strokes) {
    const at = (p) => [p.x * scale + offsetX, p.y * scale + offsetY];
    if (stroke.length === 1) {  // a click: a round dot
      const [x, y] = at(stroke[0]);
      context.beginPath();
      context.arc(x, y, pen / 2, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    context.beginPath();
    context.moveTo(...at(stroke[0]));
    for (const p of stroke.slice(1)) context.lineTo(...at(p));
    context.stroke();
  }

  const pixels = context.getImageData(0, 0, side, side).data;
  const block = side / imageSize;  // 16 drawn pixels: one 4x4 block of the 32x32 bitmap
  for (let row = 0; row < imageSize; ++row)
    for (let column = 0; column < imageSize; ++column) {
      let ink = 0;
      for (let y = row * block; y < (row + 1) * block; ++y)
        for (let x = column * block; x < (column + 1) * block; ++x) ink += pixels[4 * (y * side + x)];
      const count = Math.round((16 * ink) / (255 * block * block));  // 0..16 ink pixels of 16
      image[row * imageSize + column] = Math.floor((count * 255) / 16 + 0.5);
    }
  return image;
}

/// Paints an 8x8 gray image into `canvas` (8x8 pixels; CSS enlarges it without smoothing).
export function paintImage(canvas, image) {
  canvas.width = canvas.height = imageSize;
  const context = canvas.getContext('2d');
  const data = context.createImageData(imageSize, imageSize);
  image.forEach((value, i) => data.data.set([value, value, value, 255], 4 * i));
  context.putImageData(data, 0, 0);
}

function makeCanvas(size) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  return canvas;
}
