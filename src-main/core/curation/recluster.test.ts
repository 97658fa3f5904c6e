/**
 * The regrouping half of a re-clustering (the rest of the unnamed groups, by k-means in the learned metric, in a
 * worker): made-up unit rows in three tight bunches, spread over three "unnamed groups" mixed up; the parts follow
 * the bunches and each keeps the id of the group it overlaps most.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../algo/rng.ts';
import { regroup } from './recluster.ts';

describe('regroup (re-clustering the unnamed groups in the learned metric)', () => {
  const d = 8, per = 20, B = 3;
  const rng = createRng(5);
  const n = per * B;
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const b = Math.floor(i / per);
    let s = 0;
    for (let t = 0; t < d; t++) { const v = (t === b ? 1 : 0) + rng.normal() * 0.05; X[i * d + t] = v; s += v * v; }
    for (let t = 0; t < d; t++) X[i * d + t] /= Math.sqrt(s);
  }
  const ids = Int32Array.from({ length: n }, (_, i) => 100 + i);
  const rows = { ids, X, d, version: 1 };
  const bunch = (it: number) => Math.floor((it - 100) / per);

  it('parts follow the bunches; each keeps the id of the group it overlaps most; nothing else moves', async () => {
    // groups 7, 8, 9: group 7 + b holds 14 of bunch b's 20 items; the other 6 are spread over the other groups
    const rest: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) { const b = bunch(ids[i]), k = i % per; rest.push([ids[i], 7 + (k < 14 ? b : (b + 1 + (k % 2)) % B)]); }
    const moved = await regroup(rest, rows, 1);
    const where = new Map(rest);
    for (const [it, from, to] of moved) { expect(where.get(it)).toBe(from); where.set(it, to); }
    for (const [it] of rest) expect([it, where.get(it)]).toEqual([it, 7 + bunch(it)]);
    expect(moved.length).toBe(B * 6);
  });

  it('one group, or no more items than groups: nothing to regroup; items without a row stay', async () => {
    expect(await regroup(rest1(), rows, 1)).toEqual([]);
    expect(await regroup([[100, 7], [121, 8]], rows, 1)).toEqual([]);
    const moved = await regroup([[5, 7], [6, 8], ...rest1().slice(0, 30).map(([it], i): [number, number] => [it, 7 + (i % 2)])], rows, 1);
    expect(moved.some(([it]) => it === 5 || it === 6)).toBe(false);
  });

  function rest1(): Array<[number, number]> { return Array.from(ids, (it): [number, number] => [it, 7]); }
});
