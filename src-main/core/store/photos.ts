/** The photos repository: the SQL over `photos` and `scan_issues` that the services need. */
import type { Db } from './db.ts';

/** A photo's path (undefined: no such photo). */
export function photoPath(db: Db, id: number): string | undefined {
  return db.prepare('SELECT path FROM photos WHERE id = ?').pluck().get(id) as string | undefined;
}

/** Every scan issue's folder and reason. */
export function scanIssueReasons(db: Db): Array<{ rootId: number | null; reason: string }> {
  return db.prepare('SELECT root_id AS rootId, reason FROM scan_issues').all() as Array<{ rootId: number | null; reason: string }>;
}
