/** The suggestions repository: the SQL of the suggestion index and queues (core/curation/suggest.ts). */
import type { Db } from './db.ts';

/** [item, cluster, sim] of a run's members of the given clusters (at most a few hundred at a time). */
export function clusterAssignments(db: Db, runId: number, clusters: number[]): Array<[number, number, number | null]> {
  return db.prepare(`SELECT item_id, cluster, sim FROM assignments WHERE run_id = ? AND cluster IN (${clusters.map(() => '?').join(',')})`).raw().all(runId, ...clusters) as Array<[number, number, number | null]>;
}

/** A reader of one item's [cluster, sim] in a run (prepared once): undefined when it is not in the run. */
export function assignmentReader(db: Db): (runId: number, item: number) => [number, number | null] | undefined {
  const one = db.prepare('SELECT cluster, sim FROM assignments WHERE run_id = ? AND item_id = ?').raw();
  return (runId, item) => one.get(runId, item) as [number, number | null] | undefined;
}

/** A reader of whether an item has an embedding of a model (prepared once). */
export function hasVectorReader(db: Db): (model: string, item: number) => boolean {
  const hasVec = db.prepare('SELECT 1 FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  return (model, item) => !!hasVec.get(model, item);
}

/** What a run's suggestion index depends on: its edits (count, last id, undone ids, the last one's time and size), its model's revision, the not-a-face marks. */
export function suggestionIndexState(db: Db, runId: number): { n: number; last: number | null; undone: number | null; tail: string | null; rev: number | undefined; notFaces: number } {
  // (a new edit after an undo reuses the undone edit's id: the last edit's time and size tell the two apart)
  const e = db.prepare(`SELECT COUNT(*) AS n, MAX(id) AS last, SUM(undone * id) AS undone,
    (SELECT created_at || '.' || length(op) FROM edits WHERE run_id = ? ORDER BY id DESC LIMIT 1) AS tail FROM edits WHERE run_id = ?`).get(runId, runId) as { n: number; last: number | null; undone: number | null; tail: string | null };
  const rev = db.prepare('SELECT m.revision FROM models m JOIN runs r ON r.model = m.name WHERE r.id = ?').pluck().get(runId) as number | undefined;
  const nf = db.prepare('SELECT COUNT(*) FROM not_faces').pluck().get() as number;
  return { ...e, rev, notFaces: nf };
}

/** [cluster, signature] of a run's persons with a centroid: the signature changes when its size, mean similarity or samples do. */
export function personSignatures(db: Db, runId: number): Array<[number, string]> {
  return db.prepare(`SELECT cluster, size || ':' || COALESCE(mean_sim, '') || ':' || COALESCE(top, '') || ':' || COALESCE(tail, '') AS sig FROM clusters
    WHERE run_id = ? AND cluster >= 0 AND size > 0 AND centroid IS NOT NULL ORDER BY cluster`).raw().all(runId) as Array<[number, string]>;
}

/** A reader of a person's centroid and samples (prepared once). */
export function personSamplesReader(db: Db): (runId: number, cluster: number) => { centroid: Buffer; top: string | null; tail: string | null } {
  const cenQ = db.prepare('SELECT centroid, top, tail FROM clusters WHERE run_id = ? AND cluster = ?');
  return (runId, cluster) => cenQ.get(runId, cluster) as { centroid: Buffer; top: string | null; tail: string | null };
}

/** Every [item, vector blob] of a model, in one scan. */
export function allVectorBlobs(db: Db, model: string): Iterable<[number, Buffer]> {
  return db.prepare('SELECT item_id, vec FROM embeddings WHERE model = ?').raw().iterate(model) as Iterable<[number, Buffer]>;
}

/** The clusters of a run marked curated. */
export function curatedClusters(db: Db, runId: number): number[] {
  return db.prepare('SELECT cluster FROM clusters WHERE run_id = ? AND curated = 1').pluck().all(runId) as number[];
}

/** The clusters of a run with a (non-empty) name. */
export function namedClusters(db: Db, runId: number): number[] {
  return db.prepare(`SELECT cluster FROM clusters WHERE run_id = ? AND name IS NOT NULL AND name != ''`).pluck().all(runId) as number[];
}

/** [item, cluster, sim] of every assignment of a run, by item. */
export function runAssignments(db: Db, runId: number): Array<[number, number, number | null]> {
  return db.prepare('SELECT item_id, cluster, sim FROM assignments WHERE run_id = ? ORDER BY item_id').raw().all(runId) as Array<[number, number, number | null]>;
}

/** A person of a run (not empty): its name and library group (undefined: no such person). */
export function personOf(db: Db, runId: number, cluster: number): { name: string | null; group_id: number | null } | undefined {
  return db.prepare('SELECT name, group_id FROM clusters WHERE run_id = ? AND cluster = ? AND size > 0').get(runId, cluster) as { name: string | null; group_id: number | null } | undefined;
}

/** The items rejected for a person: in this run's cluster, or for its library group (groupId -1: none). */
export function rejectedForPerson(db: Db, runId: number, cluster: number, groupId: number): number[] {
  return db.prepare(`SELECT item_id FROM suggestion_rejects WHERE (run_id = ? AND cluster = ?) OR (group_id IS NOT NULL AND group_id = ?)`)
    .pluck().all(runId, cluster, groupId) as number[];
}

export interface SuggestionViewRow { photoId: number; path: string; thumb: string | null; x: number | null; y: number | null; w: number | null; h: number | null }

/** A reader of a suggested item's photo, thumbnail and face box (prepared once, for the run's kind). */
export function suggestionViewReader(db: Db, kind: string): (item: number) => SuggestionViewRow | undefined {
  const view = kind === 'face'
    ? db.prepare('SELECT p.id AS photoId, p.path, COALESCE(f.thumb, p.hash) AS thumb, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?')
    : db.prepare('SELECT p.id AS photoId, p.path, p.hash AS thumb, NULL AS x, NULL AS y, NULL AS w, NULL AS h FROM photos p WHERE p.id = ?');
  return (item) => view.get(item) as SuggestionViewRow | undefined;
}

/** A cluster's name (null: unnamed or no such cluster). */
export function clusterName(db: Db, runId: number, cluster: number): string | null {
  return db.prepare('SELECT name FROM clusters WHERE run_id = ? AND cluster = ?').pluck().get(runId, cluster) as string | null;
}

/** A cluster's library group (null: none). */
export function clusterGroup(db: Db, runId: number, cluster: number): number | null {
  return db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck().get(runId, cluster) as number | null;
}

/** Whether an item was rejected for a person: in this run's cluster, or for its library group (groupId -1: none). */
export function isRejectedFor(db: Db, item: number, runId: number, cluster: number, groupId: number): boolean {
  return !!db.prepare('SELECT 1 FROM suggestion_rejects WHERE item_id = ? AND ((run_id = ? AND cluster = ?) OR (group_id IS NOT NULL AND group_id = ?))').pluck().get(item, runId, cluster, groupId);
}
