/** Reliability test plumbing: spawning the CLI (and killing it), checking a library file's invariants, a seeded RNG. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { REPO_ROOT } from '../testing/fixtures.ts';

export const BIN = join(REPO_ROOT, 'src-main/cli/bin.mjs');

/** mulberry32: a reproducible stream of uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(): number {
  const s = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(s) ? s : (Date.now() % 1_000_000);
}

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

const CLI_ENV = { CONSTELLATE_WORKERS: '2' };

export function cliSync(args: string[], env: Record<string, string> = {}): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...CLI_ENV, ...env }, timeout: 240_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

export function cliSpawn(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...CLI_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (c) => { stdout += c; });
  child.stderr!.on('data', (c) => { stderr += c; });
  const done = new Promise<CliResult>((ok) => child.on('close', (code, signal) => ok({ code, signal, stdout, stderr, ms: performance.now() - t0 })));
  return { child, done };
}

export interface KillOutcome {
  /** the process was still running when SIGKILL was sent (else it had already finished) */
  killed: boolean;
  delayMs: number;
  result: CliResult;
}

/**
 * Runs the CLI and sends SIGKILL (to the process itself: its worker threads die with it) after `delayMs`, or, with
 * `trigger`, `delayMs` after the first stderr progress line matching it (so the kill lands in the middle of the work).
 */
export async function runAndKill(args: string[], delayMs: number, trigger?: RegExp): Promise<KillOutcome> {
  const { child, done } = cliSpawn(args);
  let killed = false;
  let timer: NodeJS.Timeout | null = null;
  const arm = () => {
    timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) { killed = child.kill('SIGKILL'); }
    }, delayMs);
  };
  if (!trigger) arm();
  else {
    let err = '';
    child.stderr!.on('data', (c) => {
      err += c;
      if (!timer && trigger.test(err)) arm();
    });
  }
  const result = await done;
  if (timer) clearTimeout(timer);
  return { killed: killed && result.signal === 'SIGKILL', delayMs, result };
}

export interface LibraryCheck {
  integrity: string;
  photos: number;
  distinctPaths: number;
  missing: number;
  embeddings: Record<string, number>;
  processed: Record<string, number>;
  /** problems found; an empty list means every invariant holds */
  problems: string[];
  runs: Array<{ id: number; n: number; assignments: number; clusters: number }>;
  jobs: Record<string, number>;
}

/**
 * Opens the library file read-only (as a plain SQLite file, bypassing the app) and checks what must hold after any
 * crash: integrity, one row per photo path, every embedding backed by a 'processed' mark with no error and the right
 * vector size, every run complete (assignments = n).
 */
export function checkLibrary(file: string): LibraryCheck {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const problems: string[] = [];
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    if (integrity !== 'ok') problems.push(`integrity_check: ${integrity}`);
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length) problems.push(`foreign_key_check: ${fk.length} violations`);
    const one = (sql: string, ...a: unknown[]) => db.prepare(sql).pluck().get(...a) as number;
    const photos = one('SELECT COUNT(*) FROM photos');
    const distinctPaths = one('SELECT COUNT(DISTINCT path) FROM photos');
    if (photos !== distinctPaths) problems.push(`photos: ${photos} rows for ${distinctPaths} paths`);
    const missing = one(`SELECT COUNT(*) FROM photos WHERE status = 'missing'`);
    const embeddings: Record<string, number> = {};
    const processed: Record<string, number> = {};
    for (const m of db.prepare('SELECT name, kind, dim FROM models').all() as Array<{ name: string; kind: string; dim: number }>) {
      embeddings[m.name] = one('SELECT COUNT(*) FROM embeddings WHERE model = ?', m.name);
      processed[m.name] = one('SELECT COUNT(*) FROM processed WHERE model = ?', m.name);
      const badSize = one('SELECT COUNT(*) FROM embeddings WHERE model = ? AND length(vec) != ?', m.name, m.dim * 4);
      if (badSize) problems.push(`${m.name}: ${badSize} vectors of the wrong size`);
      if (m.kind === 'photo') {
        const orphan = one(`SELECT COUNT(*) FROM embeddings e WHERE e.model = ? AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = e.item_id)`, m.name);
        if (orphan) problems.push(`${m.name}: ${orphan} embeddings of photos that do not exist`);
        const unmarked = one(`SELECT COUNT(*) FROM embeddings e WHERE e.model = ? AND NOT EXISTS
          (SELECT 1 FROM processed pr WHERE pr.model = e.model AND pr.photo_id = e.item_id AND pr.error IS NULL)`, m.name);
        if (unmarked) problems.push(`${m.name}: ${unmarked} embeddings without a 'processed' mark`);
        const lost = one(`SELECT COUNT(*) FROM processed pr WHERE pr.model = ? AND pr.error IS NULL AND NOT EXISTS
          (SELECT 1 FROM embeddings e WHERE e.model = pr.model AND e.item_id = pr.photo_id)`, m.name);
        if (lost) problems.push(`${m.name}: ${lost} photos marked processed without an embedding (lost work)`);
      }
    }
    const runs = db.prepare(`SELECT r.id, r.n, (SELECT COUNT(*) FROM assignments a WHERE a.run_id = r.id) AS assignments,
      (SELECT COUNT(*) FROM clusters c WHERE c.run_id = r.id) AS clusters FROM runs r ORDER BY r.id`).all() as LibraryCheck['runs'];
    for (const r of runs) {
      if (r.assignments !== r.n) problems.push(`run ${r.id}: ${r.assignments} assignments for n = ${r.n} (half-stored run)`);
      if (r.clusters === 0 && r.n > 0) problems.push(`run ${r.id}: no cluster rows`);
    }
    const jobs: Record<string, number> = {};
    for (const j of db.prepare('SELECT state, COUNT(*) AS c FROM jobs GROUP BY state').all() as Array<{ state: string; c: number }>) jobs[j.state] = j.c;
    return { integrity, photos, distinctPaths, missing, embeddings, processed, problems, runs, jobs };
  } finally {
    db.close();
  }
}

/** Files below `dir` (recursive). */
export function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else out.push(p);
    }
  }
  return out;
}

export function rssMiB(): number {
  return process.memoryUsage().rss / (1 << 20);
}

export function fileSize(p: string): number {
  return statSync(p).size;
}
