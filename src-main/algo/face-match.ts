/**
 * Which faces found again in a changed photo are the faces found before: greedy one-to-one matching by box overlap
 * (IoU), then, for what is left (a resized or cropped photo moves every box), by embedding similarity. Pure: boxes in
 * pixels, vectors L2-normalized.
 */

export interface MatchBox { x: number; y: number; w: number; h: number }

export interface MatchOptions {
  /** boxes overlapping at least this much are the same face (default 0.5) */
  minIoU?: number;
  /** unmatched faces at least this similar (cosine) are the same face (default 0.7) */
  minCos?: number;
  /** overlapping boxes whose faces are less similar than this are different people (default 0.4) */
  sameBoxMinCos?: number;
}

export function boxIoU(a: MatchBox, b: MatchBox): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const u = a.w * a.h + b.w * b.h - inter;
  return u > 0 ? inter / u : 0;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { s += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}

/**
 * For each new face, the index of the old face it is (or -1 for a face that appeared). Old faces no new face took
 * are the ones that disappeared.
 */
export function matchFaces(old: Array<{ box: MatchBox; vec: Float32Array | null }>, found: Array<{ box: MatchBox; vec: Float32Array | null }>,
  opts: MatchOptions = {}): Int32Array {
  const minIoU = opts.minIoU ?? 0.5, minCos = opts.minCos ?? 0.7, sameBoxMinCos = opts.sameBoxMinCos ?? 0.4;
  const out = new Int32Array(found.length).fill(-1);
  const taken = new Uint8Array(old.length);
  const greedy = (score: (o: number, n: number) => number, min: number) => {
    const pairs: Array<[number, number, number]> = [];
    for (let n = 0; n < found.length; n++) {
      if (out[n] >= 0) continue;
      for (let o = 0; o < old.length; o++) {
        if (taken[o]) continue;
        const s = score(o, n);
        if (s >= min) pairs.push([s, o, n]);
      }
    }
    pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
    for (const [, o, n] of pairs) {
      if (taken[o] || out[n] >= 0) continue;
      taken[o] = 1;
      out[n] = o;
    }
  };
  // the same place in the photo and (where both vectors are known) not clearly another person: a photo replaced by
  // another one of the same framing is not the same faces
  greedy((o, n) => (old[o].vec && found[n].vec && cosine(old[o].vec!, found[n].vec!) < sameBoxMinCos ? -1 : boxIoU(old[o].box, found[n].box)), minIoU);
  greedy((o, n) => (old[o].vec && found[n].vec ? cosine(old[o].vec!, found[n].vec!) : -1), minCos);
  return out;
}
