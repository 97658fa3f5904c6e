/**
 * A tiny CLIP the tests build (not used at runtime): an image encoder whose vector is the image's mean colour (RGB),
 * a text encoder whose vector is the sum of its tokens' colours (red, green, blue, yellow, white; every other token
 * adds nothing), and a CLIP-style BPE tokenizer.json (lower-cased, end-of-word suffix `</w>`, <|startoftext|> and
 * <|endoftext|> around the text), written with the project's ONNX writer. So "a photo of something red" must rank a
 * red image first and a yellow one second: a known answer for text -> tokens -> encoder -> vector -> ranked photos.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeModel } from '../core/models/onnx-proto.ts';

export const TINY_COLOURS: Record<string, [number, number, number]> = {
  red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255], yellow: [255, 255, 0], white: [255, 255, 255],
};
const WORDS = [...Object.keys(TINY_COLOURS), 'a', 'photo', 'of', 'something', 'the', 'sky'];

/** A CLIP-like BPE tokenizer.json over WORDS (every letter is in the vocabulary, so any lower-case word tokenizes). */
export function tinyTokenizer(): { json: object; vocab: Record<string, number> } {
  const vocab: Record<string, number> = {};
  const add = (t: string) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (const c of letters) add(c);
  for (const c of letters) add(`${c}</w>`);
  // each word: the merges known so far applied as BPE applies them (lowest rank first), then new merges left to
  // right until the word is one token
  const merges: string[] = [];
  for (const w of WORDS) {
    const pieces = [...w].map((c, i) => (i === w.length - 1 ? `${c}</w>` : c));
    for (;;) {
      let best = -1, rank = Infinity;
      for (let i = 0; i + 1 < pieces.length; i++) {
        const r = merges.indexOf(`${pieces[i]} ${pieces[i + 1]}`);
        if (r >= 0 && r < rank) { rank = r; best = i; }
      }
      if (best < 0) break;
      pieces.splice(best, 2, pieces[best]! + pieces[best + 1]!);
    }
    while (pieces.length > 1) {
      merges.push(`${pieces[0]} ${pieces[1]}`);
      pieces.splice(0, 2, pieces[0]! + pieces[1]!);
      add(pieces[0]!);
    }
  }
  add('<|startoftext|>');
  add('<|endoftext|>');
  const special = (content: string) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  const json = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special('<|startoftext|>'), special('<|endoftext|>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: {
      type: 'Sequence', pretokenizers: [
        { type: 'Split', pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', vocab['<|endoftext|>']], cls: ['<|startoftext|>', vocab['<|startoftext|>']], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: '<|endoftext|>', continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  return { json, vocab };
}

/** The text encoder: Gather(token colours, input_ids) summed over the sequence -> text_embeds [N, 3]. */
export function tinyTextOnnx(vocab: Record<string, number>): Uint8Array {
  const V = Object.keys(vocab).length;
  const table = new Float32Array(V * 3);
  for (const [w, rgb] of Object.entries(TINY_COLOURS)) table.set(rgb.map((x) => x / 255), vocab[`${w}</w>`]! * 3);
  return encodeModel({
    graph: {
      name: 'tiny-clip-text',
      nodes: [
        { op: 'Gather', inputs: ['colours', 'input_ids'], outputs: ['per_token'], attrs: { axis: { i: 0 } } },
        { op: 'ReduceSum', inputs: ['per_token', 'axes'], outputs: ['text_embeds'], attrs: { keepdims: { i: 0 } } },
      ],
      initializers: [
        { name: 'colours', dims: [V, 3], dataType: 'float', data: table },
        { name: 'axes', dims: [1], dataType: 'int64', data: [1] },
      ],
      inputs: [{ name: 'input_ids', elemType: 'int64', shape: ['N', 'L'] }],
      outputs: [{ name: 'text_embeds', shape: ['N', 3] }],
    },
    opset: 13,
  });
}

/** The image encoder: the mean over the pixels of each channel -> image_embeds [N, 3]. */
export function tinyImageOnnx(size: number): Uint8Array {
  return encodeModel({
    graph: {
      name: 'tiny-clip-vision',
      nodes: [{ op: 'ReduceMean', inputs: ['pixel_values'], outputs: ['image_embeds'], attrs: { axes: { ints: [2, 3] }, keepdims: { i: 0 } } }],
      initializers: [],
      inputs: [{ name: 'pixel_values', shape: ['N', 3, size, size] }],
      outputs: [{ name: 'image_embeds', shape: ['N', 3] }],
    },
    opset: 13,
  });
}

export interface TinyClip { manifest: string; textModel: string; tokenizer: string; imageModel: string }

/** Writes the tiny CLIP (manifest `tiny-clip.json` with its `text` section, both encoders, the tokenizer) into `dir`. */
export function writeTinyClip(dir: string, o: { withText?: boolean; name?: string } = {}): TinyClip {
  mkdirSync(dir, { recursive: true });
  const size = 8;
  const { json, vocab } = tinyTokenizer();
  const files = { manifest: join(dir, 'tiny-clip.json'), textModel: join(dir, 'tiny-clip-text.onnx'), tokenizer: join(dir, 'tiny-clip-tokenizer.json'), imageModel: join(dir, 'tiny-clip-vision.onnx') };
  writeFileSync(files.imageModel, tinyImageOnnx(size));
  writeFileSync(files.textModel, tinyTextOnnx(vocab));
  writeFileSync(files.tokenizer, JSON.stringify(json));
  const manifest = {
    name: o.name ?? 'tiny-clip', file: 'tiny-clip-vision.onnx', inputName: 'pixel_values', size: [size, size], layout: 'NCHW', channelOrder: 'RGB',
    mean: [0, 0, 0], std: [1, 1, 1], scale: 1 / 255, outputName: 'image_embeds', dim: 3, normalize: true, resize: 'fill', version: 'tiny-clip-1',
    ...(o.withText === false ? {} : { text: { file: 'tiny-clip-text.onnx', tokenizer: 'tiny-clip-tokenizer.json', inputName: 'input_ids', outputName: 'text_embeds', maxLength: 77 } }),
  };
  writeFileSync(files.manifest, JSON.stringify(manifest, null, 2));
  return files;
}

/** One photo per colour of TINY_COLOURS (a 48 px JPEG of that colour with a little noise), in `dir`. */
export async function writeColourPhotos(dir: string): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  let seed = 7;
  for (const [name, [r, g, b]] of Object.entries(TINY_COLOURS)) {
    const px = Buffer.alloc(48 * 48 * 3);
    for (let i = 0; i < 48 * 48; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = (seed >>> 24) % 9; // a little noise, so each file differs from a flat fill
      px[3 * i] = Math.max(0, Math.min(255, r - n)); px[3 * i + 1] = Math.max(0, Math.min(255, g - n)); px[3 * i + 2] = Math.max(0, Math.min(255, b - n));
    }
    const file = join(dir, `${name}.jpg`);
    await sharp(px, { raw: { width: 48, height: 48, channels: 3 } }).jpeg({ quality: 95 }).toFile(file);
    out[name] = file;
  }
  return out;
}
