import { describe, expect, it } from 'vitest';
import { assignGroupColours, colourDistance, NOISE_COLOUR, perceptualPalette } from './palette.ts';
import { createRng, shuffleInPlace } from '../algo/rng.ts';

describe('palette', () => {
  it('palette colours are perceptually apart and far from the noise grey', () => {
    const p = perceptualPalette(24);
    expect(new Set(p).size).toBe(24);
    let min = Infinity;
    for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) min = Math.min(min, colourDistance(p[i], p[j]));
    expect(min).toBeGreaterThan(0.03);
    for (const c of p) expect(colourDistance(c, NOISE_COLOUR)).toBeGreaterThan(0.1);
  });

  it('166 clusters on a grid: no two adjacent clusters share a colour or look alike, noise is grey', () => {
    const k = 167; // 166 clusters + noise (index 166)
    const side = 13;
    const centroids = new Float64Array(2 * k);
    // clusters placed on the grid in random order (cycling through the palette by index puts equal colours side by side)
    const pos = Array.from({ length: 166 }, (_, i) => i);
    shuffleInPlace(pos, createRng(3));
    for (let i = 0; i < 166; i++) { centroids[2 * i] = pos[i] % side; centroids[2 * i + 1] = Math.floor(pos[i] / side); }
    centroids[2 * 166] = 6; centroids[2 * 166 + 1] = 6;
    const sizes = Array.from({ length: k }, (_, i) => 10 + (i * 7) % 13);
    const noise = Array.from({ length: k }, (_, i) => i === 166);
    const c = assignGroupColours({ centroids, sizes, noise });
    expect(c[166]).toBe(NOISE_COLOUR);
    let worst = Infinity;
    for (let i = 0; i < 166; i++) for (let j = 0; j < 166; j++) {
      if (i === j) continue;
      const adjacent = Math.abs(centroids[2 * i] - centroids[2 * j]) + Math.abs(centroids[2 * i + 1] - centroids[2 * j + 1]) === 1;
      if (adjacent) worst = Math.min(worst, colourDistance(c[i], c[j]));
    }
    expect(worst).toBeGreaterThan(0.1);
    const p = perceptualPalette(24);
    const naive = Array.from({ length: 166 }, (_, i) => p[i % 24]);
    let naiveWorst = Infinity;
    for (let i = 0; i < 166; i++) for (let j = i + 1; j < 166; j++) {
      if (Math.abs(centroids[2 * i] - centroids[2 * j]) + Math.abs(centroids[2 * i + 1] - centroids[2 * j + 1]) === 1) naiveWorst = Math.min(naiveWorst, colourDistance(naive[i], naive[j]));
    }
    expect(naiveWorst).toBe(0); // what the assignment avoids
    for (let i = 0; i < 166; i++) expect(colourDistance(c[i], NOISE_COLOUR)).toBeGreaterThan(0.1);
  });
});
