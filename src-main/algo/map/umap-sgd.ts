/**
 * UMAP's SGD epoch (umap-learn `optimize_layout_euclidean`) as a 4-wide SIMD WebAssembly kernel (umap-kernels.wat).
 *
 * Everything an epoch touches lives in one shared WebAssembly.Memory: the x^b table, the edges grouped by head (CSR),
 * the sampling schedule, two embedding buffers (rows padded to a multiple of 4 floats, padding kept at 0) and per-thread
 * scratch rows. The memory is a SharedArrayBuffer, so a runner in core/ can hand row ranges of an epoch to other threads
 * that instantiate the same kernel on the same memory: nothing is copied.
 *
 * Semantics ("snapshot" epochs): row i moves sequentially over its own sampled edges and negative samples, against the
 * positions every other row had at the start of the epoch (buffer `src`), and its new position goes to the other
 * buffer. Only the head moves; the fuzzy graph is symmetric and an edge and its reverse are sampled in the same epochs,
 * so the attraction is applied twice, which is what umap-learn's move_other update gives each end. Each row's
 * negative-sampling stream is a function of (seed, epoch, row). A row depends on nothing written during the epoch but
 * its own values, so any split of the rows over threads gives the same embedding, bit for bit.
 */
import { badArg } from '../../common/errors.ts';
import { UMAP_WASM } from './umap-kernels.wasm.ts';

export const POW_TABLE_SIZE = (0x7f800000 >>> 13) + 1;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const powTables = new Map<number, Float32Array>();

/**
 * Table of x^b indexed by the top 19 bits of x's float32 pattern (sign 0, 8 exponent and 10 mantissa bits, bucket
 * midpoints): relative error below b * 2^-11, where a fractional power would cost ~10x a lookup.
 */
export function powTable(b: number): Float32Array {
  let t = powTables.get(b);
  if (t) return t;
  t = new Float32Array(POW_TABLE_SIZE);
  for (let k = 1; k < POW_TABLE_SIZE - 1; k++) { U32[0] = (k << 13) | 0x1000; t[k] = Math.pow(F32[0], b); }
  t[POW_TABLE_SIZE - 1] = Infinity;
  powTables.set(b, t);
  return t;
}

/** Byte offsets of the arrays in the shared memory. */
export interface SgdLayout {
  pt: number;
  indptr: number;
  tail: number;
  eps: number;
  eons: number;
  epns: number;
  eonns: number;
  y: [number, number];
  scratch: number;
}

export interface SgdState {
  memory: WebAssembly.Memory;
  n: number;
  dim: number;
  /** floats per stored row: dim rounded up to a multiple of 4 */
  stride: number;
  /** edges */
  m: number;
  nEpochs: number;
  a: number;
  b: number;
  gamma: number;
  learningRate: number;
  /** uint32 seed of the per-(epoch, row) negative-sampling streams */
  seed: number;
  /** scratch rows for this many threads */
  slots: number;
  off: SgdLayout;
}

/** Runs one epoch over all rows, reading buffer `src` and writing the other one (by `sgdEpochRows` on a partition). */
export interface SgdRunner {
  epoch(st: SgdState, epoch: number, src: 0 | 1): void;
}

/** Everything in the calling thread. */
export const serialSgdRunner: SgdRunner = {
  epoch(st, epoch, src) { sgdEpochRows(st, epoch, 0, st.n, src, 0); },
};

/** Most threads a state can serve (one scratch slot each). */
export const MAX_SGD_SLOTS = 64;

const align = (x: number): number => Math.ceil(x / 64) * 64;
/** a thread's two scratch rows, padded to whole cache-line pairs so that threads never write the same line */
const slotBytes = (stride: number): number => Math.ceil((2 * stride * 4) / 128) * 128;

/** Allocates the shared memory for n rows of dim coordinates and m edges, and writes the x^b table. */
export function allocSgd(p: Omit<SgdState, 'memory' | 'stride' | 'slots' | 'off'>): SgdState {
  const { n, dim, m } = p;
  if (!(n >= 1 && dim >= 1 && m >= 0)) throw new RangeError(`bad SGD sizes n=${n} dim=${dim} m=${m}`);
  const stride = Math.ceil(dim / 4) * 4;
  const slots = MAX_SGD_SLOTS;
  let at = 0;
  const take = (bytes: number): number => { const o = at; at = align(at + bytes); return o; };
  const off: SgdLayout = {
    pt: take(POW_TABLE_SIZE * 4),
    indptr: take((n + 1) * 4),
    tail: take(m * 4),
    eps: take(m * 8), eons: take(m * 8), epns: take(m * 8), eonns: take(m * 8),
    y: [take(n * stride * 4), take(n * stride * 4)],
    scratch: take(slots * slotBytes(stride)),
  };
  const memory = kernelMemory(at);
  new Float32Array(memory.buffer, off.pt, POW_TABLE_SIZE).set(powTable(p.b));
  return { ...p, memory, stride, slots, off };
}

/** Typed-array views of a state's arrays (valid for the memory's lifetime: it never grows). */
export function sgdViews(st: SgdState) {
  const b = st.memory.buffer, o = st.off, m = st.m;
  return {
    indptr: new Int32Array(b, o.indptr, st.n + 1),
    tail: new Int32Array(b, o.tail, m),
    epochsPerSample: new Float64Array(b, o.eps, m),
    epochOfNextSample: new Float64Array(b, o.eons, m),
    epochsPerNegSample: new Float64Array(b, o.epns, m),
    epochOfNextNegSample: new Float64Array(b, o.eonns, m),
    y: [new Float32Array(b, o.y[0], st.n * st.stride), new Float32Array(b, o.y[1], st.n * st.stride)] as const,
  };
}

/** Rows of buffer k packed to n x dim (a copy). */
export function readEmbedding(st: SgdState, k: 0 | 1): Float32Array {
  const Y = new Float32Array(st.memory.buffer, st.off.y[k], st.n * st.stride);
  if (st.stride === st.dim) return Y.slice();
  const out = new Float32Array(st.n * st.dim);
  for (let i = 0; i < st.n; i++) out.set(Y.subarray(i * st.stride, i * st.stride + st.dim), i * st.dim);
  return out;
}

/** Writes an n x dim embedding into buffer k (padding 0). */
export function writeEmbedding(st: SgdState, k: 0 | 1, E: ArrayLike<number>): void {
  const Y = new Float32Array(st.memory.buffer, st.off.y[k], st.n * st.stride);
  Y.fill(0);
  for (let i = 0; i < st.n; i++) for (let q = 0; q < st.dim; q++) Y[i * st.stride + q] = E[i * st.dim + q];
}

type EpochFn = (lo: number, hi: number, ep: number, alpha: number, n: number, stride: number, dim: number,
  a: number, twoAB: number, twoGB: number, seed: number, pt: number, indptr: number, tail: number,
  eps: number, eons: number, epns: number, eonns: number, src: number, dst: number, h: number, dv: number) => void;

type SpmmFn = (lo: number, hi: number, rowBytes: number, self: number, indptr: number, cols: number, vals: number, src: number, dst: number) => void;

let compiled: WebAssembly.Module | null = null;
const instances = new WeakMap<WebAssembly.Memory, { epoch: EpochFn; spmm: SpmmFn }>();

/** The kernels instantiated on a memory (once per memory and thread). */
export function umapKernels(memory: WebAssembly.Memory): { epoch: EpochFn; spmm: SpmmFn } {
  let f = instances.get(memory);
  if (!f) {
    if (!compiled) {
      const bin = atob(UMAP_WASM);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      compiled = new WebAssembly.Module(bytes);
    }
    const ex = new WebAssembly.Instance(compiled, { env: { mem: memory } }).exports;
    f = { epoch: ex.epoch as EpochFn, spmm: ex.spmm as SpmmFn };
    instances.set(memory, f);
  }
  return f;
}

/** A shared memory of at least `bytes` (it never grows, so views on it stay valid). */
export function kernelMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil(bytes / 65536) + 1;
  if (pages > 65536) throw badArg('embeddings', `too many for UMAP: it needs ${Math.round(bytes / 2 ** 20)} MB of working memory, above the 4 GB a WebAssembly memory can hold`);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** One epoch for rows lo..hi, reading buffer `src` and writing the other; `slot` picks the thread's scratch rows. */
export function sgdEpochRows(st: SgdState, epoch: number, lo: number, hi: number, src: 0 | 1, slot: number): void {
  if (!(slot >= 0 && slot < st.slots)) throw new RangeError(`scratch slot ${slot} out of range`);
  const o = st.off;
  const alpha = st.learningRate * (1 - epoch / st.nEpochs);
  const rowBytes = st.stride * 4;
  const h = o.scratch + slot * slotBytes(st.stride);
  umapKernels(st.memory).epoch(lo, hi, epoch, alpha, st.n, st.stride, st.dim, st.a, 2 * st.a * st.b, 2 * st.gamma * st.b, st.seed | 0,
    o.pt, o.indptr, o.tail, o.eps, o.eons, o.epns, o.eonns, o.y[src], o.y[1 - src], h, h + rowBytes);
}
