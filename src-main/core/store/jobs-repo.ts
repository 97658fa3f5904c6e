/**
 * The jobs repository: every statement over `jobs` (a job's row from queued to its end, the history read back, the
 * rows a killed process left running).
 */
import type { JobKind } from '../../common/jobs.ts';
import type { JobState } from '../../common/types.ts';
import type { Db } from './db.ts';

export interface JobRow {
  id: number; kind: JobKind; state: JobState; params: string; stage: string; done: number; total: number;
  error: string | null; result: string | null; created_at: number; started_at: number | null; finished_at: number | null;
}

/** Marks every job still running or queued (left by a process that is gone) interrupted at `at`. */
export function markUnfinishedJobsInterrupted(db: Db, at: number): void {
  db.prepare(`UPDATE jobs SET state = 'interrupted', finished_at = ? WHERE state IN ('running', 'queued')`).run(at);
}

/** A new queued job; its id. */
export function insertQueuedJob(db: Db, kind: JobKind, paramsJson: string, createdAt: number): number {
  return Number(db.prepare(`INSERT INTO jobs (kind, state, params, created_at) VALUES (?, 'queued', ?, ?)`)
    .run(kind, paramsJson, createdAt).lastInsertRowid);
}

export function markJobRunning(db: Db, id: number, startedAt: number): void {
  db.prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE id = ?`).run(startedAt, id);
}

export function writeJobProgress(db: Db, id: number, stage: string, done: number, total: number): void {
  db.prepare(`UPDATE jobs SET stage = ?, done = ?, total = ? WHERE id = ?`).run(stage, done, total, id);
}

/** A job's end: its state, result and error (JSON), and its last progress. */
export function writeJobEnd(db: Db, id: number, end: { state: JobState; finishedAt: number | null; resultJson: string; errorJson: string | null; stage: string; done: number; total: number }): void {
  db.prepare(`UPDATE jobs SET state = ?, finished_at = ?, result = ?, error = ?, stage = ?, done = ?, total = ? WHERE id = ?`)
    .run(end.state, end.finishedAt, end.resultJson, end.errorJson, end.stage, end.done, end.total, id);
}

/** A job's end without its result (when the full row cannot be written). */
export function writeJobEndState(db: Db, id: number, state: JobState, finishedAt: number | null, errorJson: string): void {
  db.prepare(`UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?`).run(state, finishedAt, errorJson, id);
}

export function getJobRow(db: Db, id: number): JobRow | undefined {
  return db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
}

/** The newest `limit` jobs, newest first. */
export function listJobRows(db: Db, limit: number): JobRow[] {
  return db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[];
}

/**
 * The newest finished face embed that searched photos for faces: its report holds the library's last face folder
 * notice (per folder faces kept, dropped under the floor, near-identical). An embed with nothing new to search does
 * not replace it.
 */
export function newestFaceNoticeJobRow(db: Db): JobRow | undefined {
  return db.prepare(`SELECT * FROM jobs WHERE kind = 'embed' AND state = 'done' AND json_extract(result, '$.kind') = 'face'
    AND json_extract(result, '$.processed') > 0 AND json_extract(result, '$.faceFolders') IS NOT NULL ORDER BY id DESC LIMIT 1`).get() as JobRow | undefined;
}
