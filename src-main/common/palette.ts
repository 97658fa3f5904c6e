/**
 * Colours for a map coloured by a field. A palette of perceptually spaced colours (OKLab: hues evenly spread at two
 * lightness levels, all with clear chroma), and an assignment that keeps neighbouring groups apart: groups are
 * coloured in order of size, each taking the palette colour farthest (in OKLab distance) from the colours already given
 * to its nearest groups on the map (by centroid), so two adjacent clusters never share a colour while the palette
 * lasts, and far-apart clusters reuse colours. Noise and "no value" are a neutral grey (chroma 0), which no palette
 * colour comes near. Pure: no DOM, no Node.
 */

export type Rgb = [number, number, number];

/** OKLab (Ottosson 2020) to sRGB in 0..255, clipped. */
export function oklabToRgb(L: number, a: number, b: number): Rgb {
  const l_ = L + 0.3963377774 * a + 0.2158037573 * b;
  const m_ = L - 0.1055613458 * a - 0.0638541728 * b;
  const s_ = L - 0.0894841775 * a - 1.291485548 * b;
  const l = l_ ** 3, m = m_ ** 3, s = s_ ** 3;
  const lin = [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
  return lin.map((x) => {
    const c = Math.max(0, Math.min(1, x));
    const g = c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
    return Math.round(g * 255);
  }) as Rgb;
}

export function rgbToOklab([r8, g8, b8]: Rgb): [number, number, number] {
  const lin = (x: number) => { const c = x / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const r = lin(r8), g = lin(g8), b = lin(b8);
  const l = Math.cbrt(0.4122214708 * r + 0.5363020883 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s, 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s, 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s];
}

export const hex = ([r, g, b]: Rgb) => `#${[r, g, b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;

/** The grey of noise / no value: chroma 0, lighter than the palette's dark level. */
export const NOISE_COLOUR = '#b4b4b4';

/** OKLab distance between two hex colours (a just noticeable difference is about 0.02). */
export function colourDistance(x: string, y: string): number {
  const p = rgbToOklab(parseHex(x)), q = rgbToOklab(parseHex(y));
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

export function parseHex(h: string): Rgb {
  const v = h.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16)) as Rgb;
}

/**
 * `n` colours spread in OKLab: hues at even steps (golden-angle order, so the first few are far apart), alternating two
 * lightness levels, chroma 0.13 (inside sRGB for every hue at these lightnesses, and far from the noise grey).
 */
export function perceptualPalette(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const hue = (i * 137.50776405) % 360;
    const L = i % 2 === 0 ? 0.68 : 0.52;
    const C = 0.13;
    const h = (hue * Math.PI) / 180;
    out.push(hex(oklabToRgb(L, C * Math.cos(h), C * Math.sin(h))));
  }
  return out;
}

export interface GroupColourInput {
  /** k x 2 centroids on the map (NaN for a group with no point) */
  centroids: Float32Array | Float64Array;
  /** size of each group (larger groups choose first) */
  sizes: ArrayLike<number>;
  /** groups that are noise / no value (grey) */
  noise?: ArrayLike<boolean>;
  /** palette size (default 24) */
  paletteSize?: number;
  /** how many nearest groups count as neighbours (default 6) */
  neighbours?: number;
}

/** One colour per group: neighbours on the map apart, noise grey. */
export function assignGroupColours(o: GroupColourInput): string[] {
  const k = o.sizes.length;
  const palette = perceptualPalette(o.paletteSize ?? 24);
  const labs = palette.map((c) => rgbToOklab(parseHex(c)));
  const nb = Math.min(o.neighbours ?? 6, Math.max(0, k - 1));
  const out: string[] = new Array(k).fill(NOISE_COLOUR);
  const real = Array.from({ length: k }, (_, i) => i).filter((i) => !o.noise?.[i] && Number.isFinite(o.centroids[2 * i]));
  // nearest groups by centroid distance (the map's adjacency)
  const near = new Map<number, number[]>();
  for (const i of real) {
    const d = real.filter((j) => j !== i).map((j) => [j, Math.hypot(o.centroids[2 * i] - o.centroids[2 * j], o.centroids[2 * i + 1] - o.centroids[2 * j + 1])] as const);
    d.sort((a, b) => a[1] - b[1]);
    near.set(i, d.slice(0, nb).map(([j]) => j));
  }
  // adjacency both ways
  const adj = new Map<number, Set<number>>(real.map((i) => [i, new Set(near.get(i))]));
  for (const i of real) for (const j of near.get(i)!) adj.get(j)!.add(i);
  const given = new Map<number, number>();
  const use = new Int32Array(palette.length);
  const order = [...real].sort((a, b) => o.sizes[b] - o.sizes[a] || a - b);
  for (const i of order) {
    let best = 0, bestScore = -Infinity;
    for (let c = 0; c < palette.length; c++) {
      let minD = Infinity;
      for (const j of adj.get(i)!) {
        const g = given.get(j);
        if (g === undefined) continue;
        const p = labs[c], q = labs[g];
        minD = Math.min(minD, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
      }
      // farthest from the coloured neighbours; among equals, the least used colour
      const score = (minD === Infinity ? 10 : minD) - use[c] * 1e-4;
      if (score > bestScore) { bestScore = score; best = c; }
    }
    given.set(i, best);
    use[best]++;
    out[i] = palette[best];
  }
  return out;
}
