/**
 * The groups repository: library-level groups (migration 5). A run proposes clusters; a cluster the user names or curates is backed
 * by a group of the library (clusters.group_id) that keeps its name and members across runs:
 * - every edit, undo, redo, label seeding and assignment syncs the touched clusters' groups (`syncRunGroups`);
 * - a new run links each named group to the new cluster holding most of its members (and most of that cluster is
 *   the group's), and holds the curated ones: their members are not clustered again, each stays one cluster under its
 *   name (`heldGroups`, used by the cluster job);
 * - an item is unassigned in a run when it is in no cluster of that run: noise, or embedded after the run
 *   (`unassignedItems`).
 * An item is in at most one group of its kind: joining a group takes it out of any other.
 */
import type { ItemKind } from '../../common/types.ts';
import type { Db } from './db.ts';

export interface GroupRow { id: number; kind: ItemKind; name: string | null; curated: boolean; size: number }

/** A cluster with what makes it the library's: a name, the curated mark, hidden. */
const CLUSTER_GROUP_ROW = 'SELECT c.cluster, c.name, c.curated, c.hidden, c.group_id FROM clusters c';

/** Makes the groups of a run's named, curated or hidden clusters match them (all clusters, or the given ones). */
export function syncRunGroups(db: Db, runId: number, clusters?: Iterable<number>): void {
  const kind = db.prepare('SELECT kind FROM runs WHERE id = ?').pluck().get(runId) as ItemKind | undefined;
  if (!kind) return;
  const now = Date.now();
  const one = db.prepare(`${CLUSTER_GROUP_ROW} WHERE c.run_id = ? AND c.cluster = ?`);
  const rows = (clusters
    ? [...new Set(clusters)].filter((c) => c >= 0).map((c) => one.get(runId, c))
    : db.prepare(`${CLUSTER_GROUP_ROW} WHERE c.run_id = ?`).all(runId))
    .filter(Boolean) as Array<{ cluster: number; name: string | null; curated: number; hidden: number; group_id: number | null }>;
  // a person the user hid is the library's even without a name (the next run keeps it, hidden)
  const members = db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ?').pluck();
  const setGroup = db.prepare('UPDATE clusters SET group_id = ? WHERE run_id = ? AND cluster = ?');
  const updGroup = db.prepare('UPDATE groups SET name = ?, curated = ?, updated_at = ? WHERE id = ?');
  const insGroup = db.prepare('INSERT INTO groups (kind, name, curated, hidden, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  // members of the group that are in this run but no longer in its cluster leave it
  const dropMoved = db.prepare(`DELETE FROM group_members WHERE group_id = @g AND item_id IN
    (SELECT m.item_id FROM group_members m CROSS JOIN assignments a ON a.run_id = @run AND a.item_id = m.item_id WHERE m.group_id = @g AND a.cluster != @c)`);
  const leaveOthers = db.prepare(`DELETE FROM group_members WHERE item_id = ? AND group_id != ? AND (SELECT kind FROM groups g WHERE g.id = group_members.group_id) = ?`);
  const join = db.prepare('INSERT OR IGNORE INTO group_members (group_id, item_id) VALUES (?, ?)');
  const referenced = db.prepare('SELECT 1 FROM clusters WHERE group_id = ? LIMIT 1').pluck();
  const delGroup = db.prepare('DELETE FROM groups WHERE id = ?');
  for (const r of rows) {
    const grouped = (r.name !== null && r.name !== '') || r.curated === 1 || r.hidden === 1;
    if (!grouped) {
      if (r.group_id !== null) {
        // the user took the name and the curated mark away: the cluster is a proposal again
        setGroup.run(null, runId, r.cluster);
        if (!referenced.get(r.group_id)) delGroup.run(r.group_id);
      }
      continue;
    }
    let g = r.group_id;
    if (g === null) {
      g = Number(insGroup.run(kind, r.name, r.curated, r.hidden ? 1 : 0, now, now).lastInsertRowid);
      setGroup.run(g, runId, r.cluster);
    } else updGroup.run(r.name, r.curated, now, g);
    dropMoved.run({ g, run: runId, c: r.cluster });
    for (const it of members.all(runId, r.cluster) as number[]) {
      leaveOthers.run(it, g, kind);
      join.run(g, it);
    }
  }
}

/** New members of a run's clusters join the clusters' library groups (assign: cost grows with the new items only). */
export function joinGroups(db: Db, runId: number, added: Array<[number, number]>): void {
  const kind = db.prepare('SELECT kind FROM runs WHERE id = ?').pluck().get(runId) as ItemKind;
  const gq = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck();
  const leaveOthers = db.prepare(`DELETE FROM group_members WHERE item_id = ? AND group_id != ? AND (SELECT kind FROM groups g WHERE g.id = group_members.group_id) = ?`);
  const join = db.prepare('INSERT OR IGNORE INTO group_members (group_id, item_id) VALUES (?, ?)');
  const touch = db.prepare('UPDATE groups SET updated_at = ? WHERE id = ?');
  const groups = new Set<number>();
  for (const [it, c] of added) {
    if (c < 0) continue;
    const g = gq.get(runId, c) as number | null | undefined;
    if (g === null || g === undefined) continue;
    leaveOthers.run(it, g, kind);
    join.run(g, it);
    groups.add(g);
  }
  const now = Date.now();
  for (const g of groups) touch.run(now, g);
}

/** The library's groups of a kind, largest first. */
export function listGroups(db: Db, kind?: ItemKind): GroupRow[] {
  const rows = db.prepare(`SELECT g.id, g.kind, g.name, g.curated, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS size
    FROM groups g ${kind ? 'WHERE g.kind = ?' : ''} ORDER BY size DESC, g.id`).all(...(kind ? [kind] : [])) as Array<Omit<GroupRow, 'curated'> & { curated: number }>;
  return rows.map((r) => ({ ...r, curated: !!r.curated }));
}

/** A group a new run holds: its members are not clustered again, they stay one cluster under the group's name. */
export interface HeldGroup { id: number | null; name: string | null; curated: boolean; items: number[] }

/**
 * The groups a new run holds, with their members that have an embedding of the model: every member of a curated
 * group, and the members the user decided (`decided`) of every other group. A group with no such member is not held.
 */
export function heldGroups(db: Db, kind: ItemKind, model: string, decided: ReadonlySet<number> = new Set()): HeldGroup[] {
  const groups = db.prepare('SELECT id, name, curated FROM groups WHERE kind = ? ORDER BY id').all(kind) as Array<{ id: number; name: string | null; curated: number }>;
  const q = db.prepare(`SELECT m.item_id FROM group_members m JOIN embeddings e ON e.model = ? AND e.item_id = m.item_id
    WHERE m.group_id = ? ORDER BY m.item_id`).pluck();
  return groups.map((g) => {
    const all = q.all(model, g.id) as number[];
    return { id: g.id, name: g.name, curated: g.curated === 1, items: g.curated === 1 ? all : all.filter((i) => decided.has(i)) };
  }).filter((g) => g.items.length > 0);
}

/**
 * Names imported (label files, XMP sidecars) on items of a kind that no run has held yet and no group has: by name,
 * the items with an embedding of the model (what the next run makes people of). `skip`: items the user decided.
 */
export function importedNames(db: Db, kind: ItemKind, model: string, skip: ReadonlySet<number> = new Set()): Map<string, number[]> {
  const rows = db.prepare(`SELECT l.item_id AS item, l.label FROM labels l JOIN embeddings e ON e.model = @model AND e.item_id = l.item_id
    WHERE l.kind = @kind AND l.source = 'import'
      AND NOT EXISTS (SELECT 1 FROM assignments a JOIN runs r ON r.id = a.run_id AND r.kind = @kind WHERE a.item_id = l.item_id)
      AND NOT EXISTS (SELECT 1 FROM group_members m JOIN groups g ON g.id = m.group_id AND g.kind = @kind WHERE m.item_id = l.item_id)
    ORDER BY l.item_id`).all({ kind, model }) as Array<{ item: number; label: string }>;
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const name = r.label.trim();
    if (!name || skip.has(r.item)) continue;
    const l = out.get(name) ?? [];
    l.push(r.item);
    out.set(name, l);
  }
  return out;
}

/**
 * Links the library's named (not held) groups to a new run's clusters by overlap: the cluster holding most of the
 * group's members in this run, when those are most of the group there and most of the cluster. Returns how many.
 */
export function linkGroups(db: Db, runId: number, skip: Set<number> = new Set()): number {
  const kind = db.prepare('SELECT kind FROM runs WHERE id = ?').pluck().get(runId) as ItemKind;
  const groups = db.prepare(`SELECT id, name, curated FROM groups WHERE kind = ? ORDER BY id`).all(kind) as Array<{ id: number; name: string | null; curated: number }>;
  const best = db.prepare(`SELECT a.cluster AS c, COUNT(*) AS n FROM group_members m JOIN assignments a ON a.run_id = ? AND a.item_id = m.item_id
    WHERE m.group_id = ? AND a.cluster >= 0 GROUP BY a.cluster ORDER BY n DESC, a.cluster LIMIT 1`);
  const inRun = db.prepare('SELECT COUNT(*) FROM group_members m JOIN assignments a ON a.run_id = ? AND a.item_id = m.item_id WHERE m.group_id = ?').pluck();
  const size = db.prepare('SELECT size, group_id FROM clusters WHERE run_id = ? AND cluster = ?');
  const set = db.prepare('UPDATE clusters SET name = ?, curated = ?, group_id = ? WHERE run_id = ? AND cluster = ?');
  let linked = 0;
  for (const g of groups) {
    if (skip.has(g.id)) continue;
    const b = best.get(runId, g.id) as { c: number; n: number } | undefined;
    if (!b) continue;
    const there = inRun.get(runId, g.id) as number;
    const c = size.get(runId, b.c) as { size: number; group_id: number | null };
    if (c.group_id !== null || b.n * 2 <= there || b.n * 2 <= c.size) continue;
    set.run(g.name, g.curated, g.id, runId, b.c);
    linked++;
  }
  return linked;
}

/** Faces the user marked "not a face" (by id): out of people, new runs, assignment and the suggestion queues. */
export function notFaceIds(db: Db): Set<number> {
  return new Set(db.prepare('SELECT face_id FROM not_faces WHERE face_id IS NOT NULL').pluck().all() as number[]);
}

/** Items of the run's model that are in no cluster of the run: noise, or embedded after it (never a face marked "not a face"). */
export function unassignedItems(db: Db, runId: number): { noise: number[]; notInRun: number[] } {
  const { model, kind } = db.prepare('SELECT model, kind FROM runs WHERE id = ?').get(runId) as { model: string; kind: string };
  const gone = kind === 'face' ? notFaceIds(db) : new Set<number>();
  const noise = (db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster < 0 ORDER BY item_id').pluck().all(runId) as number[]).filter((i) => !gone.has(i));
  const notInRun = (db.prepare(`SELECT e.item_id FROM embeddings e WHERE e.model = ? AND NOT EXISTS
    (SELECT 1 FROM assignments a WHERE a.run_id = ? AND a.item_id = e.item_id) ORDER BY e.item_id`).pluck().all(model, runId) as number[]).filter((i) => !gone.has(i));
  return { noise, notInRun };
}

/**
 * Items of the run's model that are not in the run (embedded after it), item order: from the keys alone (the
 * embeddings' key index, migration 7, and the run's assignment keys), never the vectors.
 */
export function newItems(db: Db, runId: number): number[] {
  const ids = db.prepare(`SELECT e.item_id FROM embeddings e WHERE e.model = (SELECT model FROM runs WHERE id = @run) AND NOT EXISTS
    (SELECT 1 FROM assignments a WHERE a.run_id = @run AND a.item_id = e.item_id) ORDER BY e.item_id`).pluck().all({ run: runId }) as number[];
  // faces marked "not a face" never join a group
  if ((db.prepare('SELECT kind FROM runs WHERE id = ?').pluck().get(runId) as string) !== 'face') return ids;
  const gone = notFaceIds(db);
  return gone.size ? ids.filter((i) => !gone.has(i)) : ids;
}

/**
 * Pairs of library groups the user said are not one person ("not the same", or parts of one split), each pair in both
 * orders as "a:b". A pair remembered before its clusters had groups is read through the groups they have now.
 */
export function notSameGroupPairs(db: Db): Set<string> {
  const rows = db.prepare(`SELECT COALESCE(x.group_a, (SELECT c.group_id FROM clusters c WHERE c.run_id = x.run_id AND c.cluster = x.a)) AS ga,
      COALESCE(x.group_b, (SELECT c.group_id FROM clusters c WHERE c.run_id = x.run_id AND c.cluster = x.b)) AS gb
    FROM merge_rejects x`).all() as Array<{ ga: number | null; gb: number | null }>;
  const out = new Set<string>();
  for (const r of rows) if (r.ga !== null && r.gb !== null && r.ga !== r.gb) { out.add(`${r.ga}:${r.gb}`); out.add(`${r.gb}:${r.ga}`); }
  return out;
}

/** Pairs of a run's clusters remembered as not one person in that run, as "a:b" in both orders. */
export function notSameClusterPairs(db: Db, runId: number): Set<string> {
  const out = new Set<string>();
  for (const r of db.prepare('SELECT a, b FROM merge_rejects WHERE run_id = ?').all(runId) as Array<{ a: number; b: number }>) { out.add(`${r.a}:${r.b}`); out.add(`${r.b}:${r.a}`); }
  return out;
}

/** Readers of a face run's photos: a face's photo, the photos of a cluster's members, a cluster's library group. */
export function runPhotoReaders(db: Db, runId: number): {
  photoOf: (face: number) => number | undefined;
  photosIn: (cluster: number) => Set<number>;
  sharesPhoto: (face: number, cluster: number) => boolean;
  groupOf: (cluster: number) => number | null;
} {
  const photo = db.prepare('SELECT photo_id FROM faces WHERE id = ?').pluck();
  const photos = db.prepare('SELECT DISTINCT f.photo_id FROM assignments a JOIN faces f ON f.id = a.item_id WHERE a.run_id = ? AND a.cluster = ?').pluck();
  const shares = db.prepare(`SELECT 1 FROM faces f JOIN assignments a ON a.run_id = ? AND a.item_id = f.id AND a.cluster = ?
    WHERE f.photo_id = (SELECT photo_id FROM faces WHERE id = ?) AND f.id != ? LIMIT 1`).pluck();
  const group = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck();
  return {
    photoOf: (face) => photo.get(face) as number | undefined,
    photosIn: (cluster) => new Set(photos.all(runId, cluster) as number[]),
    sharesPhoto: (face, cluster) => cluster >= 0 && shares.get(runId, cluster, face, face) !== undefined,
    groupOf: (cluster) => (group.get(runId, cluster) as number | null | undefined) ?? null,
  };
}

/** The log rows (not undone) of the split edits of a kind's runs, with a reader of any run's cluster's library group. */
export function splitEditRows(db: Db, kind: ItemKind): { rows: Array<{ runId: number; op: string }>; groupOf: (runId: number, cluster: number) => number | null } {
  const rows = db.prepare(`SELECT e.run_id AS runId, e.op FROM edits e JOIN runs r ON r.id = e.run_id AND r.kind = ?
    WHERE e.undone = 0 AND e.op LIKE '%"type":"split%' ORDER BY e.id`).all(kind) as Array<{ runId: number; op: string }>;
  const g = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck();
  return { rows, groupOf: (runId, cluster) => (g.get(runId, cluster) as number | null | undefined) ?? null };
}
