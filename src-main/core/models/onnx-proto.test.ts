import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { encodeModel, PbWriter } from './onnx-proto.ts';

describe('PbWriter', () => {
  it('encodes varints, negative int64 and nested messages', () => {
    const w = new PbWriter();
    w.int(1, 300);
    w.int(2, -1);
    const inner = new PbWriter();
    inner.string(1, 'ab');
    w.message(3, inner);
    const b = Array.from(w.finish());
    expect(b.slice(0, 3)).toEqual([0x08, 0xac, 0x02]);
    expect(b.slice(3, 14)).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(b.slice(14)).toEqual([0x1a, 4, 0x0a, 2, 0x61, 0x62]);
  });
});

describe('encodeModel', () => {
  it('builds a model onnxruntime runs: MatMul + Add + Softmax(axis=-1) with a dynamic batch', async () => {
    const W = Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 7);
    const B = Float32Array.of(0.5, -0.25, 1);
    const bytes = encodeModel({
      graph: {
        name: 'tiny',
        nodes: [
          { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
          { op: 'Add', inputs: ['xw', 'B'], outputs: ['logits'] },
          { op: 'Softmax', inputs: ['logits'], outputs: ['p'], attrs: { axis: { i: -1 } } },
        ],
        initializers: [
          { name: 'W', dims: [4, 3], dataType: 'float', data: W },
          { name: 'B', dims: [3], dataType: 'float', data: B },
        ],
        inputs: [{ name: 'x', shape: ['N', 4] }],
        outputs: [{ name: 'logits', shape: ['N', 3] }, { name: 'p', shape: ['N', 3] }],
      },
    });
    const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    expect(s.inputNames).toEqual(['x']);
    const x = Float32Array.of(1, 2, 3, 4, -1, 0, 0.5, 2);
    const r = await s.run({ x: new ort.Tensor('float32', x, [2, 4]) });
    const logits = r.logits!.data as Float32Array;
    for (let n = 0; n < 2; n++) for (let j = 0; j < 3; j++) {
      let v = B[j]!;
      for (let k = 0; k < 4; k++) v += x[n * 4 + k]! * W[k * 3 + j]!;
      expect(logits[n * 3 + j]).toBeCloseTo(v, 5);
    }
    const p = r.p!.data as Float32Array;
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
    await s.release();
  });

  it('rejects a tensor whose data does not match its dims', () => {
    expect(() =>
      encodeModel({ graph: { name: 'g', nodes: [], initializers: [{ name: 'W', dims: [2, 2], dataType: 'float', data: new Float32Array(3) }], inputs: [], outputs: [] } }),
    ).toThrow(/need 4 values/);
  });
});
