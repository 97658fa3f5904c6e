/**
 * Face pipeline: detect (fr_detect.onnx) → 68 landmarks (fr_landmark.onnx) → ArcFace 5-point
 * alignment → 512-d MobileFaceNet embedding (fr_feature.onnx), L2-normalized.
 *
 * Model I/O as inspected with onnxruntime (faceplugin-face-recognition-js@0.0.1):
 *   fr_detect:   input 'input' [1,3,240,320] RGB (v-127)/128 → 'scores' [1,4420,2] (softmaxed), 'boxes' [1,4420,4] (x1,y1,x2,y2 in [0,1])
 *   fr_landmark: input 'input' [1,1,64,64] gray/256 → 'output' [1,136] (x,y pairs in [0,1] of the crop)
 *   fr_feature:  input 'input' [1,3,112,112] RGB (v-127)/128 → 'output' [1,512]
 */
import { FACE_MIN_QUALITY_DEFAULT } from '../../common/types.ts';
import { AppError } from '../../common/errors.ts';
import { defaultModelsDir, verifyModel } from './files.ts';
import { FACE_CROP_QUALITY, alignedFaceCrop, decodeRgb, faceCropJpeg, resizeRaw, type ImageInput, type RgbImage } from './image.ts';
import { createSession, ort, type RuntimeOptions } from './session.ts';

export const FACE_MODEL_NAME = 'face';
export const FACE_DIM = 512;
export const FACE_MODEL_VERSION = 'faceplugin-face-recognition-js@0.0.1/fr_detect+fr_landmark+fr_feature;align-arcface5-v1';

export interface FaceOptions extends RuntimeOptions {
  /** detector score threshold (default 0.65) */
  scoreThreshold?: number;
  /** NMS IoU threshold (default 0.4) */
  nmsIoU?: number;
  /** minimum side of the (squared) face box in image pixels (default 24) */
  minFaceSize?: number;
  /** at most this many faces per image, best first (default 50) */
  maxFaces?: number;
  /** JPEG quality of the aligned crop (default 90) */
  jpegQuality?: number;
  /**
   * Smallest face quality kept: the L2 norm of MobileFaceNet's feature before normalization (the feature-norm quality
   * of MagFace / ArcFace: non-faces and unusable crops embed with a small norm). Default FACE_MIN_QUALITY; 0 keeps all.
   */
  minQuality?: number;
}

/**
 * Default face quality floor, measured on ../shared (scripts in bench/face-quality.mts): the 25 petal/cake/dog "faces"
 * detected in photos-flowers have norms 1.45–2.05, the 60 faces of faces-london 3.13–4.77, 385 of the 386 faces of
 * faces-orl 2.24–4.83 (the one left, 1.79, is a poor detection), the two real faces in the flower photos 3.75 and 3.99.
 */
export const FACE_MIN_QUALITY = FACE_MIN_QUALITY_DEFAULT;

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceResult {
  /** square face box in pixels of the EXIF-rotated image, clamped to it */
  box: FaceBox;
  /** detector box before squaring (pixels) */
  detectorBox: FaceBox;
  /** detector score in [0,1] */
  score: number;
  /** 68 (x,y) points in image pixels, flat: x0,y0,x1,y1,... */
  landmarks: Float32Array;
  /** 512-d, L2-normalized */
  embedding: Float32Array;
  /** aligned 112×112 RGB face as JPEG bytes */
  alignedJpeg: Buffer;
  /** feature-norm quality (see FaceOptions.minQuality) */
  quality: number;
}

const DET_W = 320;
const DET_H = 240;

interface Det {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

function iou(a: Det, b: Det): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const ua = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return ua > 0 ? inter / ua : 0;
}

/** Greedy NMS on score-sorted detections. Exported for tests. */
export function nms(dets: Det[], iouThreshold: number, maxOut: number): Det[] {
  const sorted = dets.slice().sort((a, b) => b.score - a.score);
  const keep: Det[] = [];
  for (const d of sorted) {
    if (keep.length >= maxOut) break;
    if (keep.every((k) => iou(k, d) <= iouThreshold)) keep.push(d);
  }
  return keep;
}

/** Square a box around its centre, keep it inside the image (shift, then shrink if larger than the image). */
export function squareBox(d: { x1: number; y1: number; x2: number; y2: number }, width: number, height: number): FaceBox {
  let side = Math.max(d.x2 - d.x1, d.y2 - d.y1);
  side = Math.min(side, width, height);
  const cx = (d.x1 + d.x2) / 2;
  const cy = (d.y1 + d.y2) / 2;
  let x = Math.round(cx - side / 2);
  let y = Math.round(cy - side / 2);
  const s = Math.max(1, Math.round(side));
  x = Math.min(Math.max(0, x), width - s);
  y = Math.min(Math.max(0, y), height - s);
  return { x, y, width: s, height: s };
}

/** Disposing it (`await using`) releases its sessions, as release() does. */
export class FaceEmbedder implements AsyncDisposable {
  readonly name = FACE_MODEL_NAME;
  readonly dim = FACE_DIM;
  readonly version = FACE_MODEL_VERSION;
  private readonly opts: Required<Omit<FaceOptions, keyof RuntimeOptions>>;

  private constructor(
    private readonly detect: ort.InferenceSession,
    private readonly landmark: ort.InferenceSession,
    private readonly feature: ort.InferenceSession,
    opts: FaceOptions,
  ) {
    this.opts = {
      scoreThreshold: opts.scoreThreshold ?? 0.65,
      nmsIoU: opts.nmsIoU ?? 0.4,
      minFaceSize: opts.minFaceSize ?? 24,
      maxFaces: opts.maxFaces ?? 50,
      jpegQuality: opts.jpegQuality ?? FACE_CROP_QUALITY,
      minQuality: opts.minQuality ?? FACE_MIN_QUALITY,
    };
  }

  static async load(modelsDir: string = defaultModelsDir(), opts: FaceOptions = {}): Promise<FaceEmbedder> {
    const [det, lm, feat] = verifyModel('face', modelsDir) as [string, string, string];
    const sDet = await createSession(det, opts);
    const sLm = await createSession(lm, opts);
    const sFeat = await createSession(feat, opts);
    const need = (s: ort.InferenceSession, file: string, ins: string[], outs: string[]) => {
      for (const n of ins) if (!s.inputNames.includes(n)) throw new AppError('BAD_MODEL', `${file}: input '${n}' missing`);
      for (const n of outs) if (!s.outputNames.includes(n)) throw new AppError('BAD_MODEL', `${file}: output '${n}' missing`);
    };
    need(sDet, det, ['input'], ['scores', 'boxes']);
    need(sLm, lm, ['input'], ['output']);
    need(sFeat, feat, ['input'], ['output']);
    return new FaceEmbedder(sDet, sLm, sFeat, opts);
  }

  /** Raw detections (pixels of the given image), after threshold + NMS, before squaring. */
  async detectFaces(img: RgbImage): Promise<Det[]> {
    const small = await resizeRaw(img, DET_W, DET_H, 'linear');
    const plane = DET_W * DET_H;
    const x = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      x[i] = (small[3 * i]! - 127) / 128;
      x[plane + i] = (small[3 * i + 1]! - 127) / 128;
      x[2 * plane + i] = (small[3 * i + 2]! - 127) / 128;
    }
    const out = await this.detect.run({ input: new ort.Tensor('float32', x, [1, 3, DET_H, DET_W]) });
    const scores = out.scores!.data as Float32Array;
    const boxes = out.boxes!.data as Float32Array;
    const n = scores.length / 2;
    const dets: Det[] = [];
    for (let i = 0; i < n; i++) {
      const s = scores[2 * i + 1]!;
      if (s < this.opts.scoreThreshold) continue;
      const x1 = Math.max(0, boxes[4 * i]! * img.width);
      const y1 = Math.max(0, boxes[4 * i + 1]! * img.height);
      const x2 = Math.min(img.width, boxes[4 * i + 2]! * img.width);
      const y2 = Math.min(img.height, boxes[4 * i + 3]! * img.height);
      if (x2 - x1 < 1 || y2 - y1 < 1) continue;
      dets.push({ x1, y1, x2, y2, score: s });
    }
    return nms(dets, this.opts.nmsIoU, Math.max(this.opts.maxFaces * 4, this.opts.maxFaces));
  }

  /** 68 landmarks in image pixels for a square box. */
  async landmarks(img: RgbImage, box: FaceBox): Promise<Float32Array> {
    const crop = await resizeRaw(img, 64, 64, 'linear', { left: box.x, top: box.y, width: box.width, height: box.height });
    const x = new Float32Array(64 * 64);
    for (let i = 0; i < x.length; i++) {
      x[i] = Math.round(0.299 * crop[3 * i]! + 0.587 * crop[3 * i + 1]! + 0.114 * crop[3 * i + 2]!) / 256;
    }
    const out = await this.landmark.run({ input: new ort.Tensor('float32', x, [1, 1, 64, 64]) });
    const raw = out.output!.data as Float32Array;
    const pts = new Float32Array(136);
    for (let i = 0; i < 68; i++) {
      pts[2 * i] = box.x + raw[2 * i]! * box.width;
      pts[2 * i + 1] = box.y + raw[2 * i + 1]! * box.height;
    }
    return pts;
  }

  /** Aligned crop + embedding from 68 landmarks. */
  async embedAligned(img: RgbImage, landmarks: Float32Array): Promise<{ embedding: Float32Array; aligned: Uint8Array; quality: number }> {
    const image = alignedFaceCrop(img, landmarks);
    const plane = 112 * 112;
    const x = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      x[i] = (image[3 * i]! - 127) / 128;
      x[plane + i] = (image[3 * i + 1]! - 127) / 128;
      x[2 * plane + i] = (image[3 * i + 2]! - 127) / 128;
    }
    const out = await this.feature.run({ input: new ort.Tensor('float32', x, [1, 3, 112, 112]) });
    const v = new Float32Array(out.output!.data as Float32Array);
    let nrm = 0;
    for (let i = 0; i < v.length; i++) nrm += v[i]! * v[i]!;
    const quality = Math.sqrt(nrm);
    nrm = quality || 1;
    for (let i = 0; i < v.length; i++) v[i]! /= nrm;
    return { embedding: v, aligned: image, quality };
  }

  /** Decode, detect, landmark, align, embed. Throws BAD_IMAGE / BAD_FILE for unreadable input. */
  async detectAndEmbed(input: ImageInput): Promise<FaceResult[]> {
    const img = await decodeRgb(input);
    return this.detectAndEmbedRgb(img);
  }

  /** Detections dropped by the quality floor since this embedder was loaded (a job reports its difference). */
  rejectedLowQuality = 0;

  async detectAndEmbedRgb(img: RgbImage): Promise<FaceResult[]> {
    const dets = await this.detectFaces(img);
    const results: FaceResult[] = [];
    for (const d of dets) {
      if (results.length >= this.opts.maxFaces) break;
      const box = squareBox(d, img.width, img.height);
      if (box.width < this.opts.minFaceSize) continue;
      const landmarks = await this.landmarks(img, box);
      const { embedding, aligned, quality } = await this.embedAligned(img, landmarks);
      if (quality < this.opts.minQuality) { this.rejectedLowQuality++; continue; }
      results.push({
        quality,
        box,
        detectorBox: { x: d.x1, y: d.y1, width: d.x2 - d.x1, height: d.y2 - d.y1 },
        score: d.score,
        landmarks,
        embedding,
        alignedJpeg: await faceCropJpeg(aligned, this.opts.jpegQuality),
      });
    }
    return results;
  }

  async release(): Promise<void> {
    await Promise.all([this.detect.release(), this.landmark.release(), this.feature.release()]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
