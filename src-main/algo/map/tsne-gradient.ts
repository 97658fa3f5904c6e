/**
 * The t-SNE gradient as chunks of independent work over shared memory, so that a runner in core/workers can spread an
 * iteration over several threads with the same result for any thread count.
 *
 * Every array an iteration touches lives in SharedArrayBuffers (`TsneState`). An iteration is a fixed sequence of
 * phases; each phase is split into `chunksOf(phase)` chunks whose boundaries depend only on the sizes, never on the
 * thread count, and each chunk writes only its own rows (and its own slot of the partial sums). Reductions (the
 * normalization Z = sum q_ij) add the per-chunk partial sums in chunk order on the calling thread. So one thread or
 * sixteen, the embedding is the same bit for bit.
 *
 * Repulsion, three ways:
 * - exact: all pairs (O(n^2), small inputs and tests);
 * - bh: Barnes-Hut over a quadtree built on the calling thread (van der Maaten 2014; theta 0.5);
 * - fft: FIt-SNE (Linderman et al. 2019, as openTSNE's default above 10,000 points): the charges (1, y_x, y_y, |y|^2)
 *   are spread onto a regular grid by Lagrange interpolation on 3 nodes per box, convolved with the squared Cauchy
 *   kernel 1/(1+d^2)^2 by 2-D FFTs (fft.ts, grids of 5-smooth sizes), and interpolated back; the repulsion and Z follow
 *   from the four potentials. Boxes: at least 50 per side, about one per unit of the embedding's extent.
 */
import type { TSNE_METHODS } from '../../common/schema-kit.ts';
import { fft, fftPlan, smoothSize } from './fft.ts';

/** The repulsion methods of one gradient (the contract's t-SNE methods but auto, which picks among them). */
export type TsneGradientMethod = Exclude<(typeof TSNE_METHODS)[number], 'auto'>;

/** Phases of an iteration, in order: repulsion (one of three paths), then the attractive forces and the update. */
export const PHASE = { EXACT: 0, BH: 1, FFT_ROWS: 2, FFT_KCOLS: 3, FFT_COLS: 4, FFT_IROWS: 5, FFT_INTERP: 6, UPDATE: 7 } as const;
const FFT_PHASES = [PHASE.FFT_ROWS, PHASE.FFT_KCOLS, PHASE.FFT_COLS, PHASE.FFT_IROWS, PHASE.FFT_INTERP];

/** Scalar slots in TsneState.sc. */
const SC = { EXAG: 0, MOMENTUM: 1, LR: 2, INVQ: 3, LO: 4, BOXW: 5, NBOX: 6, M: 7, THETA2: 8, TREE_SIZE: 9 } as const;

export interface TsneState {
  n: number;
  method: TsneGradientMethod;
  /** point chunks per phase */
  pointChunks: number;
  Y: Float32Array;
  Pptr: Int32Array;
  Pidx: Int32Array;
  Pval: Float32Array;
  /** unnormalized repulsion sum_j q_ij^2 (y_i - y_j), 2 per point */
  rep: Float64Array;
  upd: Float32Array;
  gains: Float32Array;
  /** this iteration's step, 2 per point (added to Y on the calling thread) */
  delta: Float64Array;
  /** per-chunk partial sums of q */
  part: Float64Array;
  sc: Float64Array;
  // Barnes-Hut tree (copied in by the calling thread after each build)
  tPacked: Float64Array;
  tChild: Int32Array;
  tPoint: Int32Array;
  tInner: Uint8Array;
  tOrder: Int32Array;
  // FFT grids, M x M each (capacity gridCap >= M*M): the kernel's transform (real), (1 + i y_x), (y_y + i |y|^2)
  gridCap: number;
  kre: Float64Array;
  are: Float64Array; aim: Float64Array;
  bre: Float64Array; bim: Float64Array;
  /** per point: grid cell of its box (x, y) and 3 + 3 Lagrange weights */
  pBox: Int32Array;
  pW: Float64Array;
}

/** Runs the chunks of one phase, chunk c of `count` by tsneChunk(st, phase, c, count), on one or more threads. */
export interface TsneRunner {
  run(st: TsneState, phase: number, count: number): void;
}

export const serialTsneRunner: TsneRunner = {
  run(st, phase, count) { for (let c = 0; c < count; c++) tsneChunk(st, phase, c, count); },
};

const shared = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(8, bytes));
const f64 = (len: number) => new Float64Array(shared(len * 8));
const f32 = (len: number) => new Float32Array(shared(len * 4));
const i32 = (len: number) => new Int32Array(shared(len * 4));

/** Copies into shared memory. */
function toSharedArr<T extends Float32Array | Int32Array>(a: T): T {
  const b = (a instanceof Float32Array ? f32(a.length) : i32(a.length)) as T;
  b.set(a as never);
  return b;
}

/** `anyMethod`: room for every method (an auto schedule switches between them: give the state `{ ...st, method }`). */
export function allocTsneState(n: number, method: TsneGradientMethod, P: { indptr: Int32Array; indices: Int32Array; values: Float32Array }, Y0: Float32Array, anyMethod = false): TsneState {
  const fftRoom = method === 'fft' || anyMethod;
  const pointChunks = Math.max(1, Math.min(64, Math.ceil(n / 256)));
  const Y = f32(2 * n); Y.set(Y0);
  const gains = f32(2 * n); gains.fill(1);
  return {
    n, method, pointChunks, Y,
    Pptr: toSharedArr(P.indptr), Pidx: toSharedArr(P.indices), Pval: toSharedArr(P.values),
    rep: f64(2 * n), upd: f32(2 * n), gains, delta: f64(2 * n), part: f64(64), sc: f64(16),
    tPacked: f64(0), tChild: i32(0), tPoint: i32(0), tInner: new Uint8Array(shared(0)), tOrder: i32(n),
    gridCap: 0, kre: f64(0), are: f64(0), aim: f64(0), bre: f64(0), bim: f64(0),
    pBox: i32(fftRoom ? 2 * n : 0), pW: f64(fftRoom ? 6 * n : 0),
  };
}

const range = (total: number, c: number, count: number): [number, number] => [Math.floor((total * c) / count), Math.floor((total * (c + 1)) / count)];

/** How many chunks a phase of this state is split into (a function of the sizes only). */
export function chunksOf(st: TsneState, phase: number): number {
  const M = st.sc[SC.M], half = M / 2 + 1;
  switch (phase) {
    case PHASE.FFT_KCOLS: return Math.max(1, Math.min(64, Math.ceil(half / 2 / 4)));
    case PHASE.FFT_ROWS: return Math.max(1, Math.min(64, Math.ceil((Math.ceil(half / 2) + M) / 8)));
    case PHASE.FFT_IROWS: case PHASE.FFT_COLS: return Math.max(1, Math.min(64, Math.ceil(M / 8)));
    default: return st.pointChunks;
  }
}

// per-thread scratch (module state of each thread; never shared)
let stack = new Int32Array(256);
let tmpLen = 0;
let t1r = new Float64Array(0), t1i = new Float64Array(0), t2r = new Float64Array(0), t2i = new Float64Array(0), t3r = new Float64Array(0), t3i = new Float64Array(0);
function scratch(M: number): void {
  if (tmpLen === M) return;
  tmpLen = M;
  t1r = new Float64Array(M); t1i = new Float64Array(M); t2r = new Float64Array(M); t2i = new Float64Array(M); t3r = new Float64Array(M); t3i = new Float64Array(M);
}

/** One chunk of one phase. Pure function of the state; writes only the chunk's own rows and partial sum. */
export function tsneChunk(st: TsneState, phase: number, c: number, count: number): void {
  const n = st.n, Y = st.Y, sc = st.sc;
  switch (phase) {
    case PHASE.EXACT: {
      const [lo, hi] = range(n, c, count);
      let sumQ = 0;
      for (let i = lo; i < hi; i++) {
        const xi = Y[2 * i], yi = Y[2 * i + 1];
        let fx = 0, fy = 0;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const dx = xi - Y[2 * j], dy = yi - Y[2 * j + 1];
          const q = 1 / (1 + dx * dx + dy * dy);
          sumQ += q;
          fx += q * q * dx; fy += q * q * dy;
        }
        st.rep[2 * i] = fx; st.rep[2 * i + 1] = fy;
      }
      st.part[c] = sumQ;
      return;
    }
    case PHASE.BH: {
      const [lo, hi] = range(n, c, count);
      const ND = st.tPacked, child = st.tChild, point = st.tPoint, inner = st.tInner, order = st.tOrder, rep = st.rep;
      const theta2 = sc[SC.THETA2];
      let sumQ = 0;
      for (let oi = lo; oi < hi; oi++) {
        const i = order[oi];
        const xi = Y[2 * i], yi = Y[2 * i + 1];
        let fx = 0, fy = 0;
        let sp = 0;
        stack[sp++] = 0;
        while (sp > 0) {
          const node = stack[--sp];
          const nb = node * 4;
          const cnt = ND[nb + 3];
          if (cnt === 0) continue;
          const dx = xi - ND[nb], dy = yi - ND[nb + 1];
          const d2 = dx * dx + dy * dy;
          if (inner[node] === 0) {
            if (point[node] === i) continue;
            const q = 1 / (1 + d2);
            const size = point[node] === -2 && d2 === 0 ? cnt - 1 : cnt; // a multi-point leaf may hold i itself
            sumQ += size * q;
            const mlt = size * q * q;
            fx += mlt * dx; fy += mlt * dy;
          } else if (ND[nb + 2] < theta2 * d2) {
            const q = 1 / (1 + d2);
            sumQ += cnt * q;
            const mlt = cnt * q * q;
            fx += mlt * dx; fy += mlt * dy;
          } else {
            if (sp + 4 > stack.length) { const s2 = new Int32Array(stack.length * 2); s2.set(stack); stack = s2; }
            const ch0 = child[nb], ch1 = child[nb + 1], ch2 = child[nb + 2], ch3 = child[nb + 3];
            if (ch0 >= 0) stack[sp++] = ch0;
            if (ch1 >= 0) stack[sp++] = ch1;
            if (ch2 >= 0) stack[sp++] = ch2;
            if (ch3 >= 0) stack[sp++] = ch3;
          }
        }
        rep[2 * i] = fx; rep[2 * i + 1] = fy;
      }
      st.part[c] = sumQ;
      return;
    }
    case PHASE.FFT_ROWS: case PHASE.FFT_KCOLS: {
      // the kernel is real and even in both axes: rows (then columns) 0..M/2 only, two per complex FFT, and the
      // transform of a real even sequence is real, so the pair needs no unpacking. FFT_ROWS also transforms the rows
      // of the two charge grids (items after the kernel's row pairs).
      const M = sc[SC.M], half = M / 2, h2 = (sc[SC.BOXW] / 3) ** 2, kre = st.kre;
      const plan = fftPlan(M);
      scratch(M);
      const pairs = Math.ceil((half + 1) / 2);
      const [lo, hi] = range(phase === PHASE.FFT_ROWS ? pairs + M : pairs, c, count);
      for (let pr = lo; pr < hi; pr++) {
        if (pr >= pairs) {
          const it = pr - pairs, nGrid = M / 2;
          const re = it < nGrid ? st.are : st.bre, im = it < nGrid ? st.aim : st.bim;
          const o = (it % nGrid) * M;
          fft(plan, re.subarray(o, o + M), im.subarray(o, o + M));
          continue;
        }
        const a = 2 * pr, b = Math.min(a + 1, half);
        if (phase === PHASE.FFT_ROWS) {
          for (let col = 0; col < M; col++) {
            const dc = Math.min(col, M - col), dc2 = dc * dc;
            const ka = 1 / (1 + (a * a + dc2) * h2), kb = 1 / (1 + (b * b + dc2) * h2);
            t1r[col] = ka * ka; t1i[col] = kb * kb;
          }
          fft(plan, t1r, t1i);
          kre.set(t1r, a * M);
          if (b !== a) kre.set(t1i, b * M);
        } else {
          for (let row = 0; row < M; row++) { const o = Math.min(row, M - row) * M; t1r[row] = kre[o + a]; t1i[row] = kre[o + b]; }
          fft(plan, t1r, t1i);
          // column a's transform goes to the rows half+1..M-1 of column a (not read by anyone else) and rows 0..half
          for (let row = 0; row < M; row++) { kre[row * M + a] = t1r[row]; if (b !== a) kre[row * M + b] = t1i[row]; }
        }
      }
      return;
    }
    case PHASE.FFT_IROWS: {
      const M = sc[SC.M], nGrid = M / 2;
      const plan = fftPlan(M);
      const [lo, hi] = range(2 * nGrid, c, count);
      for (let it = lo; it < hi; it++) {
        const re = it < nGrid ? st.are : st.bre, im = it < nGrid ? st.aim : st.bim;
        const o = (it % nGrid) * M;
        fft(plan, im.subarray(o, o + M), re.subarray(o, o + M));
      }
      return;
    }
    case PHASE.FFT_COLS: {
      const M = sc[SC.M], kre = st.kre, are = st.are, aim = st.aim, bre = st.bre, bim = st.bim;
      const plan = fftPlan(M);
      scratch(M);
      const [lo, hi] = range(M, c, count);
      for (let col = lo; col < hi; col++) {
        const kc = Math.min(col, M - col);
        for (let row = 0, o = col; row < M; row++, o += M) { t1r[row] = are[o]; t1i[row] = aim[o]; t2r[row] = bre[o]; t2i[row] = bim[o]; t3r[row] = kre[row * M + kc]; }
        fft(plan, t1r, t1i);
        fft(plan, t2r, t2i);
        for (let row = 0; row < M; row++) { const k = t3r[row]; t1r[row] *= k; t1i[row] *= k; t2r[row] *= k; t2i[row] *= k; }
        fft(plan, t1i, t1r);
        fft(plan, t2i, t2r);
        for (let row = 0, o = col; row < M; row++, o += M) { are[o] = t1r[row]; aim[o] = t1i[row]; bre[o] = t2r[row]; bim[o] = t2i[row]; }
      }
      return;
    }
    case PHASE.FFT_INTERP: {
      const M = sc[SC.M], inv = 1 / (M * M);
      const [lo, hi] = range(n, c, count);
      const pBox = st.pBox, pW = st.pW, are = st.are, aim = st.aim, bre = st.bre, bim = st.bim, rep = st.rep;
      let sumQ = 0;
      for (let i = lo; i < hi; i++) {
        const gx = pBox[2 * i], gy = pBox[2 * i + 1], w = 6 * i;
        let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        for (let l = 0; l < 3; l++) {
          const wy = pW[w + 3 + l], o = (gy + l) * M + gx;
          for (let k = 0; k < 3; k++) {
            const ww = wy * pW[w + k];
            p0 += ww * are[o + k]; p1 += ww * aim[o + k]; p2 += ww * bre[o + k]; p3 += ww * bim[o + k];
          }
        }
        p0 *= inv; p1 *= inv; p2 *= inv; p3 *= inv;
        const x = Y[2 * i], y = Y[2 * i + 1];
        rep[2 * i] = x * p0 - p1; rep[2 * i + 1] = y * p0 - p2;
        sumQ += (1 + x * x + y * y) * p0 - 2 * (x * p1 + y * p2) + p3 - 1;
      }
      st.part[c] = sumQ;
      return;
    }
    case PHASE.UPDATE: {
      const [lo, hi] = range(n, c, count);
      const Pptr = st.Pptr, Pidx = st.Pidx, Pval = st.Pval, rep = st.rep, upd = st.upd, gains = st.gains, delta = st.delta;
      const exag = sc[SC.EXAG], momentum = sc[SC.MOMENTUM], lr = sc[SC.LR], invQ = sc[SC.INVQ];
      for (let i = lo; i < hi; i++) {
        const xi = Y[2 * i], yi = Y[2 * i + 1];
        let ax = 0, ay = 0;
        for (let p = Pptr[i], e = Pptr[i + 1]; p < e; p++) {
          const j = Pidx[p];
          const dx = xi - Y[2 * j], dy = yi - Y[2 * j + 1];
          const f = Pval[p] / (1 + dx * dx + dy * dy);
          ax += f * dx; ay += f * dy;
        }
        for (let d = 0; d < 2; d++) {
          const t = 2 * i + d;
          const g = 4 * (exag * (d === 0 ? ax : ay) - rep[t] * invQ);
          const u = upd[t];
          let gn = gains[t];
          gn = u * g < 0 ? gn + 0.2 : gn * 0.8;
          if (gn < 0.01) gn = 0.01;
          gains[t] = gn;
          const nu = momentum * u - lr * (g * gn);
          upd[t] = nu;
          delta[t] = nu;
        }
      }
      return;
    }
    default: throw new RangeError(`unknown t-SNE phase ${phase}`);
  }
}

/** Grids of at least M x M (a new state object when they grow: a runner then restarts its helpers on it). */
function withGrids(st: TsneState, M: number): TsneState {
  if (st.gridCap >= M * M) return st;
  const cap = Math.ceil(M * M * 1.3);
  return { ...st, gridCap: cap, kre: f64(cap), are: f64(cap), aim: f64(cap), bre: f64(cap), bim: f64(cap) };
}

/** Spreads the charges onto the grid (calling thread); returns the state (a new one when the grids grew). */
function prepareFft(st0: TsneState): TsneState {
  const n = st0.n, Y = st0.Y;
  let lo = Infinity, hi = -Infinity;
  for (let t = 0; t < 2 * n; t++) { const v = Y[t]; if (v < lo) lo = v; if (v > hi) hi = v; }
  const span = Math.max(hi - lo, 1e-6);
  const nBox = smoothSize(Math.max(50, Math.ceil(span)));
  const M = 6 * nBox;
  const st = withGrids(st0, M);
  const boxW = (span / nBox) * (1 + 1e-9);
  const sc = st.sc;
  sc[SC.LO] = lo; sc[SC.BOXW] = boxW; sc[SC.NBOX] = nBox; sc[SC.M] = M;
  const are = st.are, aim = st.aim, bre = st.bre, bim = st.bim, pBox = st.pBox, pW = st.pW;
  are.fill(0, 0, M * M); aim.fill(0, 0, M * M); bre.fill(0, 0, M * M); bim.fill(0, 0, M * M);
  for (let i = 0; i < n; i++) {
    const x = Y[2 * i], y = Y[2 * i + 1];
    for (let d = 0; d < 2; d++) {
      const u = ((d === 0 ? x : y) - lo) / boxW;
      const b = Math.min(nBox - 1, Math.max(0, Math.floor(u)));
      const t = u - b;
      pBox[2 * i + d] = 3 * b;
      const w = 6 * i + 3 * d;
      pW[w] = 4.5 * (t - 0.5) * (t - 5 / 6);
      pW[w + 1] = -9 * (t - 1 / 6) * (t - 5 / 6);
      pW[w + 2] = 4.5 * (t - 1 / 6) * (t - 0.5);
    }
    const gx = pBox[2 * i], gy = pBox[2 * i + 1], w = 6 * i, r2 = x * x + y * y;
    for (let l = 0; l < 3; l++) {
      const wy = pW[w + 3 + l];
      const o = (gy + l) * M + gx;
      for (let k = 0; k < 3; k++) {
        const ww = wy * pW[w + k];
        are[o + k] += ww; aim[o + k] += ww * x; bre[o + k] += ww * y; bim[o + k] += ww * r2;
      }
    }
  }
  return st;
}

/** Copies a built quadtree into the state (a new state object when its arrays grow). */
function withTree(st0: TsneState, tree: QuadTree): TsneState {
  const size = tree.size;
  let st = st0;
  if (st.tPoint.length < size) {
    const cap = Math.ceil(size * 1.5);
    st = { ...st, tPacked: f64(4 * cap), tChild: i32(4 * cap), tPoint: i32(cap), tInner: new Uint8Array(shared(cap)) };
  }
  st.tPacked.set(tree.packed.subarray(0, 4 * size));
  st.tChild.set(tree.child.subarray(0, 4 * size));
  st.tPoint.set(tree.point.subarray(0, size));
  st.tInner.set(tree.inner.subarray(0, size));
  st.tOrder.set(tree.order.subarray(0, st.n));
  st.sc[SC.TREE_SIZE] = size;
  return st;
}

export interface IterationParams { exaggeration: number; momentum: number; learningRate: number; theta: number }

/**
 * One gradient-descent iteration (delta-bar-delta gains, momentum) on `runner`. Returns the state to use from now on
 * (the same object unless a grid or the tree outgrew its arrays).
 */
export function tsneIteration(st0: TsneState, runner: TsneRunner, tree: QuadTree | null, p: IterationParams): TsneState {
  let st = st0;
  const sc = st.sc;
  sc[SC.EXAG] = p.exaggeration; sc[SC.MOMENTUM] = p.momentum; sc[SC.LR] = p.learningRate; sc[SC.THETA2] = p.theta * p.theta;
  if (st.method === 'exact') runner.run(st, PHASE.EXACT, chunksOf(st, PHASE.EXACT));
  else if (st.method === 'bh') {
    tree!.build(st.Y, st.n);
    st = withTree(st, tree!);
    runner.run(st, PHASE.BH, chunksOf(st, PHASE.BH));
  } else {
    st = prepareFft(st);
    for (const ph of FFT_PHASES) runner.run(st, ph, chunksOf(st, ph));
  }
  let sumQ = 0;
  for (let c = 0; c < st.pointChunks; c++) sumQ += st.part[c];
  st.sc[SC.INVQ] = sumQ > 0 ? 1 / sumQ : 0;
  runner.run(st, PHASE.UPDATE, chunksOf(st, PHASE.UPDATE));
  const Y = st.Y, delta = st.delta;
  for (let t = 0; t < 2 * st.n; t++) Y[t] += delta[t];
  return st;
}

/** The unnormalized repulsion and Z of the current Y by the state's method (tests: FFT vs BH vs exact). */
export function tsneRepulsion(st0: TsneState, theta = 0.5): { rep: Float64Array; sumQ: number } {
  let st = st0;
  st.sc[SC.THETA2] = theta * theta;
  if (st.method === 'exact') serialTsneRunner.run(st, PHASE.EXACT, chunksOf(st, PHASE.EXACT));
  else if (st.method === 'bh') {
    const tree = new QuadTree(st.n);
    tree.build(st.Y, st.n);
    st = withTree(st, tree);
    serialTsneRunner.run(st, PHASE.BH, chunksOf(st, PHASE.BH));
  } else {
    st = prepareFft(st);
    for (const ph of FFT_PHASES) serialTsneRunner.run(st, ph, chunksOf(st, ph));
  }
  let sumQ = 0;
  for (let c = 0; c < st.pointChunks; c++) sumQ += st.part[c];
  return { rep: st.rep.slice(), sumQ };
}

/** Quadtree over 2-D points in flat typed arrays, rebuilt in place every iteration. */
export class QuadTree {
  cx: Float64Array; cy: Float64Array; hw: Float64Array;
  mx: Float64Array; my: Float64Array; cnt: Int32Array;
  child: Int32Array; point: Int32Array; inner: Uint8Array;
  /** per node after build(): [mean x, mean y, squared cell width, count], stride 4 */
  packed: Float64Array = new Float64Array(0);
  /** points in depth-first (spatially coherent) order after build() */
  order: Int32Array = new Int32Array(0);
  private leafOf: Int32Array = new Int32Array(0);
  size = 0;
  private cap: number;
  constructor(n: number) {
    this.cap = Math.max(16, 4 * n);
    this.cx = new Float64Array(this.cap); this.cy = new Float64Array(this.cap); this.hw = new Float64Array(this.cap);
    this.mx = new Float64Array(this.cap); this.my = new Float64Array(this.cap); this.cnt = new Int32Array(this.cap);
    this.child = new Int32Array(4 * this.cap); this.point = new Int32Array(this.cap); this.inner = new Uint8Array(this.cap);
  }
  private grow(): void {
    const cap = this.cap * 2;
    const g64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    const g32 = (a: Int32Array, len: number) => { const b = new Int32Array(len); b.set(a); return b; };
    this.cx = g64(this.cx); this.cy = g64(this.cy); this.hw = g64(this.hw);
    this.mx = g64(this.mx); this.my = g64(this.my); this.cnt = g32(this.cnt, cap);
    this.child = g32(this.child, 4 * cap); this.point = g32(this.point, cap);
    const inner = new Uint8Array(cap); inner.set(this.inner); this.inner = inner;
    this.cap = cap;
  }
  private newNode(cx: number, cy: number, hw: number): number {
    if (this.size >= this.cap) this.grow();
    const id = this.size++;
    this.cx[id] = cx; this.cy[id] = cy; this.hw[id] = hw;
    this.mx[id] = 0; this.my[id] = 0; this.cnt[id] = 0; this.point[id] = -1; this.inner[id] = 0;
    const c = id * 4;
    this.child[c] = -1; this.child[c + 1] = -1; this.child[c + 2] = -1; this.child[c + 3] = -1;
    return id;
  }
  private childFor(node: number, x: number, y: number): number {
    const q = (x > this.cx[node] ? 1 : 0) + (y > this.cy[node] ? 2 : 0);
    let c = this.child[node * 4 + q];
    if (c < 0) {
      const h = this.hw[node] / 2;
      c = this.newNode(this.cx[node] + (q & 1 ? h : -h), this.cy[node] + (q & 2 ? h : -h), h);
      this.child[node * 4 + q] = c;
      this.inner[node] = 1;
    }
    return c;
  }
  build(Y: Float32Array, n: number): void {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i], y = Y[2 * i + 1];
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    this.size = 0;
    if (this.leafOf.length < n) { this.leafOf = new Int32Array(n); this.order = new Int32Array(n); }
    const leafOf = this.leafOf;
    const hw = Math.max(x1 - x0, y1 - y0, 1e-12) * 0.5 * (1 + 1e-6);
    this.newNode((x0 + x1) / 2, (y0 + y1) / 2, hw);
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i], y = Y[2 * i + 1];
      let node = 0;
      for (let depth = 0; ; depth++) {
        const had = this.cnt[node];
        this.mx[node] += x; this.my[node] += y; this.cnt[node] = had + 1;
        if (this.inner[node] === 0) {
          if (had === 0) { this.point[node] = i; leafOf[i] = node; break; }
          if (depth >= 40 || this.point[node] < 0) { this.point[node] = -2; leafOf[i] = node; break; } // multi-point leaf
          // split: push the resident point one level down, then continue with i
          const r = this.point[node];
          this.point[node] = -1;
          const rx = Y[2 * r], ry = Y[2 * r + 1];
          const rc = this.childFor(node, rx, ry);
          this.mx[rc] += rx; this.my[rc] += ry; this.cnt[rc] = 1; this.point[rc] = r; leafOf[r] = rc;
        }
        node = this.childFor(node, x, y);
      }
    }
    if (this.packed.length < 4 * this.size) this.packed = new Float64Array(4 * this.cap);
    const P = this.packed;
    for (let t = 0; t < this.size; t++) {
      const c = this.cnt[t];
      if (c > 0) { this.mx[t] /= c; this.my[t] /= c; }
      P[4 * t] = this.mx[t]; P[4 * t + 1] = this.my[t]; P[4 * t + 2] = 4 * this.hw[t] * this.hw[t]; P[4 * t + 3] = c;
    }
    // depth-first numbering of the nodes, then the points sorted by the number of their leaf (counting sort)
    const dfs = new Int32Array(this.size);
    const st = new Int32Array(this.size + 4);
    let sp = 0, num = 0;
    st[sp++] = 0;
    while (sp > 0) {
      const v = st[--sp];
      dfs[v] = num++;
      for (let q = 3; q >= 0; q--) { const ch = this.child[v * 4 + q]; if (ch >= 0) st[sp++] = ch; }
    }
    const start = new Int32Array(this.size + 1);
    for (let i = 0; i < n; i++) start[dfs[leafOf[i]] + 1]++;
    for (let t = 0; t < this.size; t++) start[t + 1] += start[t];
    for (let i = 0; i < n; i++) this.order[start[dfs[leafOf[i]]]++] = i;
  }
}

