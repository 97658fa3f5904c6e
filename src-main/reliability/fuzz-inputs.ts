/**
 * Hostile image inputs for the fuzz test and bench/fuzz.mts: seeds in every format the scanner accepts (made from a real
 * flower photo), and mutators: truncation, bit flips, random bytes, zero bytes, mislabeled extensions, decompression
 * bombs (headers claiming 100000x100000), huge dimensions, EXIF garbage, SVG disguised as a photo.
 */
import { deflateSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { sharedPath } from '../testing/fixtures.ts';

export interface FuzzInput {
  name: string;
  /** file name extension it is written with (may lie about the content) */
  ext: string;
  kind: string;
  buf: Buffer;
}

export interface Seed { fmt: string; ext: string; buf: Buffer }

/** A real photo, re-encoded small in each format (so every decoder is exercised). */
export async function makeSeeds(): Promise<Seed[]> {
  const dir = sharedPath('data/photos-flowers/daisy');
  const src = readFileSync(`${dir}/${readdirSync(dir).sort()[0]}`);
  const base = sharp(src).resize(96, 72, { fit: 'fill' });
  const seeds: Seed[] = [{ fmt: 'jpeg-orig', ext: '.jpg', buf: src }];
  seeds.push({ fmt: 'jpeg', ext: '.jpg', buf: await base.clone().jpeg({ quality: 80 }).toBuffer() });
  seeds.push({ fmt: 'jpeg-progressive', ext: '.jpg', buf: await base.clone().jpeg({ quality: 80, progressive: true }).toBuffer() });
  seeds.push({ fmt: 'png', ext: '.png', buf: await base.clone().png().toBuffer() });
  seeds.push({ fmt: 'png-alpha', ext: '.png', buf: await base.clone().ensureAlpha(0.5).png().toBuffer() });
  seeds.push({ fmt: 'webp', ext: '.webp', buf: await base.clone().webp({ quality: 70 }).toBuffer() });
  seeds.push({ fmt: 'gif', ext: '.gif', buf: await base.clone().gif().toBuffer() });
  seeds.push({ fmt: 'tiff', ext: '.tif', buf: await base.clone().tiff({ compression: 'lzw' }).toBuffer() });
  try { seeds.push({ fmt: 'avif', ext: '.avif', buf: await base.clone().avif({ quality: 50, effort: 0 }).toBuffer() }); } catch { /* no AVIF encoder */ }
  return seeds;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (let i = 0; i < buf.length; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A valid-looking PNG whose header claims w x h; the image data is `rows` rows of zeros (a tiny file). */
export function pngBomb(w: number, h: number, rows = 4, colorType = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = colorType; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const bpp = colorType === 2 ? 3 : 1;
  const raw = Buffer.alloc(Math.min(rows, h) * (1 + w * bpp));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A JPEG whose SOF header is rewritten to claim w x h. */
export function jpegClaiming(jpeg: Buffer, w: number, h: number): Buffer {
  const b = Buffer.from(jpeg);
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) { i++; continue; }
    const m = b[i + 1];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      b.writeUInt16BE(h, i + 5); b.writeUInt16BE(w, i + 7);
      return b;
    }
    i += 2 + b.readUInt16BE(i + 2);
  }
  return b;
}

/** Inserts an APP1 'Exif' segment of garbage (or a crafted IFD with absurd counts) right after the JPEG's SOI. */
export function jpegWithExif(jpeg: Buffer, payload: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), payload]).subarray(0, 65533);
  const seg = Buffer.alloc(4); seg[0] = 0xff; seg[1] = 0xe1; seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, body, jpeg.subarray(2)]);
}

/** A TIFF-structured EXIF block whose IFD entries have huge counts and offsets pointing far outside. */
export function evilExif(rand: () => number): Buffer {
  const b = Buffer.alloc(8 + 2 + 12 * 6 + 4);
  b.write('MM', 0, 'latin1'); b.writeUInt16BE(42, 2); b.writeUInt32BE(8, 4);
  b.writeUInt16BE(6, 8);
  const tags = [0x0112, 0x8769, 0x9003, 0x010f, 0x8825, 0x0110];
  tags.forEach((tag, k) => {
    const o = 10 + 12 * k;
    b.writeUInt16BE(tag, o);
    b.writeUInt16BE(1 + Math.floor(rand() * 12), o + 2);
    b.writeUInt32BE(Math.floor(rand() * 0xffffffff), o + 4);
    b.writeUInt32BE(Math.floor(rand() * 0xffffffff), o + 8);
  });
  b.writeUInt32BE(8, b.length - 4); // the next IFD is the first one again: a loop
  return b;
}

const svgCases: Array<[string, string]> = [
  ['svg-external-file', `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="file:///etc/passwd" width="64" height="64"/></svg>`],
  ['svg-entity-bomb', `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><text>&g;</text></svg>`],
  ['svg-huge', `<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100000" height="100000"/></svg>`],
  ['svg-remote', `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="http://127.0.0.1:9/x.png" width="64" height="64"/></svg>`],
];

/** The fixed hostile cases: every one is tried once per corpus. */
export function fixedCases(seeds: Seed[], rand: () => number): FuzzInput[] {
  const jpeg = seeds.find((s) => s.fmt === 'jpeg')!.buf;
  const png = seeds.find((s) => s.fmt === 'png')!.buf;
  const out: FuzzInput[] = [
    { name: 'zero-bytes', ext: '.jpg', kind: 'zero-byte', buf: Buffer.alloc(0) },
    { name: 'one-byte', ext: '.png', kind: 'zero-byte', buf: Buffer.from([0x89]) },
    { name: 'png-bomb-100000x100000', ext: '.png', kind: 'bomb', buf: pngBomb(100_000, 100_000) },
    { name: 'png-bomb-rgb-60000x60000', ext: '.png', kind: 'bomb', buf: pngBomb(60_000, 60_000, 2, 2) },
    { name: 'png-wide-1000000x1', ext: '.png', kind: 'bomb', buf: pngBomb(1_000_000, 1, 1) },
    { name: 'png-long-2097248x72', ext: '.png', kind: 'bomb', buf: pngBomb(2_097_248, 72) },
    { name: 'png-bomb-2^31', ext: '.png', kind: 'bomb', buf: pngBomb(0x7fffffff, 0x7fffffff, 0) },
    { name: 'png-zero-size', ext: '.png', kind: 'huge-dims', buf: pngBomb(0, 0, 0) },
    { name: 'jpeg-claims-65500x65500', ext: '.jpg', kind: 'huge-dims', buf: jpegClaiming(jpeg, 65_500, 65_500) },
    { name: 'jpeg-claims-65500x1', ext: '.jpg', kind: 'huge-dims', buf: jpegClaiming(jpeg, 65_500, 1) },
    { name: 'jpeg-claims-0x0', ext: '.jpg', kind: 'huge-dims', buf: jpegClaiming(jpeg, 0, 0) },
    { name: 'png-as-jpg', ext: '.jpg', kind: 'mislabeled', buf: png },
    { name: 'jpeg-as-gif', ext: '.gif', kind: 'mislabeled', buf: jpeg },
    { name: 'text-as-png', ext: '.png', kind: 'mislabeled', buf: Buffer.from('hello, I am not an image\n'.repeat(20)) },
    { name: 'html-as-jpg', ext: '.jpg', kind: 'mislabeled', buf: Buffer.from('<!doctype html><script>alert(1)</script>') },
    { name: 'zip-as-heic', ext: '.heic', kind: 'mislabeled', buf: Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 1)]) },
    { name: 'exif-garbage', ext: '.jpg', kind: 'exif', buf: jpegWithExif(jpeg, Buffer.from(Array.from({ length: 3000 }, () => Math.floor(rand() * 256)))) },
    { name: 'exif-evil-ifd', ext: '.jpg', kind: 'exif', buf: jpegWithExif(jpeg, evilExif(rand)) },
    { name: 'exif-max-segment', ext: '.jpg', kind: 'exif', buf: jpegWithExif(jpeg, Buffer.alloc(70000, 0xff)) },
  ];
  for (const [name, svg] of svgCases) out.push({ name, ext: '.jpg', kind: 'svg-disguised', buf: Buffer.from(svg) });
  return out;
}

const MUTATORS = ['truncate', 'bitflip', 'random', 'splice', 'exif'] as const;

/** One random mutant of a random seed. */
export function mutate(seeds: Seed[], rand: () => number, i: number): FuzzInput {
  const s = seeds[Math.floor(rand() * seeds.length)];
  const kind = MUTATORS[Math.floor(rand() * MUTATORS.length)];
  let buf: Buffer;
  let ext = s.ext;
  switch (kind) {
    case 'truncate':
      buf = Buffer.from(s.buf.subarray(0, Math.floor(rand() * s.buf.length)));
      break;
    case 'bitflip': {
      buf = Buffer.from(s.buf);
      const flips = 1 + Math.floor(rand() * (rand() < 0.5 ? 4 : 64));
      // flip mostly in the header region, where parsers make their decisions
      for (let k = 0; k < flips; k++) {
        const pos = Math.floor((rand() < 0.6 ? rand() * Math.min(512, buf.length) : rand() * buf.length));
        buf[pos] ^= 1 << Math.floor(rand() * 8);
      }
      break;
    }
    case 'random': {
      const head = rand() < 0.5 ? s.buf.subarray(0, 4 + Math.floor(rand() * 28)) : Buffer.alloc(0); // keep the magic sometimes
      const body = Buffer.alloc(Math.floor(rand() * 8192));
      for (let k = 0; k < body.length; k++) body[k] = Math.floor(rand() * 256);
      buf = Buffer.concat([head, body]);
      if (rand() < 0.3) ext = ['.jpg', '.png', '.webp', '.gif', '.tif', '.avif', '.heic'][Math.floor(rand() * 7)];
      break;
    }
    case 'splice': {
      const other = seeds[Math.floor(rand() * seeds.length)].buf;
      const cut = Math.floor(rand() * s.buf.length);
      buf = Buffer.concat([s.buf.subarray(0, cut), other.subarray(Math.floor(rand() * other.length))]);
      break;
    }
    case 'exif': {
      const jpeg = seeds.find((x) => x.fmt === 'jpeg')!.buf;
      buf = jpegWithExif(jpeg, rand() < 0.5 ? evilExif(rand) : Buffer.from(Array.from({ length: Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256))));
      ext = '.jpg';
      break;
    }
  }
  return { name: `m${i}-${s.fmt}-${kind}`, ext, kind, buf };
}
