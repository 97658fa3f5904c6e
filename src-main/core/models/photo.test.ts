import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { PHOTO_DIM, PhotoEmbedder } from './photo.ts';
import { ensureModels, referenceDir, sharedDir } from '../../testing/models.ts';

const ref = JSON.parse(fs.readFileSync(path.join(referenceDir, 'expected.json'), 'utf8')) as {
  items: Array<{ name: string; source: string; input: string; features: number[]; probabilities: number[] }>;
};
const srcPath = (s: string) => path.join(sharedDir, s.replace(/^shared\//, ''));

let pe: PhotoEmbedder;
let tmp: string;
beforeAll(async () => {
  pe = await PhotoEmbedder.load(await ensureModels());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'photo-test-'));
});
afterAll(async () => {
  await pe?.release();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function expectAppError(p: Promise<unknown>, code: string, re: RegExp) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe(code);
  expect((e as AppError).message).toMatch(re);
}

describe('PhotoEmbedder', () => {
  it('preprocessing reproduces the reference input tensors', async () => {
    for (const it of ref.items) {
      const b = fs.readFileSync(path.join(referenceDir, it.input));
      const want = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      const got = await pe.preprocess(srcPath(it.source));
      expect(got.length).toBe(want.length);
      let d = 0;
      for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
      console.log(`${it.name}: preprocessing max abs diff ${d}`);
      expect(d).toBeLessThan(1.01 / 255); // at most one 8-bit step (observed: 0)
    }
  });

  it('embeds files (and buffers) to the reference features/probabilities', async () => {
    const tensors = await Promise.all(ref.items.map((it, i) => (i === 0 ? pe.preprocess(fs.readFileSync(srcPath(it.source))) : pe.preprocess(srcPath(it.source)))));
    const { features, probabilities } = await pe.embedBatch(tensors);
    expect(features.length).toBe(ref.items.length * PHOTO_DIM);
    expect(probabilities.length).toBe(ref.items.length * 5);
    let df = 0;
    ref.items.forEach((it, n) => {
      it.features.forEach((v, i) => (df = Math.max(df, Math.abs(features[n * PHOTO_DIM + i]! - v))));
      it.probabilities.forEach((v, i) => expect(Math.abs(probabilities[n * 5 + i]! - v)).toBeLessThan(1e-4));
    });
    expect(df).toBeLessThan(1e-4);
    // batch of one gives the same as the batch of three
    const single = await pe.embedBatch([tensors[1]!]);
    for (let i = 0; i < PHOTO_DIM; i++) expect(Math.abs(single.features[i]! - features[PHOTO_DIM + i]!)).toBeLessThan(1e-5);
    expect(pe.version).toMatch(/nsfwjs@4\.3\.0.*tfjs2onnx/);
  });

  it('rejects truncated JPEGs, text files and missing files', async () => {
    const jpg = fs.readFileSync(srcPath(ref.items[0]!.source));
    const trunc = path.join(tmp, 'truncated.jpg');
    fs.writeFileSync(trunc, jpg.subarray(0, Math.floor(jpg.length / 2)));
    await expectAppError(pe.preprocess(trunc), 'BAD_IMAGE', /truncated\.jpg: /);
    const txt = path.join(tmp, 'notes.jpg');
    fs.writeFileSync(txt, 'this is not an image\n'.repeat(20));
    await expectAppError(pe.preprocess(txt), 'BAD_IMAGE', /notes\.jpg: .*(unsupported image format|not a readable image)/);
    await expectAppError(pe.preprocess(Buffer.from('nope')), 'BAD_IMAGE', /^<buffer 4 bytes>: /);
    await expectAppError(pe.preprocess(path.join(tmp, 'absent.jpg')), 'BAD_FILE', /absent\.jpg: file not found/);
    await expect(pe.embedBatch([new Float32Array(10)])).rejects.toThrow(/expected 150528 values/);
  });

  it('reports damaged and missing model files clearly', async () => {
    const modelsDir = await ensureModels();
    const dir = fs.mkdtempSync(path.join(tmp, 'models-'));
    const good = fs.readFileSync(path.join(modelsDir, 'photo.onnx'));
    const garbage = Buffer.from(good);
    for (let i = 0; i < 4096; i++) garbage[1000 + i * 7] = (i * 131) & 255;
    garbage.fill(0x5a, 0, 64);
    fs.writeFileSync(path.join(dir, 'photo.onnx'), garbage);
    // without checksums.json: onnxruntime refuses it
    await expectAppError(PhotoEmbedder.load(dir), 'BAD_MODEL', /photo\.onnx: cannot load model .*prepare-models/);
    // with checksums.json: caught by the checksum before loading
    fs.copyFileSync(path.join(modelsDir, 'checksums.json'), path.join(dir, 'checksums.json'));
    await expectAppError(PhotoEmbedder.load(dir), 'BAD_MODEL', /photo\.onnx: model file damaged \(checksum mismatch/);
    fs.rmSync(path.join(dir, 'photo.onnx'));
    await expectAppError(PhotoEmbedder.load(dir), 'MODEL_MISSING', /photo\.onnx: model file missing; restore it with 'npm run cli -- prepare-models'/);
  });
});
