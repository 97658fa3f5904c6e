/**
 * The text side of a CLIP-like model: a tokenizer (a Hugging Face tokenizer.json, read by @huggingface/tokenizers) and
 * an ONNX text encoder whose output lives in the same space as the image encoder's. Described by the `text` section
 * of an image model's manifest (paths relative to the manifest):
 *
 *   "text": { "file": "clip-vit-b32-text.onnx", "tokenizer": "clip-vit-b32-tokenizer.json",
 *             "inputName": "input_ids", "outputName": "text_embeds", "maxLength": 77,
 *             "attentionMaskName": "attention_mask" }   // optional: fed with ones when the model has that input
 *
 * A text is tokenized (special tokens added by the tokenizer's post-processor), cut to maxLength keeping its last
 * token (CLIP pools at the end-of-text token), encoded as int64 ids [1, L] and L2-normalized, as the image vectors are.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { AppError } from '../../common/errors.ts';
import { jsonReason } from '../../common/redact.ts';
import { readFileSafeSync } from '../safe-read.ts';
import { createSession, ort, type RuntimeOptions } from './session.ts';

export interface TextEncoderSpec {
  file: string;
  tokenizer: string;
  inputName: string;
  outputName: string;
  maxLength: number;
  attentionMaskName?: string;
}

function bad(where: string, field: string, why: string): AppError {
  return new AppError('BAD_MODEL', `${where}: field 'text.${field}' ${why}`);
}

/** Validates a manifest's `text` section; `where` names the manifest in errors. */
export function validateTextSpec(raw: unknown, where: string): TextEncoderSpec {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AppError('BAD_MODEL', `${where}: field 'text' must be an object (the text encoder: file, tokenizer, inputName, outputName, maxLength)`);
  const t = raw as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof t[k] !== 'string' || (t[k] as string).trim() === '') throw bad(where, k, 'must be a non-empty string');
    return t[k] as string;
  };
  const spec: TextEncoderSpec = { file: str('file'), tokenizer: str('tokenizer'), inputName: str('inputName'), outputName: str('outputName'), maxLength: 0 };
  if (!Number.isInteger(t.maxLength) || (t.maxLength as number) < 2 || (t.maxLength as number) > 4096) throw bad(where, 'maxLength', 'must be an integer 2..4096 (CLIP: 77)');
  spec.maxLength = t.maxLength as number;
  if (t.attentionMaskName !== undefined) spec.attentionMaskName = str('attentionMaskName');
  return spec;
}

/** The files a text spec names, resolved against the manifest's folder. */
export function textFiles(spec: TextEncoderSpec, manifestPath: string): { model: string; tokenizer: string } {
  const dir = path.dirname(manifestPath);
  return { model: path.resolve(dir, spec.file), tokenizer: path.resolve(dir, spec.tokenizer) };
}

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new AppError('MODEL_MISSING', `${file}: the ${what} is missing`);
  const text = readFileSafeSync(file, 'json', undefined, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('BAD_MODEL', `${file}: the ${what} is not valid JSON (${e instanceof SyntaxError ? jsonReason(e) : String(e)})`);
  }
}

/** Disposing it (`await using`) releases its sessions, as release() does. */
export class TextEncoder implements AsyncDisposable {
  private constructor(
    readonly spec: TextEncoderSpec,
    readonly files: { model: string; tokenizer: string },
    readonly dim: number,
    private readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
    private readonly feedMask: boolean,
  ) {}

  /** Loads and checks the tokenizer and the encoder named by `spec` (relative to `manifestPath`); `dim` is the image model's. */
  static async load(spec: TextEncoderSpec, manifestPath: string, dim: number, opts?: RuntimeOptions): Promise<TextEncoder> {
    const files = textFiles(spec, manifestPath);
    const json = readJson(files.tokenizer, 'text tokenizer (tokenizer.json)');
    let tokenizer: Tokenizer;
    try {
      // everything CLIP's tokenization needs (normalizer, BPE, special tokens) is in tokenizer.json itself
      tokenizer = new Tokenizer(json as object, {});
    } catch (e) {
      throw new AppError('BAD_MODEL', `${files.tokenizer}: not a tokenizer this version can read (${(e as Error).message.split('\n')[0]})`);
    }
    const session = await createSession(files.model, opts);
    const where = manifestPath;
    const input = session.inputMetadata.find((i) => i.name === spec.inputName);
    if (!input) throw bad(where, 'inputName', `is '${spec.inputName}' but ${path.basename(files.model)} has inputs ${JSON.stringify(session.inputNames)}`);
    const out = session.outputMetadata.find((o) => o.name === spec.outputName);
    if (!out) throw bad(where, 'outputName', `is '${spec.outputName}' but ${path.basename(files.model)} has outputs ${JSON.stringify(session.outputNames)}`);
    const mask = spec.attentionMaskName ?? 'attention_mask';
    const feedMask = session.inputNames.includes(mask);
    const extra = session.inputNames.filter((n) => n !== spec.inputName && !(feedMask && n === mask));
    if (extra.length) throw bad(where, 'inputName', `: ${path.basename(files.model)} also needs inputs ${JSON.stringify(extra)} this version does not feed`);
    const enc = new TextEncoder(spec, files, dim, tokenizer, session, feedMask);
    // one real run: a wrong output size is said now, naming the file
    await enc.embed('a photo').catch((e: unknown) => {
      void session.release();
      if (e instanceof AppError) throw e;
      throw new AppError('BAD_MODEL', `${files.model}: test inference failed: ${(e as Error).message.split('\n')[0]}`);
    });
    return enc;
  }

  /** The token ids of a text, cut to maxLength (the last token, end of text, kept). */
  tokenize(text: string): number[] {
    const ids = this.tokenizer.encode(text).ids;
    const max = this.spec.maxLength;
    return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]];
  }

  /** The L2-normalized embedding of a text (dim floats). */
  async embed(text: string): Promise<Float32Array> {
    const ids = this.tokenize(text);
    if (ids.length === 0) throw new AppError('BAD_ARGUMENT', `text: ${JSON.stringify(text.slice(0, 80))} has no tokens`);
    const feeds: Record<string, ort.Tensor> = {
      [this.spec.inputName]: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]),
    };
    if (this.feedMask) feeds[this.spec.attentionMaskName ?? 'attention_mask'] = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    const r = await this.session.run(feeds, [this.spec.outputName]);
    const y = r[this.spec.outputName]!.data as Float32Array;
    if (y.length !== this.dim) {
      throw new AppError('BAD_MODEL', `${this.files.model}: output '${this.spec.outputName}' has ${y.length} values per text but the image model's vectors have ${this.dim}: they are not one space`);
    }
    const v = Float32Array.from(y);
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
    s = Math.sqrt(s) || 1;
    for (let i = 0; i < v.length; i++) v[i]! /= s;
    return v;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
