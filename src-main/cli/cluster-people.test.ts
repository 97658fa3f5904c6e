/**
 * The `people` preset in matrix mode (`cluster --embeddings X.npy --preset people`): average linkage on the kNN graph
 * at the matrix's own linking similarity (the worker computes its zones), never single link: a run of look-alike
 * detections beside the people does not become one person.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../algo/rng.ts';
import { writeNpy } from '../core/npy-file.ts';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** people x per faces around unit centres, then a random walk of m look-alike junk detections (label -1). */
function library(rng: Rng, people: number, per: number, m: number, d: number): { X: Float32Array; y: Int32Array; n: number } {
  const n = people * per + m;
  const X = new Float32Array(n * d), y = new Int32Array(n).fill(-1);
  for (let p = 0; p < people; p++) {
    const c = Array.from({ length: d }, () => rng.normal());
    const nc = Math.hypot(...c);
    for (let f = 0; f < per; f++) { const i = p * per + f; y[i] = p; for (let t = 0; t < d; t++) X[i * d + t] = c[t] / nc + 0.09 * rng.normal(); }
  }
  const x = Array.from({ length: d }, () => rng.normal());
  for (let i = people * per; i < n; i++) {
    const nx = Math.hypot(...x);
    for (let t = 0; t < d; t++) { x[t] /= nx; X[i * d + t] = x[t]; }
    for (let t = 0; t < d; t++) x[t] += 0.11 * rng.normal();
  }
  return { X, y, n };
}

const t = tempDir();
afterAll(() => t.cleanup());

describe('cluster --embeddings --preset people', () => {
  it('links by average linkage at the matrix\'s own similarity: the people found, no person over 5% of the detections', () => {
    const d = 64;
    const lib = library(createRng(5), 60, 6, 150, d);
    const Xf = join(t.dir, 'X.npy'), yf = join(t.dir, 'y.npy');
    writeNpy(Xf, lib.X, [lib.n, d]);
    writeNpy(yf, lib.y, [lib.n]);
    const r = cli(['cluster', '--embeddings', Xf, '--labels', yf, '--preset', 'people', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const link = j.record.preset.link;
    expect(j.params).toMatchObject({ algo: 'ward', linkage: 'average', metric: 'cosine', preset: 'people' });
    expect(j.params.distanceThreshold).toBeCloseTo(1 - link.similarity, 4);
    expect(j.record.identity).toMatchObject({ n: lib.n, link: link.similarity, sure: link.sure, maybe: link.maybe });
    expect(link.maybe).toBeLessThanOrEqual(link.similarity);
    expect(link.similarity).toBeLessThanOrEqual(link.sure);
    expect(j.record.preset.why.join(' ')).toMatch(/do not chain/);
    // the labeled people (junk has no label): found; the junk run of look-alikes: not one big person
    expect(j.ami).toBeGreaterThanOrEqual(0.99);
    expect(link.largest).toBeLessThanOrEqual(0.05 * lib.n);
    expect(Math.max(...j.top10.map((c: { size: number }) => c.size))).toBe(link.largest);
  });

  it('plans as a library run does (core/cluster/plan.ts): a threshold given is used as given, not replaced by the data\'s', () => {
    const d = 32;
    const lib = library(createRng(7), 12, 4, 20, d);
    const Xf = join(t.dir, 'X2.npy');
    writeNpy(Xf, lib.X, [lib.n, d]);
    const r = cli(['cluster', '--embeddings', Xf, '--preset', 'people', '--distance-threshold', '0.6', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.params).toMatchObject({ algo: 'ward', linkage: 'average', distanceThreshold: 0.6, preset: 'people' });
    expect(j.record.preset.tail).toBeUndefined();
    expect(j.record.preset.link).toBeUndefined();
  });
});
