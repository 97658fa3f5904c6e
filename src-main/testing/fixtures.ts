/** Helpers for tests: temporary folders and the shared data sets next to the repository. */
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobContext } from '../core/jobs.ts';
import { config } from '../core/config.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The data sets and peers: CONSTELLATE_SHARED, or ../shared next to the repository. */
export const SHARED = config.shared() ?? resolve(REPO_ROOT, '../shared');
export const sharedPath = (...p: string[]) => join(SHARED, ...p);

export function tempDir(prefix = 'constellate-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies a shared data folder into a temp folder the test may change. */
export function copyShared(rel: string, dest: string): string {
  cpSync(sharedPath(rel), dest, { recursive: true });
  return dest;
}

/** A JobContext for calling job functions directly. */
export function testContext(onProgress?: (stage: string, done: number, total: number) => void): JobContext & { cancel(): void } {
  const c = new AbortController();
  return {
    jobId: 0,
    signal: c.signal,
    progress: (s, d, t) => onProgress?.(s, d, t),
    checkCancelled: () => { if (c.signal.aborted) throw Object.assign(new Error('cancelled'), { code: 'CANCELLED' }); },
    isCancelled: () => c.signal.aborted,
    cancel: () => c.abort(),
  };
}
