/**
 * Manifest models: any ONNX image-embedding model described by a small JSON manifest.
 *
 * {
 *   "name": "clip-vit-b32", "file": "vision_model.onnx", "inputName": "pixel_values",
 *   "size": [224, 224], "layout": "NCHW", "channelOrder": "RGB",
 *   "mean": [0.481, 0.458, 0.408], "std": [0.269, 0.261, 0.276], "scale": 0.00392156862745098,
 *   "outputName": "image_embeds", "dim": 512, "normalize": true,
 *   "resize": "cover"            // optional: "fill" (default) or "cover" (shortest side + centre crop)
 *   "version": "..."             // optional
 *   "text": { ... }              // optional: its CLIP text encoder and tokenizer (text-encoder.ts), for text search
 * }
 * value = (pixel * scale - mean[c]) / std[c]
 */
import { fsPath } from '../fs-names.ts';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { AppError } from '../../common/errors.ts';
import { jsonReason } from '../../common/redact.ts';
import { inputLabel, type ImageInput } from './image.ts';
import { createSession, ort, type RuntimeOptions } from './session.ts';
import { validateTextSpec, type TextEncoderSpec } from './text-encoder.ts';

export interface ModelManifest {
  name: string;
  file: string;
  inputName: string;
  size: [number, number];
  layout: 'NCHW' | 'NHWC';
  channelOrder: 'RGB' | 'BGR';
  mean: [number, number, number];
  std: [number, number, number];
  scale: number;
  outputName: string;
  dim: number;
  normalize: boolean;
  resize?: 'fill' | 'cover';
  version?: string;
  /** the text encoder of the same space (CLIP), for text search */
  text?: TextEncoderSpec;
}

function bad(where: string, field: string, why: string): AppError {
  return new AppError('BAD_MODEL', `${where}: field '${field}' ${why}`);
}

/** Validate a parsed manifest object; `where` names it in errors. */
export function validateManifest(raw: unknown, where: string): ModelManifest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AppError('BAD_MODEL', `${where}: manifest must be a JSON object`);
  const m = raw as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof m[k] !== 'string' || (m[k] as string).trim() === '') throw bad(where, k, 'must be a non-empty string');
    return m[k] as string;
  };
  const num3 = (k: string, positive: boolean) => {
    const v = m[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))) {
      throw bad(where, k, `must be 3 ${positive ? 'positive ' : ''}numbers`);
    }
    return v as [number, number, number];
  };
  const name = str('name');
  const file = str('file');
  const inputName = str('inputName');
  const outputName = str('outputName');
  const size = m.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((x) => Number.isInteger(x) && x > 0 && x <= 4096)) {
    throw bad(where, 'size', 'must be [height, width], positive integers');
  }
  if (m.layout !== 'NCHW' && m.layout !== 'NHWC') throw bad(where, 'layout', "must be 'NCHW' or 'NHWC'");
  if (m.channelOrder !== 'RGB' && m.channelOrder !== 'BGR') throw bad(where, 'channelOrder', "must be 'RGB' or 'BGR'");
  const mean = num3('mean', false);
  const std = num3('std', true);
  if (typeof m.scale !== 'number' || !Number.isFinite(m.scale) || m.scale <= 0) throw bad(where, 'scale', 'must be a positive number (e.g. 1/255)');
  if (!Number.isInteger(m.dim) || (m.dim as number) <= 0) throw bad(where, 'dim', 'must be a positive integer');
  if (typeof m.normalize !== 'boolean') throw bad(where, 'normalize', 'must be true or false');
  if (m.resize !== undefined && m.resize !== 'fill' && m.resize !== 'cover') throw bad(where, 'resize', "must be 'fill' or 'cover'");
  if (m.version !== undefined && typeof m.version !== 'string') throw bad(where, 'version', 'must be a string');
  return {
    name, file, inputName, outputName,
    size: [size[0], size[1]] as [number, number],
    layout: m.layout, channelOrder: m.channelOrder, mean, std, scale: m.scale,
    dim: m.dim as number, normalize: m.normalize,
    resize: (m.resize as 'fill' | 'cover' | undefined) ?? 'fill',
    version: m.version as string | undefined,
    ...(m.text !== undefined ? { text: validateTextSpec(m.text, where) } : {}),
  };
}

type Dim = number | string;

/** Disposing it (`await using`) releases its sessions, as release() does. */
export class ManifestModel implements AsyncDisposable {
  private constructor(
    readonly manifest: ModelManifest,
    readonly file: string,
    private readonly session: ort.InferenceSession,
    /** false when the model's batch dimension is fixed to 1 */
    readonly batchable: boolean,
  ) {}

  get name(): string {
    return this.manifest.name;
  }
  get dim(): number {
    return this.manifest.dim;
  }

  static async create(manifest: ModelManifest, file: string, where: string, opts?: RuntimeOptions): Promise<ManifestModel> {
    const session = await createSession(file, opts);
    const [h, w] = manifest.size;
    const inMeta = session.inputMetadata.find((i) => i.name === manifest.inputName);
    if (!inMeta) {
      throw bad(where, 'inputName', `is '${manifest.inputName}' but ${path.basename(file)} has inputs ${JSON.stringify(session.inputNames)}`);
    }
    const shape = (inMeta.isTensor ? inMeta.shape : []) as Dim[];
    const expect: Dim[] = manifest.layout === 'NCHW' ? ['N', 3, h, w] : ['N', h, w, 3];
    const fits = shape.length === 4 && shape.every((d, i) => i === 0 || typeof d !== 'number' || d < 0 || d === expect[i]);
    if (!fits) {
      throw bad(where, 'size/layout', `describe input [N,${expect.slice(1).join(',')}] but ${path.basename(file)} input '${manifest.inputName}' has shape ${JSON.stringify(shape)}`);
    }
    const outMeta = session.outputMetadata.find((o) => o.name === manifest.outputName);
    if (!outMeta) {
      throw bad(where, 'outputName', `is '${manifest.outputName}' but ${path.basename(file)} has outputs ${JSON.stringify(session.outputNames)}`);
    }
    const oshape = (outMeta.isTensor ? outMeta.shape : []) as Dim[];
    const last = oshape[oshape.length - 1];
    if (oshape.length !== 2 || (typeof last === 'number' && last > 0 && last !== manifest.dim)) {
      throw bad(where, 'dim', `is ${manifest.dim} but output '${manifest.outputName}' has shape ${JSON.stringify(oshape)} (need [N, ${manifest.dim}])`);
    }
    const batchable = typeof shape[0] !== 'number' || shape[0] < 0 || shape[0] > 1;
    const model = new ManifestModel(manifest, file, session, batchable);
    // one real run: catches symbolic shapes that resolve to the wrong size
    await model.embedBatch([new Float32Array(3 * h * w)]).catch((e: unknown) => {
      if (e instanceof AppError) throw e;
      throw new AppError('BAD_MODEL', `${file}: test inference failed: ${(e as Error).message.split('\n')[0]}`);
    });
    return model;
  }

  /** Decode + resize + normalize into the model's layout. Throws BAD_IMAGE / BAD_FILE. */
  async preprocess(input: ImageInput): Promise<Float32Array> {
    const { size: [h, w], layout, channelOrder, mean, std, scale } = this.manifest;
    const label = inputLabel(input);
    let buf: Buffer;
    if (typeof input === 'string') {
      try {
        buf = await fs.promises.readFile(fsPath(input));
      } catch (e) {
        throw new AppError('BAD_FILE', `${input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot read'}`);
      }
    } else buf = Buffer.from(input);
    let rgb: Buffer;
    try {
      rgb = await sharp(buf, { failOn: 'truncated' })
        .rotate()
        .removeAlpha()
        .toColourspace('srgb')
        .resize(w, h, { fit: this.manifest.resize === 'cover' ? 'cover' : 'fill', kernel: this.manifest.resize === 'cover' ? 'cubic' : 'lanczos3' })
        .raw()
        .toBuffer();
    } catch (e) {
      throw new AppError('BAD_IMAGE', `${label}: ${(e as Error).message.split('\n')[0]!.replace(/^Input (buffer|file) /, '')}`);
    }
    const out = new Float32Array(3 * h * w);
    const plane = h * w;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const src = channelOrder === 'RGB' ? c : 2 - c;
        const v = (rgb[3 * i + src]! * scale - mean[c]!) / std[c]!;
        if (layout === 'NCHW') out[c * plane + i] = v;
        else out[3 * i + c] = v;
      }
    }
    return out;
  }

  /** n preprocessed tensors → n*dim floats (L2-normalized when the manifest says so). */
  async embedBatch(tensors: Float32Array[]): Promise<Float32Array> {
    const { size: [h, w], layout, dim } = this.manifest;
    const per = 3 * h * w;
    const out = new Float32Array(tensors.length * dim);
    const groups = this.batchable ? [tensors] : tensors.map((t) => [t]);
    let at = 0;
    for (const g of groups) {
      if (g.length === 0) continue;
      const x = new Float32Array(g.length * per);
      g.forEach((t, i) => {
        if (t.length !== per) throw new AppError('BAD_ARGUMENT', `tensors[${at + i}]: expected ${per} values, got ${t.length}`);
        x.set(t, i * per);
      });
      const dims = layout === 'NCHW' ? [g.length, 3, h, w] : [g.length, h, w, 3];
      const r = await this.session.run({ [this.manifest.inputName]: new ort.Tensor('float32', x, dims) }, [this.manifest.outputName]);
      const y = r[this.manifest.outputName]!.data as Float32Array;
      if (y.length !== g.length * dim) {
        throw new AppError('BAD_MODEL', `${this.file}: output '${this.manifest.outputName}' has ${y.length / g.length} values per image but manifest field 'dim' is ${dim}`);
      }
      out.set(y, at * dim);
      at += g.length;
    }
    if (this.manifest.normalize) {
      for (let n = 0; n < tensors.length; n++) {
        let s = 0;
        for (let i = 0; i < dim; i++) s += out[n * dim + i]! ** 2;
        s = Math.sqrt(s) || 1;
        for (let i = 0; i < dim; i++) out[n * dim + i]! /= s;
      }
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/** Read + validate a manifest file and check it against the real model. `file` is relative to the manifest. */
export async function loadManifestModel(manifestPath: string, opts?: RuntimeOptions): Promise<ManifestModel> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('MODEL_MISSING', `${manifestPath}: manifest not found`);
    throw new AppError('BAD_MODEL', `${manifestPath}: ${e instanceof SyntaxError ? jsonReason(e) : `cannot read (${code ?? 'error'})`}`);
  }
  const manifest = validateManifest(raw, manifestPath);
  const file = path.resolve(path.dirname(manifestPath), manifest.file);
  if (!fs.existsSync(file)) throw new AppError('MODEL_MISSING', `${file}: model file named by ${manifestPath} is missing`);
  return ManifestModel.create(manifest, file, manifestPath, opts);
}
