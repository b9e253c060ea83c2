// Generates www/logo-um.jpg, the lab page's picture (> 8 KB): a small baseline JPEG encoder
// (ITU T.81, the Annex K tables, YCbCr 4:4:4) drawing a deterministic picture, so the web
// root's image is our own and reproducible. Run: npx tsx src/tools/make-logo.ts [out.jpg]
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22,
  15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
// Annex K.1 quantisation tables (natural order).
const Q_LUM = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103,
  77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const Q_CHR = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  99,
  99,
  99,
  99,
  ...new Array<number>(32).fill(99),
];
// Annex K.3 luminance Huffman tables, used for every component (they code every symbol).
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALS = [
  0x01,
  0x02,
  0x03,
  0x00,
  0x04,
  0x11,
  0x05,
  0x12,
  0x21,
  0x31,
  0x41,
  0x06,
  0x13,
  0x51,
  0x61,
  0x07,
  0x22,
  0x71,
  0x14,
  0x32,
  0x81,
  0x91,
  0xa1,
  0x08,
  0x23,
  0x42,
  0xb1,
  0xc1,
  0x15,
  0x52,
  0xd1,
  0xf0,
  0x24,
  0x33,
  0x62,
  0x72,
  0x82,
  0x09,
  0x0a,
  0x16,
  0x17,
  0x18,
  0x19,
  0x1a,
  0x25,
  0x26,
  0x27,
  0x28,
  0x29,
  0x2a,
  0x34,
  0x35,
  0x36,
  0x37,
  0x38,
  0x39,
  0x3a,
  0x43,
  0x44,
  0x45,
  0x46,
  0x47,
  0x48,
  0x49,
  0x4a,
  ...range(0x53, 0x5a),
  ...range(0x63, 0x6a),
  ...range(0x73, 0x7a),
  ...range(0x83, 0x8a),
  ...range(0x92, 0x9a),
  ...range(0xa2, 0xaa),
  ...range(0xb2, 0xba),
  ...range(0xc2, 0xca),
  ...range(0xd2, 0xda),
  ...range(0xe1, 0xea),
  ...range(0xf1, 0xfa),
];

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Canonical Huffman codes (Annex C): symbol → [code, length]. */
function huffCodes(bits: number[], vals: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) out.set(vals[k++]!, [code++, len]);
    code <<= 1;
  }
  return out;
}

class BitWriter {
  bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((code >> i) & 1);
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        if (this.acc === 0xff) this.bytes.push(0); // byte stuffing (F.1.2.3)
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  flush(): void {
    while (this.n !== 0) this.put(1, 1);
  }
}

/** Encodes RGB pixels (row-major, 3 bytes each) as a baseline JPEG. */
export function encodeJpeg(width: number, height: number, rgb: Uint8Array): Buffer {
  const dc = huffCodes(DC_BITS, DC_VALS);
  const ac = huffCodes(AC_BITS, AC_VALS);
  const cos = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i >> 3) + 1) * (i & 7) * Math.PI) / 16));
  const bw = new BitWriter();
  const pred = [0, 0, 0];
  const block = new Float64Array(64);
  const coef = new Float64Array(64);
  const sample = (x: number, y: number, c: number): number => {
    const i = (Math.min(y, height - 1) * width + Math.min(x, width - 1)) * 3;
    const r = rgb[i]!,
      g = rgb[i + 1]!,
      b = rgb[i + 2]!;
    if (c === 0) return 0.299 * r + 0.587 * g + 0.114 * b;
    if (c === 1) return -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
    return 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
  };
  const category = (v: number) => (v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1);
  const putValue = (v: number, size: number) => bw.put(v < 0 ? v + (1 << size) - 1 : v, size);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < 64; i++) block[i] = sample(bx + (i & 7), by + (i >> 3), c) - 128;
        // Forward DCT (A.3.3), the plain O(n^4) form: the picture is small.
        for (let v = 0; v < 8; v++) {
          for (let u = 0; u < 8; u++) {
            let sum = 0;
            for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += block[y * 8 + x]! * cos[x * 8 + u]! * cos[y * 8 + v]!;
            const cu = u === 0 ? Math.SQRT1_2 : 1;
            const cv = v === 0 ? Math.SQRT1_2 : 1;
            coef[v * 8 + u] = (0.25 * cu * cv * sum) / (c === 0 ? Q_LUM : Q_CHR)[v * 8 + u]!;
          }
        }
        const q = ZIGZAG.map((n) => Math.round(coef[n]!));
        const diff = q[0]! - pred[c]!;
        pred[c] = q[0]!;
        const dcCat = category(diff);
        bw.put(...dc.get(dcCat)!);
        if (dcCat) putValue(diff, dcCat);
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = q[k]!;
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            bw.put(...ac.get(0xf0)!);
            run -= 16;
          }
          const s = category(v);
          bw.put(...ac.get((run << 4) | s)!);
          putValue(v, s);
          run = 0;
        }
        if (run > 0) bw.put(...ac.get(0x00)!);
      }
    }
  }
  bw.flush();

  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const out = [
    0xff,
    0xd8,
    ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // JFIF
    ...seg(0xdb, [0x00, ...ZIGZAG.map((n) => Q_LUM[n]!), 0x01, ...ZIGZAG.map((n) => Q_CHR[n]!)]),
    ...seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]),
    ...seg(0xc4, [0x00, ...DC_BITS, ...DC_VALS, 0x10, ...AC_BITS, ...AC_VALS]),
    ...seg(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]),
    ...bw.bytes,
    0xff,
    0xd9,
  ];
  return Buffer.from(out);
}

/** The picture: a blue-to-orange field with rings and a bold "UM" block, deterministic. */
export function drawLogo(width: number, height: number): Uint8Array {
  const px = new Uint8Array(width * height * 3);
  let seed = 9721;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  // "UM" as 5x7 glyphs.
  const glyphs = ['10001', '10001', '10001', '10001', '10001', '10001', '01110'].map(
    (u, i) => u + '0' + ['10001', '11011', '10101', '10101', '10001', '10001', '10001'][i]!,
  );
  const cell = Math.floor(Math.min(width / 16, height / 10));
  const gx = Math.floor((width - 11 * cell) / 2);
  const gy = Math.floor((height - 7 * cell) / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = x / width;
      const d = Math.hypot(x - width * 0.75, y - height * 0.3);
      const ring = 0.5 + 0.5 * Math.sin(d / 6);
      let r = 10 + 220 * t * ring + 20 * rnd();
      let g = 61 + 80 * t + 30 * ring + 20 * rnd();
      let b = 98 + 60 * (1 - t) * ring + 20 * rnd();
      const col = Math.floor((x - gx) / cell);
      const row = Math.floor((y - gy) / cell);
      if (row >= 0 && row < 7 && col >= 0 && col < 11 && glyphs[row]![col] === '1') [r, g, b] = [250, 250, 245];
      const i = (y * width + x) * 3;
      px[i] = Math.max(0, Math.min(255, r));
      px[i + 1] = Math.max(0, Math.min(255, g));
      px[i + 2] = Math.max(0, Math.min(255, b));
    }
  }
  return px;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../../www/logo-um.jpg', import.meta.url));
  const [w, h] = [480, 240];
  const jpeg = encodeJpeg(w, h, drawLogo(w, h));
  fs.writeFileSync(out, jpeg);
  console.log(`${out}: ${jpeg.length} bytes`);
}
