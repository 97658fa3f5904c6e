/**
 * Imported labels: matching a labels file's rows to photos and faces, storing the labels, finding the run they seed
 * and the votes of its groups. The statements of core/export/import-labels.ts.
 */
import type { Db } from './db.ts';
import type { ItemKind } from '../../common/types.ts';

/** Prepares once the readers of an item named by id in a labels file: its path, and a face's box (null for a photo). */
export function labelItemReaders(db: Db): Record<ItemKind, (id: number) => { path: string; x: number | null; y: number; w: number; h: number } | undefined> {
  const photo = db.prepare('SELECT path, NULL AS x, NULL AS y, NULL AS w, NULL AS h FROM photos WHERE id = ?');
  const face = db.prepare('SELECT p.path, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?');
  return {
    photo: (id) => photo.get(id) as { path: string; x: number | null; y: number; w: number; h: number } | undefined,
    face: (id) => face.get(id) as { path: string; x: number | null; y: number; w: number; h: number } | undefined,
  };
}

/** Prepares once the lookups of a labels import: an ok photo by path, the ok photos of a hash (by id), a photo's faces. */
export function labelMatchers(db: Db): {
  photoByPath: (path: string) => { id: number; hash: string } | undefined;
  photosByHash: (hash: string) => number[];
  facesOf: (photo: number) => Array<{ id: number; x: number; y: number; w: number; h: number }>;
} {
  const photoByPath = db.prepare(`SELECT id, hash FROM photos WHERE path = ? AND status = 'ok'`);
  const photosByHash = db.prepare(`SELECT id FROM photos WHERE hash = ? AND status = 'ok' ORDER BY id`).pluck();
  const facesOf = db.prepare('SELECT id, x, y, w, h FROM faces WHERE photo_id = ?');
  return {
    photoByPath: (path) => photoByPath.get(path) as { id: number; hash: string } | undefined,
    photosByHash: (hash) => photosByHash.all(hash) as number[],
    facesOf: (photo) => facesOf.all(photo) as Array<{ id: number; x: number; y: number; w: number; h: number }>,
  };
}

/** Prepares once: a photo's face ids, and whether a face has an imported label of its own. */
export function inheritReaders(db: Db): { facesOfPhoto: (photo: number) => number[]; hasOwnLabel: (face: number) => boolean } {
  const onlyFace = db.prepare('SELECT id FROM faces WHERE photo_id = ?').pluck();
  const hasOwn = db.prepare(`SELECT 1 FROM labels WHERE kind = 'face' AND item_id = ? AND source = 'import'`).pluck();
  return {
    facesOfPhoto: (photo) => onlyFace.all(photo) as number[],
    hasOwnLabel: (face) => !!hasOwn.get(face),
  };
}

/** Stores imported labels (replacing an item's earlier imported one), photos then faces, in one transaction. */
export function storeImportedLabels(db: Db, photoLabels: Map<number, string>, faceLabels: Map<number, string>): void {
  const ins = db.prepare(`INSERT INTO labels (kind, item_id, label, source) VALUES (?, ?, ?, 'import')
    ON CONFLICT(kind, item_id, source) DO UPDATE SET label = excluded.label`);
  db.transaction(() => {
    for (const [id, l] of photoLabels) ins.run('photo', id, l);
    for (const [id, l] of faceLabels) ins.run('face', id, l);
  })();
}

export function runExists(db: Db, runId: number): boolean {
  return db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) !== undefined;
}

/** Prepares once: whether any item of a kind has an imported label. */
export function hasImportedLabelOf(db: Db): (kind: string) => boolean {
  const has = db.prepare(`SELECT 1 FROM labels WHERE kind = ? AND source = 'import' LIMIT 1`);
  return (kind) => has.get(kind) !== undefined;
}

/** The newest run of one of these kinds (at least one kind). */
export function newestRunOfKinds(db: Db, kinds: readonly string[]): number | undefined {
  return db.prepare(`SELECT id FROM runs WHERE kind IN (${kinds.map(() => '?').join(',')}) ORDER BY id DESC LIMIT 1`).pluck().get(...kinds) as number | undefined;
}

export function runKind(db: Db, runId: number): string {
  return db.prepare('SELECT kind FROM runs WHERE id = ?').pluck().get(runId) as string;
}

/** Per clustered group of a run: how many members carry each imported label (null: members without one). */
export function groupLabelVotes(db: Db, runId: number, kind: string): Array<{ cluster: number; label: string | null; n: number }> {
  return db.prepare(`
    SELECT a.cluster AS cluster, l.label AS label, COUNT(*) AS n
    FROM assignments a LEFT JOIN labels l ON l.kind = ? AND l.item_id = a.item_id AND l.source = 'import'
    WHERE a.run_id = ? AND a.cluster >= 0 GROUP BY a.cluster, l.label`).all(kind, runId) as Array<{ cluster: number; label: string | null; n: number }>;
}

/** A run's clusters that are neither curated nor named. */
export function openClusters(db: Db, runId: number): number[] {
  return db.prepare(`SELECT cluster FROM clusters WHERE run_id = ? AND curated = 0 AND (name IS NULL OR name = '')`).pluck().all(runId) as number[];
}
