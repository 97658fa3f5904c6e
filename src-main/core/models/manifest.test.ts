import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { MODEL_CATALOG } from './catalog.ts';
import { loadManifestModel, validateManifest, type ModelManifest } from './manifest.ts';
import { encodeModel } from './onnx-proto.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const H = 8, W = 6, D = 16;
const Wt = Float32Array.from({ length: 3 * H * W * D }, (_, i) => Math.sin(i * 0.37));

/** tiny embedding model: pixels [N,3,H,W] → Flatten → MatMul → emb [N,D] */
function tinyModel(): Uint8Array {
  return encodeModel({
    graph: {
      name: 'tiny-embed',
      nodes: [
        { op: 'Flatten', inputs: ['pixels'], outputs: ['flat'], attrs: { axis: { i: 1 } } },
        { op: 'MatMul', inputs: ['flat', 'W'], outputs: ['emb'] },
      ],
      initializers: [{ name: 'W', dims: [3 * H * W, D], dataType: 'float', data: Wt }],
      inputs: [{ name: 'pixels', shape: ['N', 3, H, W] }],
      outputs: [{ name: 'emb', shape: ['N', D] }],
    },
  });
}

const good: ModelManifest = {
  name: 'tiny', file: 'tiny.onnx', inputName: 'pixels', size: [H, W], layout: 'NCHW', channelOrder: 'BGR',
  mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3], scale: 1 / 255, outputName: 'emb', dim: D, normalize: true,
};
fs.writeFileSync(path.join(tmp, 'tiny.onnx'), tinyModel());
const write = (name: string, m: unknown) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, JSON.stringify(m));
  return p;
};
const failWith = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
};

describe('validateManifest', () => {
  it('names the bad field in a one-line error', () => {
    const cases: Array<[Partial<Record<keyof ModelManifest, unknown>>, RegExp]> = [
      [{ name: '' }, /field 'name' must be a non-empty string/],
      [{ size: [224] }, /field 'size' must be \[height, width\]/],
      [{ layout: 'CHW' }, /field 'layout' must be 'NCHW' or 'NHWC'/],
      [{ channelOrder: 'rgb' }, /field 'channelOrder'/],
      [{ mean: [0.5, 0.5] }, /field 'mean' must be 3 numbers/],
      [{ std: [1, 0, 1] }, /field 'std' must be 3 positive numbers/],
      [{ scale: 0 }, /field 'scale'/],
      [{ dim: 1.5 }, /field 'dim' must be a positive integer/],
      [{ normalize: 'yes' }, /field 'normalize' must be true or false/],
    ];
    for (const [patch, re] of cases) {
      const e = (() => {
        try {
          validateManifest({ ...good, ...patch }, 'm.json');
        } catch (x) {
          return x as AppError;
        }
      })();
      expect(e?.code).toBe('BAD_MODEL');
      expect(e?.message).toMatch(/^m\.json: /);
      expect(e?.message).toMatch(re);
      expect(e?.message).not.toContain('\n');
    }
    expect(validateManifest(good, 'm.json').resize).toBe('fill');
  });

  it('catalog manifests are valid and every entry says what is unverified', () => {
    for (const e of MODEL_CATALOG) {
      expect(e.url).toMatch(/^https:\/\//);
      if (e.manifest) expect(() => validateManifest(e.manifest, e.id)).not.toThrow();
      if (e.sha256 === null) expect(e.unverified).toContain('sha256');
      if (e.sha256 !== null) expect(e.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('loadManifestModel', () => {
  it('loads, preprocesses (BGR, mean/std, NCHW) and embeds like a direct computation', async () => {
    const m = await loadManifestModel(write('good.json', good));
    expect(m.batchable).toBe(true);
    const png = await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 200, g: 100, b: 50 } } }).png().toBuffer();
    const x = await m.preprocess(png);
    // channel 0 is B (BGR): (50/255 - 0.5)/0.2
    expect(x[0]).toBeCloseTo((50 / 255 - 0.5) / 0.2, 5);
    expect(x[H * W]).toBeCloseTo((100 / 255 - 0.4) / 0.25, 5);
    expect(x[2 * H * W]).toBeCloseTo((200 / 255 - 0.3) / 0.3, 5);
    const y = await m.embedBatch([x, x.map((v) => -v)]);
    expect(y.length).toBe(2 * D);
    const ref = new Float64Array(D);
    for (let j = 0; j < D; j++) for (let k = 0; k < x.length; k++) ref[j]! += x[k]! * Wt[k * D + j]!;
    const n = Math.hypot(...ref);
    for (let j = 0; j < D; j++) {
      expect(y[j]).toBeCloseTo(ref[j]! / n, 4);
      expect(y[D + j]).toBeCloseTo(-ref[j]! / n, 4);
    }
    await expect(m.preprocess(Buffer.from('not an image'))).rejects.toMatchObject({ code: 'BAD_IMAGE' });
    await m.release();
  });

  it('fails clearly on wrong names, shapes and dims', async () => {
    let e = await failWith(loadManifestModel(write('o.json', { ...good, outputName: 'logits' })));
    expect(e.message).toMatch(/o\.json: field 'outputName' is 'logits' but tiny\.onnx has outputs \["emb"\]/);
    e = await failWith(loadManifestModel(write('i.json', { ...good, inputName: 'image' })));
    expect(e.message).toMatch(/field 'inputName'/);
    e = await failWith(loadManifestModel(write('l.json', { ...good, layout: 'NHWC' })));
    expect(e.message).toMatch(/field 'size\/layout' describe input \[N,8,6,3\] but .* shape \["N",3,8,6\]/);
    e = await failWith(loadManifestModel(write('s.json', { ...good, size: [8, 8] })));
    expect(e.message).toMatch(/field 'size\/layout'/);
    e = await failWith(loadManifestModel(write('d.json', { ...good, dim: 32 })));
    expect(e.message).toMatch(/field 'dim' is 32 but output 'emb' has shape \["N",16\]/);
    e = await failWith(loadManifestModel(write('f.json', { ...good, file: 'nope.onnx' })));
    expect(e.code).toBe('MODEL_MISSING');
    fs.writeFileSync(path.join(tmp, 'junk.onnx'), 'garbage bytes, not a model');
    e = await failWith(loadManifestModel(write('j.json', { ...good, file: 'junk.onnx' })));
    expect([e.code, e.message]).toEqual(['BAD_MODEL', expect.stringMatching(/junk\.onnx: cannot load model/)]);
    fs.writeFileSync(path.join(tmp, 'broken.json'), '{"name": ');
    e = await failWith(loadManifestModel(path.join(tmp, 'broken.json')));
    expect(e.message).toMatch(/broken\.json: not valid JSON/);
  });
});
