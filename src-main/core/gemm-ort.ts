/**
 * A `Gemm` backed by onnxruntime's MatMul (MLAS kernels, vectorized). The hot distance blocks of kNN, k-means and
 * silhouette go through it; algo/ sees only the `Gemm` function type.
 */
import * as ort from 'onnxruntime-node';
import type { Gemm } from '../algo/linalg.ts';
import { budgetedSession } from './models/session.ts';

// --- a minimal protobuf writer, enough for a one-node ONNX graph ---
function varint(v: number): number[] {
  const out: number[] = [];
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const fInt = (field: number, v: number) => [...key(field, 0), ...varint(v)];
const fBytes = (field: number, b: number[]) => [...key(field, 2), ...varint(b.length), ...b];
const fStr = (field: number, s: string) => fBytes(field, [...Buffer.from(s, 'utf8')]);

function tensorValueInfo(name: string, dims: Array<number | string>): number[] {
  const dimMsgs = dims.flatMap((dm) => fBytes(1, typeof dm === 'number' ? fInt(1, dm) : fStr(2, dm)));
  const tensorType = [...fInt(1, 1 /* FLOAT */), ...fBytes(2, dimMsgs)];
  return [...fStr(1, name), ...fBytes(2, fBytes(1, tensorType))];
}

/** ONNX bytes of C = MatMul(A[M,K], B[K,N]) with symbolic M, K, N. */
export function matMulModelBytes(): Uint8Array {
  const node = [...fStr(1, 'A'), ...fStr(1, 'B'), ...fStr(2, 'C'), ...fStr(3, 'mm'), ...fStr(4, 'MatMul')];
  const graph = [
    ...fBytes(1, node),
    ...fStr(2, 'gemm'),
    ...fBytes(11, tensorValueInfo('A', ['M', 'K'])),
    ...fBytes(11, tensorValueInfo('B', ['K', 'N'])),
    ...fBytes(12, tensorValueInfo('C', ['M', 'N'])),
  ];
  const model = [...fInt(1, 8), ...fStr(2, 'constellate'), ...fBytes(7, graph), ...fBytes(8, [...fStr(1, ''), ...fInt(2, 13)])];
  return new Uint8Array(model);
}

/**
 * A Gemm that owns its session: disposing it (`await using`, or `[Symbol.asyncDispose]()`) releases the session and
 * gives its threads back to the budget. `release()` is the same (kept for the tests and benches that call it).
 */
export type OrtGemm = Gemm & AsyncDisposable & { release(): Promise<void>; forget(): void };

/** Create a Gemm on an ORT session with the given intra-op threads (1 per worker by default; as many as the thread budget gives). */
export async function createOrtGemm(threads = 1, opts: { spin?: boolean } = {}): Promise<OrtGemm> {
  const session = await budgetedSession(matMulModelBytes(), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // spin: false = the intra-op threads sleep between products instead of spinning, so JavaScript loops between many
    // small products (the kNN graph's cells) keep their core
    ...(opts.spin === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  });
  let cachedBt: Float32Array | null = null;
  let cachedTensor: ort.Tensor | null = null;
  const gemm = (async (A: Float32Array, m: number, Bt: Float32Array, n: number, d: number) => {
    if (cachedBt !== Bt || !cachedTensor || cachedTensor.dims[1] !== n) {
      cachedBt = Bt;
      cachedTensor = new ort.Tensor('float32', Bt.subarray(0, d * n), [d, n]);
    }
    const a = new ort.Tensor('float32', A.subarray(0, m * d), [m, d]);
    const out = await session.run({ A: a, B: cachedTensor });
    return out.C.data as Float32Array;
  }) as OrtGemm;
  gemm.release = () => session.release();
  gemm[Symbol.asyncDispose] = gemm.release;
  // drop the cached right-hand side (a kept session must not hold on to a finished task's matrix)
  gemm.forget = () => { cachedBt = null; cachedTensor = null; };
  return gemm;
}
