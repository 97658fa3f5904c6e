/**
 * The edit engine against the v0.2 edits.ts it replaced (its peer, taken from git and run in the same process on a
 * copy of the same library): a run of 20,000 items in 1,000 clusters (synthetic 512-d vectors), then a labeling
 * session's big edits, each applied, undone and redone: names for every cluster (import labels), a merge of 20
 * clusters, a move of 500 items, a confirm of 500, a reject of 500. Alternates the two engines per repetition; prints
 * each one's minimum and median per step and the ratio engine/v0.2, and checks both leave the same rows.
 *   npx tsx bench/edits.mts [--n 20000] [--groups 1000] [--reps 5] [--out bench/results/edits.json]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRng } from '../src-main/algo/rng.ts';
import type { EditOp, EditResult } from '../src-main/common/types.ts';
import * as engine from '../src-main/core/curation/edits.ts';
import { Library } from '../src-main/core/library.ts';
import { syntheticRun } from './lib/synthetic-run.mts';
import type { Db } from '../src-main/core/store/db.ts';
import { dumpRun } from '../src-main/testing/edit-log.ts';
import { REPO_ROOT } from '../src-main/testing/fixtures.ts';

const opt = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(opt('n', '20000')), G = Number(opt('groups', '1000')), REPS = Number(opt('reps', '5'));
const out = opt('out', 'bench/results/edits.json');
/** the last commit with v0.2's edits.ts */
const V02 = 'b61ec36';
const d = 512;

type Engine = { applyEdit: typeof engine.applyEdit; undo: typeof engine.undo; redo: typeof engine.redo };

/** v0.2's edits.ts, from git, its relative imports pointed at this tree. */
async function loadV02(dir: string): Promise<Engine> {
  const src = execFileSync('git', ['show', `${V02}:src-main/core/curation/edits.ts`], { cwd: REPO_ROOT, encoding: 'utf8' });
  const here = join(REPO_ROOT, 'src-main/core/curation');
  const file = join(dir, 'edits-v02.ts');
  // modules v0.2 imported that have moved since (the repositories now live in core/store/)
  const moved: Record<string, string> = { '../embed/store.ts': '../store/embeddings.ts', '../cluster/runs.ts': '../store/runs.ts' };
  writeFileSync(file, src.replace(/from '(\.{1,2}\/[^']+)'/g, (_, p: string) => `from '${resolve(here, moved[p] ?? p)}'`));
  return await import(file) as Engine;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-edits-'));
try {
  const rng = createRng(11);
  const file = join(dir, 'edits.constellate');
  const centres = Array.from({ length: G }, () => Float32Array.from({ length: d }, () => rng.normal()));
  const { lib, ids, runId } = syntheticRun(file, N, G, d, (g) => {
    const v = new Float32Array(d);
    for (let j = 0; j < d; j++) v[j] = centres[g][j] + rng.normal();
    return v;
  });
  lib.close();

  const pick = (k: number, from: number) => Array.from({ length: k }, (_, i) => ids[from + i * 7]);
  const steps: Array<[string, EditOp]> = [
    ['names (every cluster)', { type: 'names', clusters: Array.from({ length: G }, (_, c) => ({ cluster: c, name: `person ${c}`, curated: true })), source: 'bench' }],
    ['merge 20 clusters', { type: 'merge', clusters: Array.from({ length: 20 }, (_, i) => 100 + i) }],
    ['move 500 items', { type: 'move', items: pick(500, 1), to: 3 }],
    ['confirm 500 items', { type: 'confirm', cluster: 5, items: pick(500, 2) }],
    ['reject 500 items', { type: 'reject', items: pick(500, 4) }],
  ];
  const v02 = await loadV02(dir);
  const engines: Array<[string, Engine]> = [['v0.2', v02], ['engine', engine]];
  const times: Record<string, Record<string, number[]>> = { 'v0.2': {}, engine: {} };
  const finals: Record<string, unknown> = {};
  const t = (f: () => EditResult | null) => { const t0 = performance.now(); f(); return performance.now() - t0; };
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, e] of rep % 2 ? [...engines].reverse() : engines) {
      const f = join(dir, `${name}-${rep}.constellate`);
      copyFileSync(file, f);
      const l = Library.open(f);
      const db: Db = l.db;
      const rec = (k: string, ms: number) => { (times[name][k] ??= []).push(ms); };
      for (const [k, op] of steps) {
        rec(`${k}: apply`, t(() => e.applyEdit(db, runId, op)));
        rec(`${k}: undo`, t(() => e.undo(db, runId)));
        rec(`${k}: redo`, t(() => e.redo(db, runId)));
      }
      if (rep === 0) finals[name] = dumpRun(db, runId);
      l.close();
      rmSync(f, { force: true });
    }
  }
  const same = JSON.stringify(finals['v0.2']) === JSON.stringify(finals.engine);
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = Object.keys(times.engine).map((k) => ({
    step: k,
    v02: { min: Math.min(...times['v0.2'][k]), median: med(times['v0.2'][k]) },
    engine: { min: Math.min(...times.engine[k]), median: med(times.engine[k]) },
    ratio: Math.min(...times.engine[k]) / Math.min(...times['v0.2'][k]),
  }));
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`edits, ${N} items in ${G} clusters, ${REPS} reps, load ${load}; same rows as v0.2: ${same}`);
  console.log('step                                v0.2 min/median ms   engine min/median ms   engine/v0.2 (min)');
  for (const r of rows) console.log(`${r.step.padEnd(36)}${`${r.v02.min.toFixed(1)} / ${r.v02.median.toFixed(1)}`.padEnd(21)}${`${r.engine.min.toFixed(1)} / ${r.engine.median.toFixed(1)}`.padEnd(23)}${r.ratio.toFixed(2)}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ n: N, groups: G, reps: REPS, load, sameRows: same, rows }, null, 2));
  if (!same) { console.error('the two engines left different rows'); process.exitCode = 1; }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
