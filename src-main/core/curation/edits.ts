/**
 * The labeling session: edits to a run (rename, merge, split, move, reject, accept) are applied to its assignments and
 * clusters at once and written to an edit log in the same transaction, with what is needed to undo them. Undo and redo
 * walk that log, so closing and reopening the library restores the session exactly, undo history included.
 */
import { AppError, badArg } from '../../common/errors.ts';
import type { EditOp, EditResult, HistoryInfo, ItemKind } from '../../common/types.ts';
import { blobVec, vecBlob } from '../store/embeddings.ts';
import type { Db } from '../store/db.ts';
import { getRun } from '../store/runs.ts';
import { clusterStats } from '../../algo/cluster/postprocess.ts';
import { joinGroups, syncRunGroups } from './groups.ts';

/** The forward op plus what undoing it needs. */
interface LoggedEdit {
  op: EditOp;
  /** items and the cluster each was in before */
  moves?: Array<[number, number]>;
  /** names / curated flags before */
  before?: Array<{ cluster: number; name: string | null; curated: number }>;
  /** clusters the edit created (undo deletes them) */
  created?: number[];
  /** the edit in words, as it was applied ("rename 'cluster 6' → 'Anna'") */
  description?: string;
  /** items the edit added to the run (assign) and the cluster each joined (-1: unassigned, for review) */
  added?: Array<[number, number]>;
  /** issue 19: a person's hidden flag and avatar before (on the cluster and on its group) */
  person?: { cluster: number; hidden: number; avatar: number | null; group: number | null; gHidden: number | null; gAvatar: number | null };
  /** where each moved item went (split-parts, confirm): redo replays these */
  targets?: Array<[number, number]>;
  /** names given to clusters the edit created (split-parts) */
  names?: Array<[number, string]>;
  /** rows the edit remembered (reject-suggestions, not-same, not-face): undo forgets them */
  remembered?: { rejects?: Array<[number, number, number | null]>; notSame?: [number, number, number | null, number | null]; notFaces?: Array<{ face: number; hash: string; box: [number, number, number, number] }> };
}

const quote = (s: string) => `'${s.length > 60 ? `${s.slice(0, 57)}...` : s}'`;

/** A cluster as a person reads it: its name, else "cluster N" (noise for -1). */
function clusterLabel(db: Db, runId: number, c: number): string {
  if (c < 0) return 'noise';
  const name = db.prepare('SELECT name FROM clusters WHERE run_id = ? AND cluster = ?').pluck().get(runId, c) as string | null | undefined;
  return quote(name || `cluster ${c}`);
}

const listOf = (xs: string[], max = 3) => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The edit in words, from the run as it is BEFORE the edit is applied (names are the names then). Shown by undo/redo
 * toasts and the history panel: "rename 'cluster 6' → 'Anna'", "merge 'Anna', 'cluster 3' into 'Anna'".
 */
export function describeEdit(db: Db, runId: number, op: EditOp): string {
  const L = (c: number) => clusterLabel(db, runId, c);
  switch (op.type) {
    case 'rename': return `rename ${L(op.cluster)} → ${quote(op.name.trim() || `cluster ${op.cluster}`)}`;
    case 'accept': return op.curated === false ? `unmark ${L(op.cluster)} as curated` : `accept ${L(op.cluster)} as curated`;
    case 'merge': { const into = op.into ?? op.clusters[0]; return `merge ${listOf(op.clusters.filter((c) => c !== into).map(L))} into ${L(into)}`; }
    case 'split': return `split ${L(op.cluster)} in ${op.k ?? 2}`;
    case 'move': return `move ${plural(op.items.length, 'item')} to ${op.to === 'new' ? (op.name ? `a new cluster ${quote(op.name)}` : 'a new cluster') : L(op.to)}`;
    case 'reject': return `reject ${plural(op.items.length, 'item')} (to noise)`;
    case 'names': {
      const named = op.clusters.filter((c) => c.name !== undefined).length;
      const cur = op.clusters.filter((c) => c.curated !== undefined).length;
      const what = [named ? `name ${plural(named, 'group')}` : '', cur ? `${named ? 'mark' : 'mark'} ${plural(cur, 'group')} ${op.clusters.some((c) => c.curated === false) ? 'curated/uncurated' : 'curated'}` : ''].filter(Boolean).join(', ');
      return `${op.source ? `${op.source}: ` : ''}${what || 'no change'}`;
    }
    case 'assign': return `assign ${plural(op.items.length, 'new item')}`;
    case 'person': return [op.hidden === undefined ? '' : `${op.hidden ? 'hide' : 'unhide'} ${L(op.cluster)}`, op.avatar === undefined ? '' : `${op.avatar === null ? 'reset the avatar of' : `choose face ${op.avatar} as the avatar of`} ${L(op.cluster)}`].filter(Boolean).join(', ') || `no change to ${L(op.cluster)}`;
    case 'confirm': return `confirm ${plural(op.items.length, 'face')} as ${L(op.cluster)}`;
    case 'reject-suggestions': return `reject ${plural(op.items.length, 'suggestion')} for ${L(op.cluster)}`;
    case 'not-same': return `${L(op.clusters[0])} and ${L(op.clusters[1])} are not the same`;
    case 'split-parts': return `split ${L(op.cluster)} in ${op.parts.length + (op.parts.length === 1 ? 1 : 0)}${op.parts.some((p) => p.name) ? ` (${listOf(op.parts.filter((p) => p.name).map((p) => quote(p.name!)))})` : ''}`;
    case 'not-face': return `mark ${plural(op.items.length, 'face')} as not a face`;
    case 'dedupe': return `keep the best of ${plural(op.groups.length, 'near-duplicate group')}, reject ${plural(op.groups.reduce((n, g) => n + g.reject.length, 0), 'item')}${op.trash ? ' (files to the trash)' : ''}`;
    default: return (op as { type: string }).type;
  }
}

const SAMPLES = 10;

function clusterExists(db: Db, runId: number, c: number): boolean {
  return c === -1 || db.prepare('SELECT 1 FROM clusters WHERE run_id = ? AND cluster = ?').get(runId, c) !== undefined;
}

function nextClusterId(db: Db, runId: number): number {
  return ((db.prepare('SELECT MAX(cluster) FROM clusters WHERE run_id = ?').pluck().get(runId) as number | null) ?? -1) + 1;
}

/**
 * Recomputes size, centroid, mean similarity, top/tail samples and per-member similarity of the given clusters, with
 * the function a clustering run uses for them (algo/cluster/postprocess.ts clusterStats), so an edited cluster's
 * figures are what a run on the same members would store.
 */
export function refreshClusters(db: Db, runId: number, clusters: Iterable<number>): void {
  const run = getRun(db, runId);
  const members = db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck();
  const vecQ = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  const dimQ = db.prepare('SELECT dim FROM models WHERE name = ?').pluck();
  const d = dimQ.get(run.model) as number | undefined;
  const setSim = db.prepare('UPDATE assignments SET sim = ? WHERE run_id = ? AND item_id = ?');
  const upd = db.prepare('UPDATE clusters SET size = ?, mean_sim = ?, centroid = ?, top = ?, tail = ? WHERE run_id = ? AND cluster = ?');
  const del = db.prepare('DELETE FROM clusters WHERE run_id = ? AND cluster = ?');
  let done = 0;
  for (const c of new Set(clusters)) {
    done++;
    if (c < 0) {
      for (const id of members.all(runId, c) as number[]) setSim.run(null, runId, id);
      continue;
    }
    const ids = members.all(runId, c) as number[];
    if (ids.length === 0) { del.run(runId, c); continue; }
    if (!d) continue;
    // the members' vectors as stored (a missing one counts as a zero row: similarity 0)
    const X = new Float32Array(ids.length * d);
    ids.forEach((id, i) => {
      const b = vecQ.get(run.model, id) as Buffer | undefined;
      if (b) X.set(blobVec(b, d), i * d);
    });
    const st = clusterStats(X, ids.length, d, new Int32Array(ids.length), { samples: SAMPLES });
    const toItems = (xs: Array<{ index: number; sim: number }>) => xs.map((x) => ({ item: ids[x.index], sim: Math.round(x.sim * 1e6) / 1e6 }));
    ids.forEach((id, i) => setSim.run(st.sims[i], runId, id));
    const summary = st.clusters[0];
    upd.run(ids.length, st.meanSims[0], vecBlob(st.centroids.subarray(0, d)), JSON.stringify(toItems(summary.top)), JSON.stringify(toItems(summary.tail)), runId, c);
  }
  // nothing moved (a rename, an accept): the counts are as they were
  if (done === 0) return;
  // the clusters rows hold every non-empty cluster with its size (kept by the loop above); without the model's
  // dimension the sizes were not refreshed, so the members are counted instead
  const k = (d
    ? db.prepare('SELECT COUNT(*) FROM clusters WHERE run_id = ? AND size > 0')
    : db.prepare('SELECT COUNT(*) FROM (SELECT DISTINCT cluster FROM assignments WHERE run_id = ? AND cluster >= 0)')).pluck().get(runId) as number;
  const noise = db.prepare('SELECT COUNT(*) FROM assignments WHERE run_id = ? AND cluster < 0').pluck().get(runId) as number;
  db.prepare('UPDATE runs SET clusters = ?, noise = ? WHERE id = ?').run(k, noise, runId);
}

function applyMoves(db: Db, runId: number, moves: Array<[number, number]>): void {
  const st = db.prepare('UPDATE assignments SET cluster = ? WHERE run_id = ? AND item_id = ?');
  for (const [item, to] of moves) st.run(to, runId, item);
}

function ensureCluster(db: Db, runId: number, c: number, name: string | null = null): void {
  if (c < 0) return;
  db.prepare('INSERT OR IGNORE INTO clusters (run_id, cluster, size, name) VALUES (?, ?, 0, ?)').run(runId, c, name);
}

function itemsIn(db: Db, runId: number, items: number[]): Map<number, number> {
  const q = db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck();
  const m = new Map<number, number>();
  for (const it of items) {
    if (!Number.isInteger(it)) throw badArg('items', `not an item id: ${JSON.stringify(it)}`);
    const c = q.get(runId, it) as number | undefined;
    if (c === undefined) throw new AppError('NOT_FOUND', `item ${it} is not in run ${runId}`);
    m.set(it, c);
  }
  return m;
}

/**
 * Applies one edit. `splitLabels` (for 'split') are the new sub-cluster of each member, in the order of
 * `splitItems`: the caller computes them (in a worker) before calling.
 */
export function applyEdit(db: Db, runId: number, op: EditOp, split?: { items: number[]; labels: Int32Array }): EditResult {
  getRun(db, runId);
  return db.transaction((): EditResult => {
    const log: LoggedEdit = { op, description: describeEdit(db, runId, op) };
    const touched = new Set<number>();
    const snapshot = (cs: number[]) => {
      const q = db.prepare('SELECT name, curated FROM clusters WHERE run_id = ? AND cluster = ?');
      log.before = cs.map((c) => {
        const r = q.get(runId, c) as { name: string | null; curated: number } | undefined;
        if (!r) throw new AppError('NOT_FOUND', `cluster ${c} is not in run ${runId}`);
        return { cluster: c, name: r.name, curated: r.curated };
      });
    };
    switch (op.type) {
      case 'rename': {
        snapshot([op.cluster]);
        const name = op.name.trim();
        if (name.length > 200) throw badArg('name', 'at most 200 characters');
        db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(name || null, runId, op.cluster);
        break;
      }
      case 'accept': {
        snapshot([op.cluster]);
        db.prepare('UPDATE clusters SET curated = ? WHERE run_id = ? AND cluster = ?').run(op.curated === false ? 0 : 1, runId, op.cluster);
        break;
      }
      case 'merge': {
        if (!Array.isArray(op.clusters) || op.clusters.length < 2) throw badArg('clusters', 'merge needs at least two clusters');
        const into = op.into ?? op.clusters[0];
        if (into < 0) throw badArg('into', 'cannot merge into noise');
        snapshot([...new Set([into, ...op.clusters])]);
        const moves: Array<[number, number]> = [];
        const q = db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ?').pluck();
        for (const c of op.clusters) {
          if (c === into) continue;
          for (const it of q.all(runId, c) as number[]) moves.push([it, c]);
          touched.add(c);
        }
        applyMoves(db, runId, moves.map(([it]) => [it, into]));
        log.moves = moves;
        touched.add(into);
        // the merged group keeps a name if the target had none
        const named = log.before!.find((b) => b.name && b.cluster !== into);
        if (!log.before!.find((b) => b.cluster === into)?.name && named) db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(named.name, runId, into);
        break;
      }
      case 'move':
      case 'reject': {
        if (!Array.isArray(op.items) || op.items.length === 0) throw badArg('items', 'give at least one item');
        let to = op.type === 'reject' ? -1 : op.to;
        const created: number[] = [];
        if (op.type === 'move' && to === 'new') {
          to = nextClusterId(db, runId);
          ensureCluster(db, runId, to, op.name ?? null);
          created.push(to);
        }
        if (typeof to !== 'number' || !clusterExists(db, runId, to)) throw new AppError('NOT_FOUND', `cluster ${String(to)} is not in run ${runId}`);
        const from = itemsIn(db, runId, op.items);
        const moves: Array<[number, number]> = [];
        for (const [it, c] of from) if (c !== to) { moves.push([it, c]); touched.add(c); }
        // a source cluster the move empties is deleted with its name and curated flag: keep them for undo
        snapshot([...new Set(moves.map(([, c]) => c))].filter((c) => c >= 0));
        applyMoves(db, runId, moves.map(([it]) => [it, to as number]));
        log.moves = moves;
        log.created = created;
        log.op = { ...op, to } as EditOp;
        touched.add(to);
        break;
      }
      case 'dedupe': {
        if (!Array.isArray(op.groups) || op.groups.length === 0) throw badArg('groups', 'give at least one group');
        const all = new Set<number>();
        const rejects: number[] = [];
        for (const g of op.groups) {
          for (const it of [g.keep, ...g.reject]) {
            if (all.has(it)) throw badArg('groups', `item ${it} is in more than one place of the groups`);
            all.add(it);
          }
          rejects.push(...g.reject);
        }
        // kept items must be in the run too (a group is about the run's items)
        itemsIn(db, runId, op.groups.map((g) => g.keep));
        const from = itemsIn(db, runId, rejects);
        const moves: Array<[number, number]> = [];
        for (const [it, c] of from) if (c !== -1) { moves.push([it, c]); touched.add(c); }
        snapshot([...new Set(moves.map(([, c]) => c))].filter((c) => c >= 0));
        applyMoves(db, runId, moves.map(([it]) => [it, -1]));
        log.moves = moves;
        touched.add(-1);
        break;
      }
      case 'split': {
        if (!split) throw badArg('split', 'the split labels were not computed');
        snapshot([op.cluster]);
        // the parts were computed (in a worker) from the members as they were then: if another edit changed the
        // cluster meanwhile, applying them would undo that edit's moves; refuse instead
        const current = db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, op.cluster) as number[];
        const planned = [...split.items].sort((a, b) => a - b);
        if (current.length !== planned.length || current.some((it, i) => it !== planned[i])) {
          throw new AppError('CONFLICT', `cluster ${op.cluster} changed while it was being split; split it again`);
        }
        const base = nextClusterId(db, runId);
        const groups = [...new Set(Array.from(split.labels))].filter((l) => l >= 0).sort((a, b) => a - b);
        if (groups.length < 2) throw new AppError('CONFLICT', `cluster ${op.cluster} did not split: its members form one group`);
        // the largest part keeps the cluster id (and name); the others become new clusters
        const sizes = groups.map((g) => Array.from(split.labels).filter((l) => l === g).length);
        const keep = groups[sizes.indexOf(Math.max(...sizes))];
        const newId = new Map<number, number>();
        let next = base;
        for (const g of groups) if (g !== keep) newId.set(g, next++);
        const created = [...newId.values()];
        for (const c of created) ensureCluster(db, runId, c, null);
        const moves: Array<[number, number]> = [];
        split.items.forEach((it, i) => {
          const l = split.labels[i];
          const to = l < 0 ? -1 : l === keep ? op.cluster : newId.get(l)!;
          if (to !== op.cluster) moves.push([it, op.cluster]);
          if (to !== op.cluster) db.prepare('UPDATE assignments SET cluster = ? WHERE run_id = ? AND item_id = ?').run(to, runId, it);
        });
        log.moves = moves;
        log.created = created;
        (log as LoggedEdit & { splitTargets?: Array<[number, number]> }).splitTargets = split.items
          .map((it, i): [number, number] => [it, split.labels[i] < 0 ? -1 : split.labels[i] === keep ? op.cluster : newId.get(split.labels[i])!])
          .filter(([, to]) => to !== op.cluster);
        touched.add(op.cluster); touched.add(-1);
        for (const c of created) touched.add(c);
        break;
      }
      case 'person': {
        snapshot([op.cluster]);
        const r = db.prepare('SELECT c.hidden, c.avatar, c.group_id, g.hidden AS gh, g.avatar AS ga FROM clusters c LEFT JOIN groups g ON g.id = c.group_id WHERE c.run_id = ? AND c.cluster = ?')
          .get(runId, op.cluster) as { hidden: number; avatar: number | null; group_id: number | null; gh: number | null; ga: number | null };
        if (op.avatar !== undefined && op.avatar !== null) {
          const c = db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, op.avatar) as number | undefined;
          if (c !== op.cluster) throw badArg('avatar', `face ${op.avatar} is not in cluster ${op.cluster} of run ${runId}`);
        }
        log.person = { cluster: op.cluster, hidden: r.hidden, avatar: r.avatar, group: r.group_id, gHidden: r.gh, gAvatar: r.ga };
        applyPerson(db, runId, op);
        break;
      }
      case 'confirm': {
        if (!Array.isArray(op.items) || op.items.length === 0) throw badArg('items', 'give at least one face');
        if (op.cluster < 0 || !clusterExists(db, runId, op.cluster)) throw new AppError('NOT_FOUND', `cluster ${op.cluster} is not in run ${runId}`);
        const model = getRun(db, runId).model;
        const cur = db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck();
        const emb = db.prepare('SELECT 1 FROM embeddings WHERE model = ? AND item_id = ?').pluck();
        const moves: Array<[number, number]> = [], added: Array<[number, number]> = [];
        for (const it of new Set(op.items)) {
          const c = cur.get(runId, it) as number | undefined;
          if (c === undefined) {
            if (!emb.get(model, it)) throw new AppError('NOT_FOUND', `item ${it} has no ${model} embedding: it cannot join run ${runId}`);
            added.push([it, op.cluster]);
          } else if (c !== op.cluster) { moves.push([it, c]); touched.add(c); }
        }
        snapshot([...new Set([op.cluster, ...moves.map(([, c]) => c)])].filter((c) => c >= 0));
        if (added.length) insertAdded(db, runId, added);
        applyMoves(db, runId, moves.map(([it]) => [it, op.cluster]));
        log.moves = moves;
        log.added = added;
        log.targets = moves.map(([it]) => [it, op.cluster]);
        touched.add(op.cluster);
        break;
      }
      case 'reject-suggestions': {
        if (!Array.isArray(op.items) || op.items.length === 0) throw badArg('items', 'give at least one face');
        if (op.cluster < 0 || !clusterExists(db, runId, op.cluster)) throw new AppError('NOT_FOUND', `cluster ${op.cluster} is not in run ${runId}`);
        const g = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck().get(runId, op.cluster) as number | null;
        const ins = db.prepare('INSERT OR IGNORE INTO suggestion_rejects (run_id, cluster, item_id, group_id, created_at) VALUES (?, ?, ?, ?, ?)');
        const rejects: Array<[number, number, number | null]> = [];
        for (const it of new Set(op.items)) if (ins.run(runId, op.cluster, it, g, Date.now()).changes) rejects.push([op.cluster, it, g]);
        log.remembered = { rejects };
        break;
      }
      case 'not-same': {
        const [a, b] = [...op.clusters].sort((x, y) => x - y) as [number, number];
        if (a === b || a < 0) throw badArg('clusters', 'give two different clusters');
        for (const c of [a, b]) if (!clusterExists(db, runId, c)) throw new AppError('NOT_FOUND', `cluster ${c} is not in run ${runId}`);
        const gq = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck();
        const ga = gq.get(runId, a) as number | null, gb = gq.get(runId, b) as number | null;
        db.prepare('INSERT OR REPLACE INTO merge_rejects (run_id, a, b, group_a, group_b, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(runId, a, b, ga, gb, Date.now());
        log.remembered = { notSame: [a, b, ga, gb] };
        break;
      }
      case 'split-parts': {
        if (!Array.isArray(op.parts) || op.parts.length === 0) throw badArg('parts', 'give at least one part');
        if (op.cluster < 0) throw badArg('cluster', 'split a cluster, not the noise');
        snapshot([op.cluster]);
        const members = new Set(db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ?').pluck().all(runId, op.cluster) as number[]);
        const seen = new Set<number>();
        for (const [pi, p] of op.parts.entries()) {
          if (!Array.isArray(p.items) || p.items.length === 0) throw badArg(`parts.${pi}.items`, 'a part has at least one item');
          for (const it of p.items) {
            if (seen.has(it)) throw badArg(`parts.${pi}.items`, `item ${it} is in more than one part`);
            if (!members.has(it)) throw new AppError('CONFLICT', `item ${it} is not in cluster ${op.cluster} (any more); preview the split again`);
            seen.add(it);
          }
        }
        // every member placed: the first part keeps the cluster (and its name, unless it is given one); else every part is new
        const keepFirst = seen.size === members.size;
        if (keepFirst && op.parts.length < 2) throw badArg('parts', 'one part holding every member is no split');
        const moves: Array<[number, number]> = [], targets: Array<[number, number]> = [], created: number[] = [], names: Array<[number, string]> = [];
        let next = nextClusterId(db, runId);
        op.parts.forEach((p, pi) => {
          const name = p.name?.trim() || '';
          let to: number;
          if (pi === 0 && keepFirst) {
            to = op.cluster;
            if (name) db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(name, runId, op.cluster);
          } else {
            to = next++;
            ensureCluster(db, runId, to, name || null);
            created.push(to);
            if (name) names.push([to, name]);
          }
          for (const it of p.items) if (to !== op.cluster) { moves.push([it, op.cluster]); targets.push([it, to]); }
        });
        applyMoves(db, runId, targets);
        log.moves = moves; log.targets = targets; log.created = created; log.names = names;
        touched.add(op.cluster);
        for (const c of created) touched.add(c);
        break;
      }
      case 'not-face': {
        if (!Array.isArray(op.items) || op.items.length === 0) throw badArg('items', 'give at least one face');
        if (getRun(db, runId).kind !== 'face') throw badArg('runId', `run ${runId} is not a face run`);
        const fq = db.prepare('SELECT f.x, f.y, f.w, f.h, p.hash FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?');
        const cur = db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck();
        const ins = db.prepare('INSERT INTO not_faces (photo_hash, x, y, w, h, face_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
        const already = db.prepare('SELECT 1 FROM not_faces WHERE face_id = ?').pluck();
        const notFaces: Array<{ face: number; hash: string; box: [number, number, number, number] }> = [];
        const moves: Array<[number, number]> = [];
        for (const it of new Set(op.items)) {
          const f = fq.get(it) as { x: number; y: number; w: number; h: number; hash: string } | undefined;
          if (!f) throw new AppError('NOT_FOUND', `face ${it} does not exist`);
          if (!already.get(it)) {
            ins.run(f.hash, f.x, f.y, f.w, f.h, it, Date.now());
            notFaces.push({ face: it, hash: f.hash, box: [f.x, f.y, f.w, f.h] });
          }
          const c = cur.get(runId, it) as number | undefined;
          if (c !== undefined && c !== -1) { moves.push([it, c]); touched.add(c); }
        }
        snapshot([...new Set(moves.map(([, c]) => c))]);
        applyMoves(db, runId, moves.map(([it]) => [it, -1]));
        log.moves = moves;
        log.targets = moves.map(([it]) => [it, -1]);
        log.remembered = { notFaces };
        touched.add(-1);
        break;
      }
      case 'names': {
        snapshot([...new Set(op.clusters.map((c) => c.cluster))]);
        applyNames(db, runId, op);
        for (const c of op.clusters) touched.add(c.cluster);
        break;
      }
      default:
        throw badArg('op', `unknown edit ${JSON.stringify((op as { type?: unknown }).type)}`);
    }
    refreshClusters(db, runId, touched);
    syncRunGroups(db, runId, [...touched, ...(log.before ?? []).map((b) => b.cluster)]);
    // a new edit ends the redo branch
    db.prepare('DELETE FROM edits WHERE run_id = ? AND undone = 1').run(runId);
    const editId = Number(db.prepare('INSERT INTO edits (run_id, op, created_at) VALUES (?, ?, ?)').run(runId, JSON.stringify(log), Date.now()).lastInsertRowid);
    // renamed / accepted clusters changed too (their figures need no refresh)
    const changed = new Set([...touched, ...(log.before ?? []).map((b) => b.cluster), ...opClusters(op)]);
    touchChanged(db, runId, changed);
    return { editId, op: log.op, clusters: [...changed], history: history(db, runId), description: log.description, runId };
  }).immediate();
}

function applyNames(db: Db, runId: number, op: Extract<EditOp, { type: 'names' }>): void {
  const setName = db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?');
  const setCur = db.prepare('UPDATE clusters SET curated = ? WHERE run_id = ? AND cluster = ?');
  for (const c of op.clusters) {
    if (c.name !== undefined) setName.run(c.name === null ? null : c.name.trim() || null, runId, c.cluster);
    if (c.curated !== undefined) setCur.run(c.curated ? 1 : 0, runId, c.cluster);
  }
}

/** The clusters an op names (a person's flags, remembered suggestions: changed though no member moved). */
function opClusters(op: EditOp): number[] {
  if (op.type === 'person' || op.type === 'reject-suggestions' || op.type === 'confirm' || op.type === 'split-parts') return [op.cluster];
  if (op.type === 'not-same') return [...op.clusters];
  return [];
}

/** When an edit (or its undo/redo) last changed these clusters (People's "recently changed"). */
function touchChanged(db: Db, runId: number, clusters: Iterable<number>): void {
  const st = db.prepare('UPDATE clusters SET changed_at = ? WHERE run_id = ? AND cluster = ?');
  const now = Date.now();
  for (const c of new Set(clusters)) if (c >= 0) st.run(now, runId, c);
}

/** A person's hidden flag and avatar, on the cluster and on its library group (kept across runs). */
function applyPerson(db: Db, runId: number, op: Extract<EditOp, { type: 'person' }>): void {
  const g = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ?').pluck().get(runId, op.cluster) as number | null;
  if (op.hidden !== undefined) {
    db.prepare('UPDATE clusters SET hidden = ? WHERE run_id = ? AND cluster = ?').run(op.hidden ? 1 : 0, runId, op.cluster);
    if (g !== null) db.prepare('UPDATE groups SET hidden = ? WHERE id = ?').run(op.hidden ? 1 : 0, g);
  }
  if (op.avatar !== undefined) {
    db.prepare('UPDATE clusters SET avatar = ? WHERE run_id = ? AND cluster = ?').run(op.avatar, runId, op.cluster);
    if (g !== null) db.prepare('UPDATE groups SET avatar = ? WHERE id = ?').run(op.avatar, g);
  }
}

/** Rows an edit remembered, written again (redo) or forgotten (undo). */
function remember(db: Db, runId: number, r: NonNullable<LoggedEdit['remembered']>, on: boolean): void {
  for (const [c, it, g] of r.rejects ?? []) {
    if (on) db.prepare('INSERT OR IGNORE INTO suggestion_rejects (run_id, cluster, item_id, group_id, created_at) VALUES (?, ?, ?, ?, ?)').run(runId, c, it, g === null ? null : db.prepare('SELECT id FROM groups WHERE id = ?').pluck().get(g) ?? null, Date.now());
    else db.prepare('DELETE FROM suggestion_rejects WHERE run_id = ? AND cluster = ? AND item_id = ?').run(runId, c, it);
  }
  if (r.notSame) {
    const [a, b, ga, gb] = r.notSame;
    const alive = (g: number | null) => (g === null ? null : (db.prepare('SELECT id FROM groups WHERE id = ?').pluck().get(g) as number | undefined) ?? null);
    if (on) db.prepare('INSERT OR REPLACE INTO merge_rejects (run_id, a, b, group_a, group_b, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(runId, a, b, alive(ga), alive(gb), Date.now());
    else db.prepare('DELETE FROM merge_rejects WHERE run_id = ? AND a = ? AND b = ?').run(runId, a, b);
  }
  for (const f of r.notFaces ?? []) {
    if (on) db.prepare('INSERT INTO not_faces (photo_hash, x, y, w, h, face_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(f.hash, ...f.box, db.prepare('SELECT id FROM faces WHERE id = ?').pluck().get(f.face) ?? null, Date.now());
    else db.prepare('DELETE FROM not_faces WHERE photo_hash = ? AND x = ? AND y = ? AND w = ? AND h = ?').run(f.hash, ...f.box);
  }
}

function revert(db: Db, runId: number, log: LoggedEdit): Set<number> {
  const touched = new Set<number>();
  const op = log.op;
  if (log.remembered) remember(db, runId, log.remembered, false);
  if (log.person) {
    const p = log.person;
    db.prepare('UPDATE clusters SET hidden = ?, avatar = ? WHERE run_id = ? AND cluster = ?').run(p.hidden, p.avatar, runId, p.cluster);
    if (p.group !== null) db.prepare('UPDATE groups SET hidden = COALESCE(?, hidden), avatar = ? WHERE id = ?').run(p.gHidden, p.gAvatar, p.group);
    touched.add(p.cluster);
  }
  if (log.added) {
    const del = db.prepare('DELETE FROM assignments WHERE run_id = ? AND item_id = ?');
    for (const [it, c] of log.added) { del.run(runId, it); touched.add(c); }
    setRunSize(db, runId);
  }
  if (log.moves) {
    // items go back where they were; their current cluster is recomputed too
    const cur = db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck();
    for (const [it, from] of log.moves) {
      touched.add(cur.get(runId, it) as number);
      ensureCluster(db, runId, from);
      touched.add(from);
    }
    applyMoves(db, runId, log.moves);
  }
  if (log.before) {
    const st = db.prepare('UPDATE clusters SET name = ?, curated = ? WHERE run_id = ? AND cluster = ?');
    for (const b of log.before) { ensureCluster(db, runId, b.cluster); st.run(b.name, b.curated, runId, b.cluster); touched.add(b.cluster); }
  }
  if (log.created) for (const c of log.created) touched.add(c);
  if (op.type === 'merge' || op.type === 'split') touched.add(op.type === 'merge' ? (op.into ?? op.clusters[0]) : op.cluster);
  return touched;
}

function replay(db: Db, runId: number, log: LoggedEdit): Set<number> {
  const touched = new Set<number>();
  const op = log.op;
  if (log.added) { insertAdded(db, runId, log.added); for (const [, c] of log.added) touched.add(c); }
  if (op.type === 'rename') db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(op.name.trim() || null, runId, op.cluster);
  if (op.type === 'accept') db.prepare('UPDATE clusters SET curated = ? WHERE run_id = ? AND cluster = ?').run(op.curated === false ? 0 : 1, runId, op.cluster);
  if (op.type === 'names') applyNames(db, runId, op);
  if (log.remembered) remember(db, runId, log.remembered, true);
  if (op.type === 'person') { applyPerson(db, runId, op); touched.add(op.cluster); }
  if (op.type === 'split-parts' && op.parts.length && log.targets) {
    const first = op.parts[0];
    const kept = !log.targets.some(([it]) => it === first.items[0]);
    if (kept && first.name?.trim()) db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(first.name.trim(), runId, op.cluster);
  }
  if (log.moves) {
    const explicit = log.targets ? new Map<number, number>(log.targets) : null;
    const target = (it: number, i: number): number => {
      if (explicit?.has(it)) return explicit.get(it)!;
      if (op.type === 'merge') return op.into ?? op.clusters[0];
      if (op.type === 'move') return op.to as number;
      if (op.type === 'reject' || op.type === 'dedupe') return -1;
      return redoSplitTargets.get(it) ?? i;
    };
    const redoSplitTargets = new Map<number, number>((log as LoggedEdit & { splitTargets?: Array<[number, number]> }).splitTargets ?? []);
    const createdNames = new Map<number, string>(log.names ?? []);
    for (const c of log.created ?? []) ensureCluster(db, runId, c, op.type === 'move' ? op.name ?? null : createdNames.get(c) ?? null);
    log.moves.forEach(([it, from], i) => {
      touched.add(from);
      const to = target(it, i);
      db.prepare('UPDATE assignments SET cluster = ? WHERE run_id = ? AND item_id = ?').run(to, runId, it);
      touched.add(to);
    });
  }
  if (op.type === 'merge' && log.before) {
    const into = op.into ?? op.clusters[0];
    const named = log.before.find((b) => b.name && b.cluster !== into);
    if (!log.before.find((b) => b.cluster === into)?.name && named) db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(named.name, runId, into);
  }
  for (const b of log.before ?? []) touched.add(b.cluster);
  return touched;
}

/** The clusters that received items, updated by the new members only (see applyAssign). */
function refreshAdded(db: Db, runId: number, added: Array<[number, number]>): void {
  const run = getRun(db, runId);
  const d = db.prepare('SELECT dim FROM models WHERE name = ?').pluck().get(run.model) as number | undefined;
  const per = new Map<number, number[]>();
  for (const [it, c] of added) if (c >= 0) { const l = per.get(c) ?? []; l.push(it); per.set(c, l); }
  const vecQ = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  const cq = db.prepare('SELECT size, mean_sim, centroid FROM clusters WHERE run_id = ? AND cluster = ?');
  const upd = db.prepare('UPDATE clusters SET size = ?, mean_sim = ?, centroid = ? WHERE run_id = ? AND cluster = ?');
  const setSim = db.prepare('UPDATE assignments SET sim = ? WHERE run_id = ? AND item_id = ?');
  for (const [c, items] of per) {
    const row = cq.get(runId, c) as { size: number; mean_sim: number | null; centroid: Buffer | null } | undefined;
    if (!row || !d) continue;
    const cen = row.centroid ? blobVec(row.centroid, d) : new Float32Array(d);
    const sum = new Float64Array(d);
    for (let j = 0; j < d; j++) sum[j] = cen[j] * row.size;
    const vs = items.map((it) => { const b = vecQ.get(run.model, it) as Buffer | undefined; return b ? unit(blobVec(b, d)) : new Float32Array(d); });
    for (const v of vs) for (let j = 0; j < d; j++) sum[j] += v[j];
    const next = unit(Float32Array.from(sum));
    let simSum = (row.mean_sim ?? 0) * row.size;
    items.forEach((it, i) => { let s = 0; for (let j = 0; j < d; j++) s += vs[i][j] * next[j]; simSum += s; setSim.run(s, runId, it); });
    const size = row.size + items.length;
    upd.run(size, simSum / size, vecBlob(next), runId, c);
  }
  const counts = db.prepare(`SELECT COUNT(*) FILTER (WHERE cluster < 0) AS noise FROM assignments WHERE run_id = ?`).get(runId) as { noise: number };
  db.prepare('UPDATE runs SET noise = ? WHERE id = ?').run(counts.noise, runId);
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const r = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < v.length; j++) v[j] *= r;
  return v;
}

function setRunSize(db: Db, runId: number): void {
  db.prepare('UPDATE runs SET n = (SELECT COUNT(*) FROM assignments WHERE run_id = ?) WHERE id = ?').run(runId, runId);
}

function insertAdded(db: Db, runId: number, added: Array<[number, number]>): void {
  const ins = db.prepare('INSERT OR REPLACE INTO assignments (run_id, item_id, cluster, original, sim, prob, outlier, added_at) VALUES (?, ?, ?, -1, NULL, NULL, NULL, ?)');
  const now = Date.now();
  for (const [it, c] of added) { if (c >= 0) ensureCluster(db, runId, c); ins.run(runId, it, c, now); }
  setRunSize(db, runId);
}

/**
 * Adds new items to a run as one edit (undo takes them out of the run again): each joins its cluster, or the run's
 * unassigned items (-1, for review). Existing members, names and curated marks are left as they are.
 */
export function applyAssign(db: Db, runId: number, items: number[], to: number[]): EditResult {
  getRun(db, runId);
  if (items.length !== to.length) throw badArg('to', `${to.length} targets for ${items.length} items`);
  return db.transaction((): EditResult => {
    const inRun = db.prepare('SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ?').pluck();
    for (const it of items) if (inRun.get(runId, it)) throw new AppError('CONFLICT', `item ${it} is already in run ${runId}`);
    for (const c of new Set(to)) if (!clusterExists(db, runId, c)) throw new AppError('NOT_FOUND', `cluster ${c} is not in run ${runId}`);
    const added = items.map((it, i): [number, number] => [it, to[i]]);
    const op: EditOp = { type: 'assign', items, to };
    const log: LoggedEdit = { op, added };
    insertAdded(db, runId, added);
    const touched = new Set(to);
    // cost grows with the new items: sizes, centroids and the new members' similarities are updated incrementally
    // (top and tail samples stay as they were); each new member joins its cluster's library group
    refreshAdded(db, runId, added);
    joinGroups(db, runId, added);
    db.prepare('DELETE FROM edits WHERE run_id = ? AND undone = 1').run(runId);
    const editId = Number(db.prepare('INSERT INTO edits (run_id, op, created_at) VALUES (?, ?, ?)').run(runId, JSON.stringify(log), Date.now()).lastInsertRowid);
    return { editId, op, clusters: [...touched], history: history(db, runId) };
  }).immediate();
}

export function undo(db: Db, runId: number): EditResult | null {
  getRun(db, runId);
  return db.transaction(() => {
    const row = db.prepare('SELECT id, op FROM edits WHERE run_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1').get(runId) as { id: number; op: string } | undefined;
    if (!row) return null;
    const log = JSON.parse(row.op) as LoggedEdit;
    const touched = revert(db, runId, log);
    refreshClusters(db, runId, touched);
    syncRunGroups(db, runId, [...touched, ...(log.before ?? []).map((b) => b.cluster)]);
    db.prepare('UPDATE edits SET undone = 1 WHERE id = ?').run(row.id);
    touchChanged(db, runId, [...touched, ...opClusters(log.op)]);
    return { editId: row.id, op: log.op, clusters: [...touched], history: history(db, runId), description: log.description ?? log.op.type, runId };
  }).immediate();
}

export function redo(db: Db, runId: number): EditResult | null {
  getRun(db, runId);
  return db.transaction(() => {
    const row = db.prepare('SELECT id, op FROM edits WHERE run_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1').get(runId) as { id: number; op: string } | undefined;
    if (!row) return null;
    const log = JSON.parse(row.op) as LoggedEdit;
    const touched = replay(db, runId, log);
    refreshClusters(db, runId, touched);
    syncRunGroups(db, runId, [...touched, ...(log.before ?? []).map((b) => b.cluster)]);
    db.prepare('UPDATE edits SET undone = 0 WHERE id = ?').run(row.id);
    touchChanged(db, runId, [...touched, ...opClusters(log.op)]);
    return { editId: row.id, op: log.op, clusters: [...touched], history: history(db, runId), description: log.description ?? log.op.type, runId };
  }).immediate();
}

export function history(db: Db, runId: number): HistoryInfo {
  const rows = db.prepare('SELECT id, op, undone, created_at FROM edits WHERE run_id = ? ORDER BY id').all(runId) as Array<{ id: number; op: string; undone: number; created_at: number }>;
  return {
    runId,
    canUndo: rows.some((r) => !r.undone),
    canRedo: rows.some((r) => r.undone),
    edits: rows.map((r) => { const l = JSON.parse(r.op) as LoggedEdit; return { id: r.id, op: l.op, undone: !!r.undone, at: r.created_at, description: l.description ?? l.op.type }; }),
  };
}

/** Names and curated flags carried from the previous run of the same model, matched by member overlap. */
export function carryOver(db: Db, newRunId: number): { carried: number; from: number | null } {
  const run = getRun(db, newRunId);
  const prev = db.prepare('SELECT id FROM runs WHERE model = ? AND id < ? ORDER BY id DESC LIMIT 1').pluck().get(run.model, newRunId) as number | undefined;
  if (prev === undefined) return { carried: 0, from: null };
  const named = db.prepare('SELECT cluster, name, curated, size FROM clusters WHERE run_id = ? AND (name IS NOT NULL OR curated = 1) ORDER BY size DESC').all(prev) as Array<{ cluster: number; name: string | null; curated: number; size: number }>;
  if (named.length === 0) return { carried: 0, from: prev };
  const overlap = db.prepare(`SELECT b.cluster AS c, COUNT(*) AS n FROM assignments a JOIN assignments b ON b.item_id = a.item_id AND b.run_id = ?
    WHERE a.run_id = ? AND a.cluster = ? AND b.cluster >= 0 GROUP BY b.cluster ORDER BY n DESC LIMIT 1`);
  const sizeQ = db.prepare('SELECT size FROM clusters WHERE run_id = ? AND cluster = ?').pluck();
  // a cluster a library group already named (or holds) keeps that name
  const linkedQ = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ? AND group_id IS NOT NULL').pluck();
  const set = db.prepare('UPDATE clusters SET name = ?, curated = ? WHERE run_id = ? AND cluster = ?');
  const taken = new Set<number>();
  let carried = 0;
  for (const o of named) {
    const best = overlap.get(newRunId, prev, o.cluster) as { c: number; n: number } | undefined;
    if (!best || taken.has(best.c) || linkedQ.get(newRunId, best.c)) continue;
    const newSize = sizeQ.get(newRunId, best.c) as number;
    // the same group: most of the old members are there, and they are most of the new cluster
    if (best.n / o.size < 0.5 || best.n / newSize < 0.5) continue;
    taken.add(best.c);
    set.run(o.name, o.curated, newRunId, best.c);
    carried++;
  }
  return { carried, from: prev };
}

export type { ItemKind };
