/**
 * The trained encoder of a clustering run (PCA / autoencoder layers, algo/nn) as an ONNX model: one Gemm per layer
 * (weights [in x out], transB = 0) followed by Relu / Sigmoid, input "x" [N, d], output "code" [N, codeDim]. Written
 * with the project's ONNX protobuf writer; onnxruntime runs it to encode new items the same way. Also the compact form
 * kept in the run record (base64 of that ONNX).
 */
import { basename } from 'node:path';
import { writeFileSafeSync } from '../safe-write.ts';
import * as ort from 'onnxruntime-node';
import type { DenseNet } from '../../algo/nn/dense.ts';
import { AppError } from '../../common/errors.ts';
import { encodeModel, type NodeInit, type TensorInit } from './onnx-proto.ts';
import { budgetedSession } from './session.ts';

export function encoderOnnx(net: DenseNet, meta: Record<string, string> = {}): Uint8Array {
  const nodes: NodeInit[] = [];
  const inits: TensorInit[] = [];
  let cur = 'x';
  net.layers.forEach((l, i) => {
    inits.push({ name: `W${i}`, dims: [l.in, l.out], dataType: 'float', data: net.W[i] });
    inits.push({ name: `b${i}`, dims: [l.out], dataType: 'float', data: net.b[i] });
    const last = i === net.layers.length - 1;
    const z = last && l.act === 'linear' ? 'code' : `z${i}`;
    nodes.push({ op: 'Gemm', inputs: [cur, `W${i}`, `b${i}`], outputs: [z], name: `dense${i}`, attrs: { alpha: { f: 1 }, beta: { f: 1 }, transA: { i: 0 }, transB: { i: 0 } } });
    cur = z;
    if (l.act !== 'linear') {
      const a = last ? 'code' : `a${i}`;
      nodes.push({ op: l.act === 'relu' ? 'Relu' : 'Sigmoid', inputs: [z], outputs: [a], name: `${l.act}${i}` });
      cur = a;
    }
  });
  const dIn = net.layers[0].in, dOut = net.layers[net.layers.length - 1].out;
  return encodeModel({
    graph: { name: 'constellate-encoder', nodes, initializers: inits, inputs: [{ name: 'x', shape: ['N', dIn] }], outputs: [{ name: 'code', shape: ['N', dOut] }] },
    opset: 13, docString: 'Constellate run encoder: ' + net.layers.map((l) => `${l.in}->${l.out} ${l.act}`).join(', '),
    metadata: { layers: JSON.stringify(net.layers), ...meta },
  });
}

/** Writes the ONNX model through the one writer (checked atomic write; never over a library, under /proc, ...). */
export function writeEncoderOnnx(path: string, net: DenseNet): void {
  writeFileSafeSync(path, encoderOnnx(net), { what: 'save-encoder' });
}

export interface EncoderRecord { format: 'onnx'; layers: DenseNet['layers']; inputDim: number; codeDim: number; bytes: number; base64: string }

/** The encoder as stored in a run's record. */
export function encoderRecord(net: DenseNet): EncoderRecord {
  const bytes = encoderOnnx(net);
  return {
    format: 'onnx', layers: net.layers, inputDim: net.layers[0].in, codeDim: net.layers[net.layers.length - 1].out,
    bytes: bytes.length, base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

/** The ONNX bytes of a run's stored encoder, or a NOT_FOUND error naming the run. */
export function encoderBytesOf(record: Record<string, unknown>, runId: number): Uint8Array {
  const e = record.encoder as EncoderRecord | undefined;
  if (!e || e.format !== 'onnx' || typeof e.base64 !== 'string') throw new AppError('NOT_FOUND', `run ${runId} has no trained encoder (it was not clustered with --reduce ae:/pca: or --algo dec)`);
  return new Uint8Array(Buffer.from(e.base64, 'base64'));
}

/** Encode rows with an encoder's ONNX bytes through onnxruntime (the same codes as the run's own encoder). */
export async function encodeOnnx(bytes: Uint8Array, X: Float32Array, n: number, d: number, threads = 1): Promise<Float32Array> {
  await using session = await budgetedSession(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] });
  const out = await session.run({ x: new ort.Tensor('float32', X.subarray(0, n * d), [n, d]) });
  return out.code.data as Float32Array;
}
