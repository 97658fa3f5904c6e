/** The people repository: the SQL over a run's clusters as persons (core/curation/people.ts). */
import type { Db } from './db.ts';

/** A cluster as a person, with its library group's hidden mark and avatar. */
export interface PersonDbRow {
  cluster: number; name: string | null; size: number; curated: number; hidden: number; gHidden: number | null; avatar: number | null; gAvatar: number | null;
  changedAt: number | null; top: string | null; meanSim: number | null; group_id: number | null;
}

/** Every cluster of a run (not the noise, not empty), any order. */
export function personRows(db: Db, runId: number): PersonDbRow[] {
  return db.prepare(`SELECT c.cluster, c.name, c.size, c.curated, c.hidden, g.hidden AS gHidden, c.avatar, g.avatar AS gAvatar, c.changed_at AS changedAt,
      c.top, c.mean_sim AS meanSim, c.group_id FROM clusters c LEFT JOIN groups g ON g.id = c.group_id WHERE c.run_id = ? AND c.cluster >= 0 AND c.size > 0`)
    .all(runId) as PersonDbRow[];
}

/** The readers a people list needs, each prepared once: membership of an item in a cluster, a face's and a photo's thumbnail. */
export function personReaders(db: Db): {
  isMember: (runId: number, item: number, cluster: number) => boolean;
  faceThumb: (faceId: number) => string | undefined;
  photoThumb: (photoId: number) => string | undefined;
} {
  const member = db.prepare('SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ? AND cluster = ?').pluck();
  const thumbQ = db.prepare('SELECT COALESCE(f.thumb, p.hash) FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?').pluck();
  const photoThumb = db.prepare('SELECT hash FROM photos WHERE id = ?').pluck();
  return {
    isMember: (runId, item, cluster) => !!member.get(runId, item, cluster),
    faceThumb: (faceId) => thumbQ.get(faceId) as string | undefined,
    photoThumb: (photoId) => photoThumb.get(photoId) as string | undefined,
  };
}

/** The clusters of a run (not the noise, not empty) with this name, case-insensitive, by cluster. */
export function clustersNamed(db: Db, runId: number, name: string): number[] {
  return db.prepare('SELECT cluster FROM clusters WHERE run_id = ? AND cluster >= 0 AND size > 0 AND name = ? COLLATE NOCASE ORDER BY cluster').pluck().all(runId, name) as number[];
}

/** The first names of a run's named clusters (not empty), by name. */
export function personNames(db: Db, runId: number, limit: number): string[] {
  return db.prepare('SELECT name FROM clusters WHERE run_id = ? AND name IS NOT NULL AND size > 0 ORDER BY name LIMIT ?').pluck().all(runId, limit) as string[];
}

export interface MergeClusterRow { cluster: number; name: string | null; size: number; meanSim: number | null; centroid: Buffer; group_id: number | null; top: string; tail: string; avatar: number | null }

/** The clusters of a run with a centroid (not the noise, not empty), by cluster. */
export function mergeClusterRows(db: Db, runId: number): MergeClusterRow[] {
  return db.prepare(`SELECT c.cluster, c.name, c.size, c.mean_sim AS meanSim, c.centroid, c.group_id, c.top, c.tail, c.avatar FROM clusters c
    WHERE c.run_id = ? AND c.cluster >= 0 AND c.size > 0 AND c.centroid IS NOT NULL ORDER BY c.cluster`).all(runId) as MergeClusterRow[];
}

/** The "not the same" marks of this run, and those between library groups (of any run). */
export function mergeRejects(db: Db, runId: number): Array<{ a: number; b: number; group_a: number | null; group_b: number | null }> {
  return db.prepare('SELECT a, b, group_a, group_b FROM merge_rejects WHERE run_id = ? OR (group_a IS NOT NULL AND group_b IS NOT NULL)').all(runId) as Array<{ a: number; b: number; group_a: number | null; group_b: number | null }>;
}

/** The "not the same" pairs of clusters of this run. */
export function runMergeRejects(db: Db, runId: number): Array<{ a: number; b: number }> {
  return db.prepare('SELECT a, b FROM merge_rejects WHERE run_id = ?').all(runId) as Array<{ a: number; b: number }>;
}
