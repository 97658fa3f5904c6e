/**
 * Text search end to end on a tiny CLIP the test builds (testing/tiny-clip.ts): the text goes through the real
 * tokenizer library and a real ONNX session, the photos through the real embed job (scan, decode, manifest model),
 * and the ranking through the worker pool; the known answer is the colour the text names. Refusals name what is
 * missing: no CLIP model, a manifest without text encoder, a deleted tokenizer, a face kind, a broken tokenizer.
 */
import { basename, join } from 'node:path';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../common/jobs.ts';
import { CoreService } from '../service.ts';
import { tempDir } from '../../testing/fixtures.ts';
import { tinyTokenizer, writeColourPhotos, writeTinyClip, type TinyClip } from '../../testing/tiny-clip.ts';
import { TextEncoder, validateTextSpec } from '../models/text-encoder.ts';

const t = tempDir();
let svc: CoreService;
let clip: TinyClip;
const nameOf = (path: string) => basename(path, '.jpg');

async function done<K extends JobInfo['kind']>(p: Promise<JobInfo<K>>): Promise<JobInfo<K>> {
  const j = await svc.jobs.wait((await p).id);
  expect(j.state, JSON.stringify(j.error)).toBe('done');
  return j as JobInfo<K>;
}

beforeAll(async () => {
  clip = writeTinyClip(join(t.dir, 'models'));
  await writeColourPhotos(join(t.dir, 'photos'));
  svc = CoreService.open(join(t.dir, 'text.constellate'));
  await svc.addRoots({ paths: [join(t.dir, 'photos')] });
  await done(svc.scan());
}, 300_000);

afterAll(async () => { await svc?.close(); t.cleanup(); });

describe('text search', () => {
  it('refuses before any CLIP model is embedded, saying what to install', async () => {
    await expect(svc.searchItems({ kind: 'photo', text: 'something red' })).rejects.toMatchObject({
      code: 'MODEL_MISSING', message: expect.stringMatching(/no photo model of this library has a text encoder \(photo models: none yet\).*clip-vit-b32-vision.*clip-vit-b32-text/),
    });
  });

  it('ranks the photos by the text: text -> tokens -> encoder -> vector -> the named colour first', async () => {
    await done(svc.embed({ model: clip.manifest }));
    const red = await svc.searchItems({ kind: 'photo', text: 'A photo of something RED' });
    expect(red.model).toBe('tiny-clip');
    expect(red.items.map((v) => nameOf(v.path)).slice(0, 3)).toEqual(['red', 'yellow', 'white']);
    expect(red.total).toBe(5);
    expect(Array.from(red.ids)).toEqual(red.items.map((v) => v.item));
    // cosine of unit vectors: red . red = 1, red . yellow = 1/sqrt 2, red . white = 1/sqrt 3 (JPEG noise aside)
    expect(red.scores![0]).toBeGreaterThan(0.99);
    expect(red.scores![1]).toBeCloseTo(Math.SQRT1_2, 1);
    expect(red.scores![2]).toBeCloseTo(1 / Math.sqrt(3), 1);
    for (let i = 1; i < red.scores!.length; i++) expect(red.scores![i - 1]).toBeGreaterThanOrEqual(red.scores![i]);
    const sky = await svc.searchItems({ kind: 'photo', text: 'the blue sky', limit: 2 });
    expect(sky.items.map((v) => nameOf(v.path))).toEqual(['blue', 'white']);
    // two words add up: green + yellow = (1, 2, 0), nearer yellow (0.95) than green (0.89)
    const mix = await svc.searchItems({ kind: 'photo', text: 'green yellow', model: 'tiny-clip', limit: 1 });
    expect(nameOf(mix.items[0].path)).toBe('yellow');
  });

  it('the other filters narrow what is ranked', async () => {
    const r = await svc.searchItems({ kind: 'photo', text: 'red', fileName: 'L' }); // blue and yellow
    expect(r.items.map((v) => nameOf(v.path))).toEqual(['yellow', 'blue']);
    expect((await svc.searchItems({ kind: 'photo', text: 'red', fileName: 'nothing-matches' })).total).toBe(0);
  });

  it('wrong parameters and missing pieces are named', async () => {
    await expect(svc.searchItems({ kind: 'face', text: 'red' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^kind: text search finds photos/) });
    await expect(svc.searchItems({ kind: 'photo', text: '   ' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^text:/) });
    await expect(svc.searchItems({ kind: 'photo', text: 'red', model: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/model "nope"/) });
    // the tokenizer deleted: named, and the photos' embeddings untouched
    const saved = join(t.dir, 'tokenizer.saved.json');
    copyFileSync(clip.tokenizer, saved);
    rmSync(clip.tokenizer);
    try {
      await expect(svc.searchItems({ kind: 'photo', text: 'red' })).rejects.toMatchObject({
        code: 'MODEL_MISSING', message: expect.stringContaining(`its text encoder is not installed (missing ${clip.tokenizer})`),
      });
    } finally { copyFileSync(saved, clip.tokenizer); }
    expect((await svc.searchItems({ kind: 'photo', text: 'red' })).total).toBe(5);
  });

  it('a manifest without a text encoder says so', async () => {
    const dir = join(t.dir, 'plain');
    const plain = writeTinyClip(dir, { withText: false, name: 'plain-clip' });
    await done(svc.embed({ model: plain.manifest }));
    await expect(svc.searchItems({ kind: 'photo', text: 'red', model: 'plain-clip' })).rejects.toMatchObject({
      code: 'MODEL_MISSING', message: expect.stringMatching(/plain-clip: its manifest .* names no text encoder \(field 'text'\)/),
    });
    // the library still has tiny-clip: without a model named, that one answers
    expect((await svc.searchItems({ kind: 'photo', text: 'blue', limit: 1 })).items.map((v) => nameOf(v.path))).toEqual(['blue']);
  });
});

describe('text encoder files', () => {
  it('a broken tokenizer or a wrong spec is a BAD_MODEL naming the file or field', async () => {
    const dir = join(t.dir, 'broken');
    mkdirSync(dir, { recursive: true });
    const c = writeTinyClip(dir);
    const spec = validateTextSpec({ file: 'tiny-clip-text.onnx', tokenizer: 'tiny-clip-tokenizer.json', inputName: 'input_ids', outputName: 'text_embeds', maxLength: 77 }, c.manifest);
    writeFileSync(c.tokenizer, '{"model": ');
    await expect(TextEncoder.load(spec, c.manifest, 3)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining(c.tokenizer) });
    writeFileSync(c.tokenizer, JSON.stringify(tinyTokenizer().json));
    await expect(TextEncoder.load({ ...spec, outputName: 'nope' }, c.manifest, 3)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringMatching(/text\.outputName' is 'nope' but tiny-clip-text\.onnx has outputs \["text_embeds"\]/) });
    await expect(TextEncoder.load(spec, c.manifest, 512)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringMatching(/3 values per text but the image model's vectors have 512/) });
    expect(() => validateTextSpec({ ...spec, maxLength: 1 }, 'm.json')).toThrow(/m\.json: field 'text\.maxLength'/);
    expect(() => validateTextSpec('x', 'm.json')).toThrow(/m\.json: field 'text' must be an object/);
  });

  it('a long text is cut to maxLength, keeping its end-of-text token', async () => {
    const dir = join(t.dir, 'long');
    const c = writeTinyClip(dir);
    const spec = validateTextSpec({ file: 'tiny-clip-text.onnx', tokenizer: 'tiny-clip-tokenizer.json', inputName: 'input_ids', outputName: 'text_embeds', maxLength: 5 }, c.manifest);
    const enc = await TextEncoder.load(spec, c.manifest, 3);
    try {
      const { vocab } = tinyTokenizer();
      const ids = enc.tokenize('red green blue yellow white red');
      expect(ids).toEqual([vocab['<|startoftext|>'], vocab['red</w>'], vocab['green</w>'], vocab['blue</w>'], vocab['<|endoftext|>']]);
      // only the first three words count: red + green + blue = white's direction
      const v = await enc.embed('red green blue yellow yellow yellow');
      expect(v[0]).toBeCloseTo(1 / Math.sqrt(3), 5);
      expect(v[2]).toBeCloseTo(1 / Math.sqrt(3), 5);
    } finally { await enc.release(); }
  });
});
