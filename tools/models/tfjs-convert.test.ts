import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertTfjsGraph, decodeWeights, tfPadding, type TfModelJson, type TfNode, type TfWeightSpec } from './tfjs-convert.ts';
import { loadBundledGraphModel } from './tfjs-bundle.ts';
import { extractTgz } from './tar.ts';
import { NSFWJS_SPEC, npmPack, PHOTO_OUTPUTS } from './prepare.ts';
import { ensureModels, referenceDir } from '../../src-main/testing/models.ts';

const sess = (b: Uint8Array) => ort.InferenceSession.create(b, { intraOpNumThreads: 1, interOpNumThreads: 1 });

describe('tfPadding', () => {
  it('matches TF SAME, including asymmetric pads', () => {
    expect(tfPadding('SAME', 224, 224, 3, 3, 2, 2)).toEqual({ pads: [0, 0, 1, 1], outH: 112, outW: 112 });
    expect(tfPadding('SAME', 7, 6, 3, 3, 2, 2)).toEqual({ pads: [1, 0, 1, 1], outH: 4, outW: 3 });
    expect(tfPadding('SAME', 5, 5, 3, 3, 1, 1)).toEqual({ pads: [1, 1, 1, 1], outH: 5, outW: 5 });
    expect(tfPadding('VALID', 7, 7, 7, 7, 1, 1)).toEqual({ pads: [0, 0, 0, 0], outH: 1, outW: 1 });
  });
});

describe('decodeWeights', () => {
  it('dequantizes uint8 (v*scale+min) and float16', () => {
    const manifest = [{ paths: ['x'], weights: [
      { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'b', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'c', shape: [1], dtype: 'float32' },
    ] }];
    const data = new Uint8Array(3 + 4 + 4);
    data.set([0, 2, 255], 0);
    new DataView(data.buffer).setUint16(3, 0x3c00, true); // 1.0
    new DataView(data.buffer).setUint16(5, 0xc100, true); // -2.5
    new DataView(data.buffer).setFloat32(7, 3.25, true);
    const w = decodeWeights(manifest, data);
    expect(Array.from(w.get('a')!.values)).toEqual([-1, 0, 126.5]);
    expect(Array.from(w.get('b')!.values)).toEqual([1, -2.5]);
    expect(Array.from(w.get('c')!.values)).toEqual([3.25]);
    expect(() => decodeWeights(manifest, data.subarray(0, 9))).toThrow(/too short/);
  });
});

/** Naive NHWC reference ops with TF semantics. */
function conv(x: Float32Array, h: number, w: number, c: number, k: Float32Array, kh: number, kw: number, co: number, s: number, depthMult = 0) {
  // TF SAME, written out independently of tfPadding: the extra pixel goes to the bottom/right
  const outH = Math.ceil(h / s), outW = Math.ceil(w / s);
  const pads = [Math.floor(Math.max((outH - 1) * s + kh - h, 0) / 2), Math.floor(Math.max((outW - 1) * s + kw - w, 0) / 2)];
  const oc = depthMult ? c * depthMult : co;
  const out = new Float32Array(outH * outW * oc);
  for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let o = 0; o < oc; o++) {
    let v = 0;
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = oy * s - pads[0] + ky, ix = ox * s - pads[1] + kx;
      if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
      if (depthMult) {
        const ci = Math.floor(o / depthMult), m = o % depthMult;
        v += x[(iy * w + ix) * c + ci]! * k[((ky * kw + kx) * c + ci) * depthMult + m]!;
      } else for (let ci = 0; ci < c; ci++) v += x[(iy * w + ix) * c + ci]! * k[((ky * kw + kx) * c + ci) * co + o]!;
    }
    out[(oy * outW + ox) * oc + o] = v;
  }
  return { out, outH, outW, oc };
}

describe('convertTfjsGraph on a synthetic graph', () => {
  it('matches a naive TF-semantics evaluation (asymmetric SAME pads, depthwise multiplier, fused ops)', async () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const specs: TfWeightSpec[] = [];
    const parts: number[] = [];
    const f32 = (name: string, shape: number[]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = Float32Array.from({ length: n }, rnd);
      specs.push({ name, shape, dtype: 'float32' });
      parts.push(...new Uint8Array(v.buffer));
      return v;
    };
    const u8 = (name: string, shape: number[], scale: number, min: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const q = Uint8Array.from({ length: n }, () => Math.floor((rnd() + 1) * 127.5));
      specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'uint8', scale, min } });
      parts.push(...q);
      return Float32Array.from(q, (v) => v * scale + min);
    };
    const mulY = f32('mul_y', []);
    const k1 = u8('k1', [3, 3, 2, 4], 0.01, -1.2);
    const b1 = f32('b1', [4]);
    const k2 = f32('k2', [3, 3, 4, 2]);
    const b2 = u8('b2', [8], 0.02, -2);
    const wm = f32('wm', [8, 3]);
    const bm = f32('bm', [3]);
    const enc = (s: string) => btoa(s);
    const convAttr = (s: number, fused: string[]) => ({
      strides: { list: { i: ['1', String(s), String(s), '1'] } }, padding: { s: enc('SAME') }, data_format: { s: enc('NHWC') },
      dilations: { list: { i: ['1', '1', '1', '1'] } }, fused_ops: { list: { s: fused.map(enc) } },
    });
    const nodes: TfNode[] = [
      { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '7' }, { size: '6' }, { size: '2' }] } } } },
      ...specs.map((s) => ({ name: s.name, op: 'Const' })),
      { name: 'm', op: 'Mul', input: ['x', 'mul_y'] },
      { name: 'c1', op: '_FusedConv2D', input: ['m', 'k1', 'b1'], attr: convAttr(2, ['BiasAdd', 'Relu6']) },
      { name: 'c2', op: 'FusedDepthwiseConv2dNative', input: ['c1', 'k2', 'b2'], attr: convAttr(2, ['BiasAdd', 'Relu']) },
      { name: 'pool', op: 'AvgPool', input: ['c2'], attr: { ksize: { list: { i: ['1', '2', '2', '1'] } }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: enc('VALID') } } },
      { name: 'sq', op: 'Squeeze', input: ['pool'], attr: { squeeze_dims: { list: { i: ['1', '2'] } } } },
      { name: 'mm', op: '_FusedMatMul', input: ['sq', 'wm', 'bm'], attr: { fused_ops: { list: { s: [enc('BiasAdd')] } } } },
      { name: 'sm', op: 'Softmax', input: ['mm'] },
    ];
    const model: TfModelJson = { modelTopology: { node: nodes }, weightsManifest: [{ paths: ['s'], weights: specs }] };
    const onnx = convertTfjsGraph(model, Uint8Array.from(parts), { outputs: { features: 'sq', probabilities: 'sm' } });
    const s = await sess(onnx);

    const N = 2;
    const x = Float32Array.from({ length: N * 7 * 6 * 2 }, rnd);
    const r = await s.run({ input: new ort.Tensor('float32', x, [N, 7, 6, 2]) });
    const feats = r.features!.data as Float32Array;
    const probs = r.probabilities!.data as Float32Array;
    expect(r.features!.dims).toEqual([N, 8]);
    for (let n = 0; n < N; n++) {
      const xi = x.slice(n * 84, (n + 1) * 84).map((v) => v * mulY[0]!);
      const a = conv(xi, 7, 6, 2, k1, 3, 3, 4, 2);
      expect([a.outH, a.outW]).toEqual([4, 3]);
      const a1 = a.out.map((v, i) => Math.min(6, Math.max(0, v + b1[i % 4]!)));
      const b = conv(a1, 4, 3, 4, k2, 3, 3, 0, 2, 2);
      expect([b.outH, b.outW, b.oc]).toEqual([2, 2, 8]);
      const b1r = b.out.map((v, i) => Math.max(0, v + b2[i % 8]!));
      const feat = new Float32Array(8);
      for (let p = 0; p < 4; p++) for (let c = 0; c < 8; c++) feat[c]! += b1r[p * 8 + c]! / 4;
      const logits = [0, 1, 2].map((j) => bm[j]! + feat.reduce((acc, v, c) => acc + v * wm[c * 3 + j]!, 0));
      const mx = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - mx));
      const sum = e.reduce((p, q) => p + q);
      for (let c = 0; c < 8; c++) expect(Math.abs(feats[n * 8 + c]! - feat[c]!)).toBeLessThan(1e-5);
      for (let j = 0; j < 3; j++) expect(Math.abs(probs[n * 3 + j]! - e[j]! / sum)).toBeLessThan(1e-6);
    }
    await s.release();
  });

  it('fails clearly on unsupported ops', () => {
    const model: TfModelJson = {
      modelTopology: { node: [
        { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '1' }, { size: '2' }, { size: '2' }, { size: '1' }] } } } },
        { name: 'y', op: 'Tanh', input: ['x'] },
      ] },
      weightsManifest: [],
    };
    expect(() => convertTfjsGraph(model, new Uint8Array(0), { outputs: { out: 'y' } })).toThrow(/op Tanh .* unsupported/);
  });
});

describe('nsfwjs mobilenet_v2_mid conversion', () => {
  it('reproduces the TF.js reference features and probabilities within 1e-4', async () => {
    const modelsDir = await ensureModels(); // makes sure the npm tarball is cached
    const tgz = await npmPack(NSFWJS_SPEC, path.join(modelsDir, '.cache'));
    const prefix = 'package/dist/models/mobilenet_v2_mid/';
    const files = extractTgz(fs.readFileSync(tgz), (p) => p.startsWith(prefix));
    const { model, weightData } = loadBundledGraphModel(new Map([...files].map(([k, v]) => [k.slice(prefix.length), v.toString('utf8')])));
    const onnx = convertTfjsGraph(model, weightData, { outputs: PHOTO_OUTPUTS });
    const s = await sess(onnx);
    expect([...s.outputNames].sort()).toEqual(['features', 'probabilities']);
    const ref = JSON.parse(fs.readFileSync(path.join(referenceDir, 'expected.json'), 'utf8'));
    expect(ref.items.length).toBe(3);
    // one batched run: also checks the dynamic batch dimension
    const xs = ref.items.map((it: { input: string }) => {
      const b = fs.readFileSync(path.join(referenceDir, it.input));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    });
    const x = new Float32Array(3 * 224 * 224 * 3);
    xs.forEach((v: Float32Array, i: number) => x.set(v, i * v.length));
    const r = await s.run({ input: new ort.Tensor('float32', x, [3, 224, 224, 3]) });
    const f = r.features!.data as Float32Array;
    const p = r.probabilities!.data as Float32Array;
    let df = 0, dp = 0;
    ref.items.forEach((it: { features: number[]; probabilities: number[] }, n: number) => {
      it.features.forEach((v, i) => (df = Math.max(df, Math.abs(f[n * 1792 + i]! - v))));
      it.probabilities.forEach((v, i) => (dp = Math.max(dp, Math.abs(p[n * 5 + i]! - v))));
    });
    console.log(`converter max abs diff: features ${df.toExponential(2)}, probabilities ${dp.toExponential(2)}`);
    expect(df).toBeLessThan(1e-4);
    expect(dp).toBeLessThan(1e-4);
    await s.release();
  });
});
