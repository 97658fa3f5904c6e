/**
 * TF.js graph model (model.json + weight shards) → ONNX (opset 13), in TypeScript.
 *
 * Supported ops: Placeholder, Const, Identity, Mul, Sub, AddV2/Add, _FusedConv2D,
 * FusedDepthwiseConv2dNative / DepthwiseConv2dNative / Conv2D, AvgPool, MaxPool,
 * Squeeze, _FusedMatMul / MatMul, Softmax, Relu, Relu6.
 * Activations are kept NCHW inside the ONNX graph: the NHWC input is transposed once.
 * TF 'SAME' padding becomes explicit (possibly asymmetric) ONNX pads.
 */
import { CONVERTER_VERSION } from '../../src-main/core/models/files.ts';
import { encodeModel, type NodeInit, type TensorInit } from '../../src-main/core/models/onnx-proto.ts';

/** Bump when the emitted graph changes (part of the photo model version; declared with the model files' provenance). */
export { CONVERTER_VERSION };

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, any>;
}

export interface TfWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min?: number; scale?: number; dtype: string };
}

export interface TfModelJson {
  modelTopology: { node: TfNode[] };
  weightsManifest: Array<{ paths: string[]; weights: TfWeightSpec[] }>;
}

export interface ConvertOptions {
  /** ONNX output name → TF node name. */
  outputs: Record<string, string>;
  /** ONNX input name (default 'input'). */
  inputName?: string;
  /** Fixed spatial size [h, w] of the NHWC input when the placeholder leaves it open. */
  inputHW?: [number, number];
  metadata?: Record<string, string>;
}

function fail(msg: string): never {
  throw new Error(`tfjs→onnx: ${msg}`);
}

function halfToFloat(h: number): number {
  const s = (h & 0x8000) >> 15;
  const e = (h & 0x7c00) >> 10;
  const f = h & 0x03ff;
  if (e === 0) return (s ? -1 : 1) * 2 ** -14 * (f / 1024);
  if (e === 0x1f) return f ? NaN : (s ? -1 : 1) * Infinity;
  return (s ? -1 : 1) * 2 ** (e - 15) * (1 + f / 1024);
}

/** Decode the concatenated weight buffer per the manifest (dequantizing like tfjs-core). */
export function decodeWeights(manifest: TfModelJson['weightsManifest'], data: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  for (const group of manifest) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      const q = w.quantization;
      if (q) {
        if (q.dtype === 'uint8' || q.dtype === 'uint16') {
          const bytes = q.dtype === 'uint8' ? 1 : 2;
          if (off + n * bytes > data.length) fail(`weight data too short for ${w.name}`);
          const scale = q.scale ?? fail(`${w.name}: quantization.scale missing`);
          const min = q.min ?? fail(`${w.name}: quantization.min missing`);
          for (let i = 0; i < n; i++) {
            const v = bytes === 1 ? data[off + i]! : dv.getUint16(off + 2 * i, true);
            values[i] = v * scale + min;
          }
          off += n * bytes;
        } else if (q.dtype === 'float16') {
          if (off + n * 2 > data.length) fail(`weight data too short for ${w.name}`);
          for (let i = 0; i < n; i++) values[i] = halfToFloat(dv.getUint16(off + 2 * i, true));
          off += n * 2;
        } else fail(`${w.name}: unsupported quantization dtype ${q.dtype}`);
      } else if (w.dtype === 'float32') {
        if (off + n * 4 > data.length) fail(`weight data too short for ${w.name}`);
        for (let i = 0; i < n; i++) values[i] = dv.getFloat32(off + 4 * i, true);
        off += n * 4;
      } else if (w.dtype === 'int32') {
        for (let i = 0; i < n; i++) values[i] = dv.getInt32(off + 4 * i, true);
        off += n * 4;
      } else fail(`${w.name}: unsupported dtype ${w.dtype}`);
      out.set(w.name, { shape: w.shape, values });
    }
  }
  if (off !== data.length) fail(`weight data has ${data.length} bytes, manifest describes ${off}`);
  return out;
}

const b64 = (s: string): string => {
  // attr strings are base64 in TF.js JSON
  const bin = atob(s);
  return bin;
};

function attrInts(n: TfNode, key: string): number[] | undefined {
  const v = n.attr?.[key]?.list?.i;
  return v ? (v as Array<string | number>).map(Number) : undefined;
}
function attrStr(n: TfNode, key: string): string | undefined {
  const v = n.attr?.[key]?.s;
  return typeof v === 'string' ? b64(v) : undefined;
}
function attrStrList(n: TfNode, key: string): string[] {
  const v = n.attr?.[key]?.list?.s;
  return v ? (v as string[]).map(b64) : [];
}
function attrBool(n: TfNode, key: string): boolean {
  return n.attr?.[key]?.b === true;
}

interface Shape {
  /** 'nchw': activations [N,C,H,W]; 'flat': [N,C]; 'scalar' */
  kind: 'nchw' | 'flat' | 'scalar' | 'const';
  c?: number;
  h?: number;
  w?: number;
}

/** TF padding → ONNX pads [top, left, bottom, right] and output size. */
export function tfPadding(
  padding: string,
  inH: number,
  inW: number,
  kH: number,
  kW: number,
  sH: number,
  sW: number,
  dH = 1,
  dW = 1,
  explicit?: number[],
): { pads: [number, number, number, number]; outH: number; outW: number } {
  const ekH = (kH - 1) * dH + 1;
  const ekW = (kW - 1) * dW + 1;
  if (padding === 'SAME') {
    const outH = Math.ceil(inH / sH);
    const outW = Math.ceil(inW / sW);
    const padH = Math.max((outH - 1) * sH + ekH - inH, 0);
    const padW = Math.max((outW - 1) * sW + ekW - inW, 0);
    const top = Math.floor(padH / 2);
    const left = Math.floor(padW / 2);
    return { pads: [top, left, padH - top, padW - left], outH, outW };
  }
  if (padding === 'VALID') {
    return { pads: [0, 0, 0, 0], outH: Math.floor((inH - ekH) / sH) + 1, outW: Math.floor((inW - ekW) / sW) + 1 };
  }
  if (padding === 'EXPLICIT' && explicit && explicit.length === 8) {
    // NHWC pairs: [n0,n1,h0,h1,w0,w1,c0,c1]
    const [t, b, l, r] = [explicit[2]!, explicit[3]!, explicit[4]!, explicit[5]!];
    return {
      pads: [t, l, b, r],
      outH: Math.floor((inH + t + b - ekH) / sH) + 1,
      outW: Math.floor((inW + l + r - ekW) / sW) + 1,
    };
  }
  fail(`unsupported padding ${padding}`);
}

/** Convert a TF.js graph model. Returns ONNX bytes. */
export function convertTfjsGraph(model: TfModelJson, weightData: Uint8Array, opts: ConvertOptions): Uint8Array {
  const weights = decodeWeights(model.weightsManifest, weightData);
  const byName = new Map<string, TfNode>();
  for (const n of model.modelTopology.node) byName.set(n.name, n);

  const nodes: NodeInit[] = [];
  const inits: TensorInit[] = [];
  const initNames = new Set<string>();
  const shapes = new Map<string, Shape>();
  const done = new Set<string>();
  const renamed = new Map<string, string>();
  const inputName = opts.inputName ?? 'input';
  let inputHW: [number, number] | undefined;
  let uid = 0;
  const fresh = (base: string) => `${base}__${uid++}`;

  const addInit = (t: TensorInit) => {
    if (!initNames.has(t.name)) {
      initNames.add(t.name);
      inits.push(t);
    }
    return t.name;
  };
  const weight = (name: string) => weights.get(name) ?? fail(`no weight data for Const ${name}`);
  const int64 = (name: string, vals: number[]) => addInit({ name, dims: [vals.length], dataType: 'int64', data: vals });
  const scalar = (name: string, v: number) => addInit({ name, dims: [], dataType: 'float', data: Float32Array.of(v) });

  const srcName = (ref: string) => {
    // "name:0" → "name"; control deps "^x" are ignored by callers
    const s = ref.startsWith('^') ? ref.slice(1) : ref;
    const m = /^(.*):(\d+)$/.exec(s);
    if (m && m[2] !== '0') fail(`multi-output reference ${ref} unsupported`);
    return m ? m[1]! : s;
  };

  const activation = (out: string, x: string, fused: string[], node: TfNode) => {
    const act = fused.filter((f) => f !== 'BiasAdd');
    if (act.length === 0) return x;
    if (act.length > 1) fail(`${node.name}: fused ops ${fused.join(',')} unsupported`);
    if (act[0] === 'Relu') {
      nodes.push({ op: 'Relu', inputs: [x], outputs: [out] });
    } else if (act[0] === 'Relu6') {
      nodes.push({ op: 'Clip', inputs: [x, scalar('const_zero', 0), scalar('const_six', 6)], outputs: [out] });
    } else fail(`${node.name}: fused activation ${act[0]} unsupported`);
    return out;
  };

  const visit = (name: string): string => {
    if (done.has(name)) return name;
    const n = byName.get(name) ?? fail(`graph references unknown node ${name}`);
    const tfIns = (n.input ?? []).filter((i) => !i.startsWith('^')).map(srcName);
    for (const i of tfIns) {
      const src = byName.get(i);
      if (src && src.op !== 'Const') visit(i);
    }
    const ins = tfIns.map((i) => renamed.get(i) ?? i);
    const constVal = (i: number) => {
      const src = byName.get(ins[i]!);
      if (!src || src.op !== 'Const') fail(`${n.name}: input ${i} must be a Const`);
      return weight(src.name);
    };
    const shapeOf = (i: string): Shape => {
      const src = byName.get(i);
      if (src?.op === 'Const') return { kind: 'const' };
      return shapes.get(i) ?? fail(`${n.name}: no shape for ${i}`);
    };
    /** elementwise operand: activations by name, consts as initializers reshaped for NCHW. */
    const operand = (i: number, other: Shape): string => {
      const ref = ins[i]!;
      const src = byName.get(ref);
      if (src?.op !== 'Const') return ref;
      const w = weight(ref);
      if (w.shape.length === 0 || w.values.length === 1) return addInit({ name: ref, dims: [], dataType: 'float', data: w.values.slice(0, 1) });
      if (w.shape.length === 1 && other.kind === 'nchw') return addInit({ name: ref, dims: [w.shape[0]!, 1, 1], dataType: 'float', data: w.values });
      if (w.shape.length === 1 && other.kind === 'flat') return addInit({ name: ref, dims: [w.shape[0]!], dataType: 'float', data: w.values });
      fail(`${n.name}: const operand shape ${JSON.stringify(w.shape)} unsupported`);
    };

    switch (n.op) {
      case 'Placeholder': {
        const dims = (n.attr?.shape?.shape?.dim ?? []).map((d: { size: string }) => Number(d.size));
        if (dims.length !== 4) fail(`placeholder ${name} must be rank 4 NHWC`);
        const h = dims[1] > 0 ? dims[1] : opts.inputHW?.[0] ?? fail('input height unknown; pass inputHW');
        const w = dims[2] > 0 ? dims[2] : opts.inputHW?.[1] ?? fail('input width unknown; pass inputHW');
        inputHW = [h, w];
        const nchw = `${name}:nchw`;
        renamed.set(name, nchw);
        nodes.push({ op: 'Transpose', inputs: [inputName], outputs: [nchw], attrs: { perm: { ints: [0, 3, 1, 2] } } });
        shapes.set(nchw, { kind: 'nchw', c: dims[3], h, w });
        break;
      }
      case 'Identity': {
        nodes.push({ op: 'Identity', inputs: [ins[0]!], outputs: [name] });
        shapes.set(name, shapeOf(ins[0]!));
        break;
      }
      case 'Mul':
      case 'Sub':
      case 'AddV2':
      case 'Add': {
        const s0 = shapeOf(ins[0]!);
        const s1 = shapeOf(ins[1]!);
        const act = s0.kind === 'const' ? s1 : s0;
        if (act.kind === 'const') fail(`${name}: both operands const`);
        const a = operand(0, act);
        const b = operand(1, act);
        const op = n.op === 'Mul' ? 'Mul' : n.op === 'Sub' ? 'Sub' : 'Add';
        nodes.push({ op, inputs: [a, b], outputs: [name] });
        shapes.set(name, act);
        break;
      }
      case 'Relu':
      case 'Relu6': {
        activation(name, ins[0]!, [n.op], n);
        shapes.set(name, shapeOf(ins[0]!));
        break;
      }
      case '_FusedConv2D':
      case 'Conv2D':
      case 'FusedDepthwiseConv2dNative':
      case 'DepthwiseConv2dNative': {
        const depthwise = n.op.includes('Depthwise');
        const fmt = attrStr(n, 'data_format') ?? 'NHWC';
        if (fmt !== 'NHWC') fail(`${name}: data_format ${fmt} unsupported`);
        const x = shapeOf(ins[0]!);
        if (x.kind !== 'nchw') fail(`${name}: conv input is not an image tensor`);
        const w = constVal(1);
        const [kH, kW, cin, cout] = w.shape as [number, number, number, number];
        const strides = attrInts(n, 'strides') ?? [1, 1, 1, 1];
        const dil = attrInts(n, 'dilations') ?? [1, 1, 1, 1];
        const pad = tfPadding(attrStr(n, 'padding') ?? 'VALID', x.h!, x.w!, kH, kW, strides[1]!, strides[2]!, dil[1]!, dil[2]!, attrInts(n, 'explicit_paddings'));
        let onnxW: Float32Array;
        let dims: number[];
        let group = 1;
        let outC: number;
        if (depthwise) {
          // [kh,kw,C,M] → [C*M,1,kh,kw], group=C
          const C = cin;
          const M = cout;
          outC = C * M;
          group = C;
          onnxW = new Float32Array(outC * kH * kW);
          for (let y = 0; y < kH; y++)
            for (let xx = 0; xx < kW; xx++)
              for (let c = 0; c < C; c++)
                for (let m = 0; m < M; m++) onnxW[((c * M + m) * kH + y) * kW + xx] = w.values[((y * kW + xx) * C + c) * M + m]!;
          dims = [outC, 1, kH, kW];
        } else {
          // HWIO → OIHW
          if (cin !== x.c) fail(`${name}: weights expect ${cin} input channels, input has ${x.c}`);
          outC = cout;
          onnxW = new Float32Array(cout * cin * kH * kW);
          for (let y = 0; y < kH; y++)
            for (let xx = 0; xx < kW; xx++)
              for (let i = 0; i < cin; i++)
                for (let o = 0; o < cout; o++) onnxW[((o * cin + i) * kH + y) * kW + xx] = w.values[((y * kW + xx) * cin + i) * cout + o]!;
          dims = [cout, cin, kH, kW];
        }
        const wName = addInit({ name: ins[1]!, dims, dataType: 'float', data: onnxW });
        const fused = n.op.startsWith('_Fused') || n.op.startsWith('Fused') ? attrStrList(n, 'fused_ops') : [];
        const convIns = [ins[0]!, wName];
        if (fused.includes('BiasAdd')) {
          const b = constVal(2);
          if (b.values.length !== outC) fail(`${name}: bias has ${b.values.length} values, expected ${outC}`);
          convIns.push(addInit({ name: ins[2]!, dims: [outC], dataType: 'float', data: b.values }));
        } else if (fused.length > 0) fail(`${name}: fused ops ${fused.join(',')} without BiasAdd unsupported`);
        const hasAct = fused.some((f) => f !== 'BiasAdd');
        const convOut = hasAct ? fresh(name + '/conv') : name;
        nodes.push({
          op: 'Conv',
          inputs: convIns,
          outputs: [convOut],
          name: name + '/Conv',
          attrs: {
            kernel_shape: { ints: [kH, kW] },
            strides: { ints: [strides[1]!, strides[2]!] },
            dilations: { ints: [dil[1]!, dil[2]!] },
            pads: { ints: pad.pads },
            group: { i: group },
          },
        });
        if (hasAct) activation(name, convOut, fused, n);
        shapes.set(name, { kind: 'nchw', c: outC, h: pad.outH, w: pad.outW });
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        const x = shapeOf(ins[0]!);
        if (x.kind !== 'nchw') fail(`${name}: pool input is not an image tensor`);
        const k = attrInts(n, 'ksize') ?? fail(`${name}: ksize missing`);
        const s = attrInts(n, 'strides') ?? [1, 1, 1, 1];
        const pad = tfPadding(attrStr(n, 'padding') ?? 'VALID', x.h!, x.w!, k[1]!, k[2]!, s[1]!, s[2]!);
        nodes.push({
          op: n.op === 'AvgPool' ? 'AveragePool' : 'MaxPool',
          inputs: [ins[0]!],
          outputs: [name],
          attrs: { kernel_shape: { ints: [k[1]!, k[2]!] }, strides: { ints: [s[1]!, s[2]!] }, pads: { ints: pad.pads } },
        });
        shapes.set(name, { kind: 'nchw', c: x.c, h: pad.outH, w: pad.outW });
        break;
      }
      case 'Squeeze': {
        const x = shapeOf(ins[0]!);
        const dims = attrInts(n, 'squeeze_dims') ?? attrInts(n, 'axis') ?? [];
        if (x.kind !== 'nchw' || dims.slice().sort().join(',') !== '1,2' || x.h !== 1 || x.w !== 1) {
          fail(`${name}: only spatial squeeze of [N,1,1,C] supported`);
        }
        nodes.push({ op: 'Squeeze', inputs: [ins[0]!, int64('squeeze_hw', [2, 3])], outputs: [name] });
        shapes.set(name, { kind: 'flat', c: x.c });
        break;
      }
      case '_FusedMatMul':
      case 'MatMul': {
        const x = shapeOf(ins[0]!);
        if (x.kind !== 'flat') fail(`${name}: MatMul input must be 2-D`);
        if (attrBool(n, 'transpose_a')) fail(`${name}: transpose_a unsupported`);
        const w = constVal(1);
        const transB = attrBool(n, 'transpose_b');
        const outC = transB ? w.shape[0]! : w.shape[1]!;
        const gemmIns = [ins[0]!, addInit({ name: ins[1]!, dims: w.shape, dataType: 'float', data: w.values })];
        const fused = n.op === '_FusedMatMul' ? attrStrList(n, 'fused_ops') : [];
        if (fused.includes('BiasAdd')) gemmIns.push(addInit({ name: ins[2]!, dims: [outC], dataType: 'float', data: constVal(2).values }));
        const hasAct = fused.some((f) => f !== 'BiasAdd');
        const gOut = hasAct ? fresh(name + '/gemm') : name;
        nodes.push({ op: 'Gemm', inputs: gemmIns, outputs: [gOut], attrs: { transB: { i: transB ? 1 : 0 } } });
        if (hasAct) activation(name, gOut, fused, n);
        shapes.set(name, { kind: 'flat', c: outC });
        break;
      }
      case 'Softmax': {
        nodes.push({ op: 'Softmax', inputs: [ins[0]!], outputs: [name], attrs: { axis: { i: -1 } } });
        shapes.set(name, shapeOf(ins[0]!));
        break;
      }
      default:
        fail(`op ${n.op} (${name}) unsupported`);
    }
    done.add(name);
    return name;
  };

  const outputs = [];
  for (const [outName, tfName] of Object.entries(opts.outputs)) {
    const src = renamed.get(visit(tfName)) ?? tfName;
    const s = shapes.get(src)!;
    nodes.push({ op: 'Identity', inputs: [src], outputs: [outName], name: `output_${outName}` });
    if (s.kind === 'flat') outputs.push({ name: outName, shape: ['N', s.c!] as Array<number | string> });
    else if (s.kind === 'nchw') outputs.push({ name: outName, shape: ['N', s.c!, s.h!, s.w!] as Array<number | string> });
    else fail(`output ${outName} has unsupported kind ${s.kind}`);
  }
  const inputNode = model.modelTopology.node.find((n) => n.op === 'Placeholder') ?? fail('no Placeholder');
  const c = shapes.get(renamed.get(inputNode.name) ?? '')?.c ?? fail('input not used by outputs');
  const [h, w] = inputHW!;
  return encodeModel({
    opset: 13,
    irVersion: 7,
    producerName: 'constellate-tfjs2onnx',
    producerVersion: CONVERTER_VERSION,
    metadata: opts.metadata,
    graph: {
      name: 'converted',
      nodes,
      initializers: inits,
      inputs: [{ name: inputName, shape: ['N', h, w, c] }],
      outputs,
    },
  });
}
