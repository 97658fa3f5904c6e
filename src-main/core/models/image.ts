/** Image decoding with sharp: EXIF rotate, alpha removed, sRGB 3-channel. Errors → BAD_IMAGE / BAD_FILE. */
import { readPhotoFile } from '../read-file.ts';
import sharp from 'sharp';
import { AppError } from '../../common/errors.ts';
import { alignFace112, landmarks68To5 } from '../../algo/face-align.ts';
import { config } from '../config.ts';

export type Kernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

export type ImageInput = string | Buffer | Uint8Array;

export interface RgbImage {
  data: Buffer; // RGB interleaved, width*height*3
  width: number;
  height: number;
}

export function inputLabel(input: ImageInput): string {
  return typeof input === 'string' ? input : `<buffer ${input.length} bytes>`;
}

async function readInput(input: ImageInput): Promise<Buffer> {
  if (typeof input !== 'string') return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  try {
    // type, size and signature checked before a whole read; FIFOs refused; bounded in time
    return await readPhotoFile(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EFTYPE' && /^not a readable image/.test((e as Error).message)) throw new AppError('BAD_IMAGE', `${input}: ${(e as Error).message}`);
    throw new AppError('BAD_FILE', `${input}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code === 'EFTYPE' || code === 'EFBIG' || code === 'ETIMEDOUT' ? (e as Error).message : code ?? (e as Error).message})`}`);
  }
}

function badImage(label: string, e: unknown): AppError {
  let why = (e as Error)?.message ?? String(e);
  why = why.split('\n')[0]!.replace(/^Input (buffer|file) /, '');
  return new AppError('BAD_IMAGE', `${label}: ${why || 'cannot decode image'}`);
}

/** Longest side decoded: a tiny file can claim a 2,000,000 x 72 PNG under the pixel limit (the scanner refuses it too). */
export const MAX_SIDE = 100_000;

/** Throws "image too large (WxH pixels, a side above MAX_SIDE)" for an absurdly long side. */
export function checkSides(width: number, height: number): void {
  if (Math.max(width, height) > MAX_SIDE) throw new Error(`image too large (${width}x${height} pixels, a side above ${MAX_SIDE})`);
}

/** Memory one decode may take (default 256 MiB; CONSTELLATE_DECODE_BUDGET_MB). */
export function decodeBudgetBytes(): number {
  const v = (config.positive('CONSTELLATE_DECODE_BUDGET_MB') ?? NaN);
  return (Number.isFinite(v) && v > 0 ? v : 256) * 1024 * 1024;
}

/**
 * Refuses an image whose decoder must hold the whole picture in memory beyond the budget: a progressive JPEG keeps
 * every DCT coefficient of the image (2 bytes per sample, ~3 bytes per pixel at 4:4:4, 1.5 at 4:2:0) whatever size it
 * is scaled to, and an interlaced PNG the full pixel buffer. A 1.1 MB progressive 14000x14000 JPEG cost 678 MB to
 * decode. Baseline JPEG (shrink-on-load) and non-interlaced PNG/WebP/TIFF stream through libvips and are not limited.
 */
export function checkDecodeBudget(meta: { format?: string; width?: number; height?: number; isProgressive?: boolean;
  channels?: number; chromaSubsampling?: string; depth?: string }): void {
  const w = meta.width ?? 0, h = meta.height ?? 0;
  if (!meta.isProgressive || !w || !h) return;
  let bytes: number;
  if (meta.format === 'jpeg') {
    const perPixel = meta.chromaSubsampling?.startsWith('4:2:0') ? 1.5 : meta.chromaSubsampling?.startsWith('4:2:2') ? 2 : Math.max(1, meta.channels ?? 3);
    bytes = w * h * perPixel * 2;
  } else {
    bytes = w * h * Math.max(1, meta.channels ?? 3) * (meta.depth === 'ushort' ? 2 : 1);
  }
  const budget = decodeBudgetBytes();
  if (bytes > budget) {
    const kind = meta.format === 'jpeg' ? 'progressive JPEG' : `interlaced ${String(meta.format).toUpperCase()}`;
    throw new Error(`image too large (${w}x${h} pixels, a ${kind} needs about ${Math.round(bytes / 1048576)} MiB to decode, budget ${Math.round(budget / 1048576)} MiB)`);
  }
}

/** sharp pipeline start: strict decoding so truncated files fail instead of returning grey; absurd sides refused first. */
async function open(buf: Buffer): Promise<ReturnType<typeof sharp>> {
  const s = sharp(buf, { failOn: 'truncated', limitInputPixels: 268_402_689 });
  const meta = await s.metadata();
  if (meta.width && meta.height) checkSides(meta.width, meta.height);
  checkDecodeBudget(meta);
  return s.rotate().removeAlpha().toColourspace('srgb');
}

/** Full-resolution decode (EXIF-rotated RGB). */
export async function decodeRgb(input: ImageInput): Promise<RgbImage> {
  const label = inputLabel(input);
  const buf = await readInput(input);
  try {
    const { data, info } = await (await open(buf)).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { data, width: info.width, height: info.height };
  } catch (e) {
    throw badImage(label, e);
  }
}

/** Resize (fill) to w×h, returns RGB bytes. */
export async function resizeRgb(input: ImageInput, width: number, height: number, kernel: Kernel = 'lanczos3'): Promise<Buffer> {
  const label = inputLabel(input);
  const buf = await readInput(input);
  try {
    const { data, info } = await (await open(buf)).resize(width, height, { fit: 'fill', kernel }).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== width || info.height !== height) throw new Error('unexpected decode result');
    return data;
  } catch (e) {
    throw badImage(label, e);
  }
}

/** Resize an already-decoded RGB image (fill). */
export async function resizeRaw(img: RgbImage, width: number, height: number, kernel: Kernel = 'lanczos3', extract?: { left: number; top: number; width: number; height: number }): Promise<Buffer> {
  let p = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (extract) p = p.extract(extract);
  return p.resize(width, height, { fit: 'fill', kernel }).raw().toBuffer();
}

export async function rgbToJpeg(data: Uint8Array, width: number, height: number, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/** Photo model input: EXIF-rotated, alpha removed, 224×224 fill lanczos3, /255, NHWC float32. */
export async function preprocessPhoto(input: ImageInput, size = 224): Promise<Float32Array> {
  const rgb = await resizeRgb(input, size, size, 'lanczos3');
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! / 255;
  return out;
}

/** A face's aligned crop: 112 x 112 RGB by the ArcFace 5-point template from its 68 landmarks (pixels of the EXIF-rotated photo). */
export function alignedFaceCrop(img: RgbImage, landmarks68: ArrayLike<number>): Uint8Array {
  return alignFace112(img.data, img.width, img.height, landmarks68To5(landmarks68)).image;
}

/** JPEG quality of a face crop's thumbnail. */
export const FACE_CROP_QUALITY = 90;

/** A face crop's thumbnail JPEG (the detector's, a face drawn by hand and the cache's rebuild make it alike). */
export function faceCropJpeg(aligned: Uint8Array, quality = FACE_CROP_QUALITY): Promise<Buffer> {
  return rgbToJpeg(aligned, 112, 112, quality);
}
