/**
 * Seeded pseudo-random numbers. Every algorithm takes an `Rng` instead of calling Math.random, so that the same seed
 * gives the same result on every machine.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal sample. */
  normal(): number;
}

/** xoshiro128** seeded through splitmix32; fast, 32-bit state words, good statistical quality. */
export function createRng(seed = 0): Rng {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  if ((a | b | c | d) === 0) a = 1;
  const nextU32 = (): number => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  let spare: number | null = null;
  const rng: Rng = {
    next: () => nextU32() / 4294967296,
    int: (n: number) => Math.floor((nextU32() / 4294967296) * n),
    normal: () => {
      if (spare !== null) { const v = spare; spare = null; return v; }
      let u = 0, v = 0, r = 0;
      do { u = rng.next() * 2 - 1; v = rng.next() * 2 - 1; r = u * u + v * v; } while (r >= 1 || r === 0);
      const m = Math.sqrt((-2 * Math.log(r)) / r);
      spare = v * m;
      return u * m;
    },
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fisher-Yates shuffle of an index permutation in place. */
export function shuffleInPlace(a: Int32Array | Uint32Array | number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]; a[i] = a[j]; a[j] = t;
  }
}
