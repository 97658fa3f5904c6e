/**
 * The parts of `check` that look past the rows: stored vectors that are not finite (NaN/Inf poison every
 * distance to them), run members left without a vector of the run's model, temp and spool files left by a process
 * that was killed (an import's spool in the cache, a sidecar's or backup's temp next to it), and a library emptied
 * since its last backup (everything gone that a backup still holds: the sign of a bad restore or a runaway removal).
 */
import { closeSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CheckProblem } from '../common/types.ts';
import { listBackups } from './backups.ts';
import type { Library } from './library.ts';
import { openRegularSync } from './safe-read.ts';
import { pidAlive } from './store/lock.ts';
import { membersWithoutVectors, modelNames, modelVectorBlobs, okPhotoPaths, photoAndRunCounts } from './store/check-repo.ts';
import { openReadOnly } from './store/db.ts';

/** `.name.<pid>.<rand>.tmp` / `.name.<pid>.<rand>.partial` (the checked writers), `.import-<pid>-<ms>.f32` (spools). */
const TEMP = /^\..+\.(\d+)\.[0-9a-z]+\.(tmp|partial)$/;
const SPOOL = /^\.import-(\d+)-\d+\.f32$/;
const EXPORT_TEMP = /^\.constellate-export-(?:probe-)?(\d+)-.*\.tmp$/;

/** Leaked temp or spool files in `dir` (those of a process that is gone). */
function leakedIn(dir: string, out: Set<string>): void {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    const m = TEMP.exec(n) ?? SPOOL.exec(n) ?? EXPORT_TEMP.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    out.add(join(dir, n));
  }
}

export function leakedTempFiles(lib: Library): string[] {
  const found = new Set<string>();
  const dirs = new Set<string>([dirname(lib.path), lib.cacheDir]);
  for (const p of okPhotoPaths(lib.db)) dirs.add(dirname(p));
  for (const d of dirs) leakedIn(d, found);
  return [...found].sort();
}

/** Items per model whose stored vector holds NaN or an infinity. */
export function nonFiniteVectors(lib: Library): Array<{ model: string; count: number }> {
  const out: Array<{ model: string; count: number }> = [];
  for (const model of modelNames(lib.db)) {
    let count = 0;
    for (const b of modelVectorBlobs(lib.db, model)) {
      const n = b.byteLength >> 2;
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(b.readFloatLE(i * 4))) { count++; break; }
      }
    }
    if (count) out.push({ model, count });
  }
  return out;
}

/** The newest backup that holds photos or runs while the library holds neither: what it had, or null. */
export function emptiedSinceBackup(lib: Library): { backup: string; photos: number; runs: number } | null {
  const own = photoAndRunCounts(lib.db);
  if (own.photos + own.runs > 0) return null;
  for (const b of listBackups(lib)) {
    try {
      // the one reader's check first: a FIFO named like a backup is never opened by SQLite
      closeSync(openRegularSync(b.path, 'backup').fd);
      if (statSync(b.path).size === 0) continue;
      const db = openReadOnly(b.path);
      try {
        const { photos, runs } = photoAndRunCounts(db);
        if (photos + runs > 0) return { backup: b.path, photos, runs };
        return null;
      } finally { db.close(); }
    } catch { continue; }
  }
  return null;
}

/** The problems above in `check`'s form. */
export function fileProblems(lib: Library): CheckProblem[] {
  const problems: CheckProblem[] = [];
  for (const { model, count } of nonFiniteVectors(lib)) {
    problems.push({ kind: 'non-finite-vector', count, message: `model ${model}: ${count} stored vectors hold NaN or an infinity (re-embed or re-import them)` });
  }
  for (const { runId, model, count } of membersWithoutVectors(lib.db)) {
    problems.push({ kind: 'member-without-vector', count, message: `run ${runId}: ${count} members have no ${model} embedding any more (re-embed them, or re-run the clustering)` });
  }
  const leaked = leakedTempFiles(lib);
  if (leaked.length) {
    problems.push({ kind: 'leaked-temp', count: leaked.length, message: `temp or spool files left by a process that was stopped (safe to delete): ${leaked.slice(0, 5).map((p) => basename(p)).join(', ')}${leaked.length > 5 ? ', ...' : ''} in ${[...new Set(leaked.map(dirname))].slice(0, 3).join(', ')}` });
  }
  const emptied = emptiedSinceBackup(lib);
  if (emptied) {
    problems.push({ kind: 'emptied', count: 1, message: `the library holds no photos and no runs, its backup ${emptied.backup} holds ${emptied.photos} photos and ${emptied.runs} runs (restore it if this was not meant)` });
  }
  return problems;
}
