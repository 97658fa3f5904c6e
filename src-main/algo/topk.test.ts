import { describe, expect, it } from 'vitest';
import { gemmJs } from './linalg.ts';
import { similarToRows } from './topk.ts';

// unit vectors at angles (degrees) on a circle
const deg = [0, 10, 20, 90, 100, 110, 180, 45];
const X = new Float32Array(deg.flatMap((a) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]));

describe('more like these', () => {
  it('mean: the rows nearest the normalized mean of the selection, the selection left out', async () => {
    const r = await similarToRows(X, deg.length, 2, [0, 3], 3, 'mean', gemmJs); // mean of 0 and 90 degrees points at 45
    expect(Array.from(r.indices)).toEqual([7, 2, 1]); // 45, then 20 (25 degrees off), then 10 (35)
    expect(r.sims[0]).toBeCloseTo(1, 5);
  });
  it('max: each row by its best similarity to any selected row (the union of the neighbourhoods)', async () => {
    const r = await similarToRows(X, deg.length, 2, [0, 3], 4, 'max', gemmJs);
    // 10 and 100 degrees (cos 10), then 20 and 110 (cos 20); the 45-degree row (cos 45) comes after them
    expect(Array.from(r.indices)).toEqual([1, 4, 2, 5]);
    expect(r.sims[0]).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 5);
    expect(Array.from(r.indices)).not.toContain(0);
    expect(Array.from(r.indices)).not.toContain(3);
  });
  it('max with an asymmetric selection (the right-hand side goes in transposed)', async () => {
    const r = await similarToRows(X, deg.length, 2, [1, 4], 2, 'max', gemmJs); // 10 and 100 degrees
    // 0 and 20 (10 off 10), 90 and 110 (10 off 100): four rows at cos 10
    for (const s of r.sims) expect(s).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 5);
    const r3 = await similarToRows(X, deg.length, 2, [1, 4, 7], 7, 'max', gemmJs);
    const expectSim = (row: number) => Math.max(...[10, 100, 45].map((a) => Math.cos(((deg[row] - a) * Math.PI) / 180)));
    Array.from(r3.indices).forEach((row, i) => expect(r3.sims[i]).toBeCloseTo(expectSim(row), 5));
  });
  it('k is capped at the rows left and bad rows are named', async () => {
    expect((await similarToRows(X, deg.length, 2, [0, 1, 2], 100, 'mean', gemmJs)).indices).toHaveLength(5);
    await expect(similarToRows(X, deg.length, 2, [99], 3, 'mean', gemmJs)).rejects.toThrow(/rows/);
  });
});
