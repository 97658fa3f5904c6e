/**
 * The edit engine's rows: the edit log, and the rows an edit reads and writes (a run's assignments, its clusters'
 * names and flags, a library group's person flags, the remembered rejections and not-a-face boxes). Every statement of
 * core/curation/edit/ is here; statements are prepared once per connection.
 */
import type Database from 'better-sqlite3';
import type { Db } from './db.ts';

/** A cluster's fields an edit sets (name, curated flag, a person's hidden flag and avatar face). */
export interface ClusterFields { name?: string | null; curated?: number; hidden?: number; avatar?: number | null }
/** A library group's person fields. */
export interface GroupFields { hidden?: number | null; avatar?: number | null }
export interface EditLogRow { id: number; op: string; undone: number; created_at: number }
export interface FaceBox { x: number; y: number; w: number; h: number; hash: string }

type S = Database.Statement;

function statements(db: Db) {
  const p = (sql: string): S => db.prepare(sql);
  return {
    // the log
    lastDone: p('SELECT id, op FROM edits WHERE run_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1'),
    firstUndone: p('SELECT id, op FROM edits WHERE run_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1'),
    setUndone: p('UPDATE edits SET undone = ? WHERE id = ?'),
    dropRedo: p('DELETE FROM edits WHERE run_id = ? AND undone = 1'),
    append: p('INSERT INTO edits (run_id, op, created_at) VALUES (?, ?, ?)'),
    list: p('SELECT id, op, undone, created_at FROM edits WHERE run_id = ? ORDER BY id'),
    // clusters
    clusterName: p('SELECT name FROM clusters WHERE run_id = ? AND cluster = ?').pluck(),
    clusterRow: p('SELECT name, curated, hidden, avatar, group_id FROM clusters WHERE run_id = ? AND cluster = ?'),
    maxCluster: p('SELECT MAX(cluster) FROM clusters WHERE run_id = ?').pluck(),
    ensureCluster: p('INSERT OR IGNORE INTO clusters (run_id, cluster, size, name) VALUES (?, ?, 0, ?)'),
    setName: p('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?'),
    setCurated: p('UPDATE clusters SET curated = ? WHERE run_id = ? AND cluster = ?'),
    setHidden: p('UPDATE clusters SET hidden = ? WHERE run_id = ? AND cluster = ?'),
    setAvatar: p('UPDATE clusters SET avatar = ? WHERE run_id = ? AND cluster = ?'),
    setChanged: p('UPDATE clusters SET changed_at = ? WHERE run_id = ? AND cluster = ?'),
    // groups
    groupRow: p('SELECT hidden, avatar FROM groups WHERE id = ?'),
    groupAlive: p('SELECT id FROM groups WHERE id = ?').pluck(),
    setGroupHidden: p('UPDATE groups SET hidden = COALESCE(?, hidden) WHERE id = ?'),
    setGroupAvatar: p('UPDATE groups SET avatar = ? WHERE id = ?'),
    // assignments
    clusterOf: p('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck(),
    members: p('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck(),
    moveItem: p('UPDATE assignments SET cluster = ? WHERE run_id = ? AND item_id = ?'),
    addItem: p('INSERT OR REPLACE INTO assignments (run_id, item_id, cluster, original, sim, prob, outlier, added_at) VALUES (?, ?, ?, -1, NULL, NULL, NULL, ?)'),
    dropItem: p('DELETE FROM assignments WHERE run_id = ? AND item_id = ?'),
    runSize: p('UPDATE runs SET n = (SELECT COUNT(*) FROM assignments WHERE run_id = ?) WHERE id = ?'),
    hasEmbedding: p('SELECT 1 FROM embeddings WHERE model = ? AND item_id = ?').pluck(),
    // remembered rows
    hasReject: p('SELECT 1 FROM suggestion_rejects WHERE run_id = ? AND cluster = ? AND item_id = ?').pluck(),
    addReject: p('INSERT OR IGNORE INTO suggestion_rejects (run_id, cluster, item_id, group_id, created_at) VALUES (?, ?, ?, ?, ?)'),
    dropReject: p('DELETE FROM suggestion_rejects WHERE run_id = ? AND cluster = ? AND item_id = ?'),
    addNotSame: p('INSERT OR REPLACE INTO merge_rejects (run_id, a, b, group_a, group_b, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    dropNotSame: p('DELETE FROM merge_rejects WHERE run_id = ? AND a = ? AND b = ?'),
    faceBox: p('SELECT f.x, f.y, f.w, f.h, p.hash FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?'),
    faceAlive: p('SELECT id FROM faces WHERE id = ?').pluck(),
    isNotFace: p('SELECT 1 FROM not_faces WHERE face_id = ?').pluck(),
    addNotFace: p('INSERT INTO not_faces (photo_hash, x, y, w, h, face_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    dropNotFace: p('DELETE FROM not_faces WHERE photo_hash = ? AND x = ? AND y = ? AND w = ? AND h = ?'),
  };
}

export type EditsRepo = ReturnType<typeof makeRepo>;

function makeRepo(db: Db) {
  const s = statements(db);
  const alive = (g: number | null) => (g === null ? null : (s.groupAlive.get(g) as number | undefined) ?? null);
  return {
    // --- the log ---
    lastDone: (runId: number) => s.lastDone.get(runId) as { id: number; op: string } | undefined,
    firstUndone: (runId: number) => s.firstUndone.get(runId) as { id: number; op: string } | undefined,
    setUndone: (id: number, undone: boolean) => { s.setUndone.run(undone ? 1 : 0, id); },
    /** a new edit ends the redo branch */
    dropRedo: (runId: number) => { s.dropRedo.run(runId); },
    append: (runId: number, json: string, at: number) => Number(s.append.run(runId, json, at).lastInsertRowid),
    list: (runId: number) => s.list.all(runId) as EditLogRow[],

    // --- clusters ---
    clusterName: (runId: number, c: number) => s.clusterName.get(runId, c) as string | null | undefined,
    cluster: (runId: number, c: number) => s.clusterRow.get(runId, c) as { name: string | null; curated: number; hidden: number; avatar: number | null; group_id: number | null } | undefined,
    clusterExists: (runId: number, c: number) => c === -1 || s.clusterRow.get(runId, c) !== undefined,
    nextCluster: (runId: number) => ((s.maxCluster.get(runId) as number | null) ?? -1) + 1,
    ensureCluster: (runId: number, c: number, name: string | null = null) => { if (c >= 0) s.ensureCluster.run(runId, c, name); },
    /** writes the fields given (absent ones stay) */
    setCluster(runId: number, c: number, f: ClusterFields): void {
      if (f.name !== undefined) s.setName.run(f.name, runId, c);
      if (f.curated !== undefined) s.setCurated.run(f.curated, runId, c);
      if (f.hidden !== undefined) s.setHidden.run(f.hidden, runId, c);
      if (f.avatar !== undefined) s.setAvatar.run(f.avatar, runId, c);
    },
    /** when an edit (or its undo/redo) last changed these clusters (People's "recently changed") */
    touchChanged(runId: number, clusters: Iterable<number>, at: number): void {
      for (const c of new Set(clusters)) if (c >= 0) s.setChanged.run(at, runId, c);
    },

    // --- groups ---
    group: (g: number) => s.groupRow.get(g) as { hidden: number; avatar: number | null } | undefined,
    setGroup(g: number, f: GroupFields): void {
      if (f.hidden !== undefined) s.setGroupHidden.run(f.hidden, g);
      if (f.avatar !== undefined) s.setGroupAvatar.run(f.avatar, g);
    },

    // --- assignments ---
    clusterOf: (runId: number, item: number) => s.clusterOf.get(runId, item) as number | undefined,
    members: (runId: number, c: number) => s.members.all(runId, c) as number[],
    moveItem: (runId: number, item: number, to: number) => { s.moveItem.run(to, runId, item); },
    /** an item joins the run (assign, confirm of a face embedded after it) */
    addItem: (runId: number, item: number, to: number, at: number) => { s.addItem.run(runId, item, to, at); },
    dropItem: (runId: number, item: number) => { s.dropItem.run(runId, item); },
    setRunSize: (runId: number) => { s.runSize.run(runId, runId); },
    hasEmbedding: (model: string, item: number) => s.hasEmbedding.get(model, item) !== undefined,

    // --- remembered rows ---
    hasReject: (runId: number, c: number, item: number) => s.hasReject.get(runId, c, item) !== undefined,
    reject(runId: number, c: number, item: number, group: number | null, on: boolean, at: number): void {
      if (on) s.addReject.run(runId, c, item, alive(group), at);
      else s.dropReject.run(runId, c, item);
    },
    notSame(runId: number, a: number, b: number, ga: number | null, gb: number | null, on: boolean, at: number): void {
      if (on) s.addNotSame.run(runId, a, b, alive(ga), alive(gb), at);
      else s.dropNotSame.run(runId, a, b);
    },
    faceBox: (face: number) => s.faceBox.get(face) as FaceBox | undefined,
    isNotFace: (face: number) => s.isNotFace.get(face) !== undefined,
    notFace(face: number, hash: string, box: [number, number, number, number], on: boolean, at: number): void {
      if (on) s.addNotFace.run(hash, ...box, (s.faceAlive.get(face) as number | undefined) ?? null, at);
      else s.dropNotFace.run(hash, ...box);
    },
  };
}

const repos = new WeakMap<Db, EditsRepo>();

/** The edit engine's repository of this connection. */
export function editsRepo(db: Db): EditsRepo {
  let r = repos.get(db);
  if (!r) { r = makeRepo(db); repos.set(db, r); }
  return r;
}
