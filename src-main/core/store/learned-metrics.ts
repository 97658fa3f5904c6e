/**
 * Learned metrics (one per embedding model of the library) and the explicit decisions of a run they are trained from:
 * members the user confirmed, moved, split into a part or made into a person (never members only named with their
 * group), suggestions rejected for a group, and "not the same" pairs of groups; and what the user did with the
 * queues' offers (offer outcomes).
 */
import type { Db } from './db.ts';

export interface LearnedMetricRow {
  model: string; runId: number | null; d: number; p: number; k: number;
  mean: Buffer; basis: Buffer; w: Buffer;
  pairs: number; heldOut: number; before: number | null; after: number | null;
  modelRevision: number; version: number; createdAt: number;
}

export function learnedMetricsRepo(db: Db) {
  return {
    get(model: string): LearnedMetricRow | undefined {
      return db.prepare(`SELECT model, run_id AS runId, d, p, k, mean, basis, w, pairs, held_out AS heldOut, before, after,
        model_revision AS modelRevision, version, created_at AS createdAt FROM learned_metrics WHERE model = ?`).get(model) as LearnedMetricRow | undefined;
    },
    /** the stored metric's version and the revision of the model it was trained at (cheap: no blobs) */
    stamp(model: string): { version: number; modelRevision: number; runId: number | null; heldOut: number; before: number | null; after: number | null } | undefined {
      return db.prepare('SELECT version, model_revision AS modelRevision, run_id AS runId, held_out AS heldOut, before, after FROM learned_metrics WHERE model = ?').get(model) as { version: number; modelRevision: number; runId: number | null; heldOut: number; before: number | null; after: number | null } | undefined;
    },
    /** stores a metric in place of the model's previous one (its version one higher) */
    put(r: Omit<LearnedMetricRow, 'version'>): number {
      const prev = (db.prepare('SELECT version FROM learned_metrics WHERE model = ?').pluck().get(r.model) as number | undefined) ?? 0;
      db.prepare(`INSERT OR REPLACE INTO learned_metrics (model, run_id, d, p, k, mean, basis, w, pairs, held_out, before, after, model_revision, version, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.model, r.runId, r.d, r.p, r.k, r.mean, r.basis, r.w, r.pairs, r.heldOut, r.before, r.after, r.modelRevision, prev + 1, r.createdAt);
      return prev + 1;
    },
    drop(model: string): void { db.prepare('DELETE FROM learned_metrics WHERE model = ?').run(model); },
  };
}

/** A run's members the user placed explicitly, with the cluster each is in now. */
export function explicitMembers(db: Db, runId: number): Array<{ item: number; cluster: number }> {
  return db.prepare(`SELECT s.item_id AS item, a.cluster FROM item_states s JOIN assignments a ON a.run_id = s.run_id AND a.item_id = s.item_id
    WHERE s.run_id = ? AND s.how IN ('confirmed', 'moved', 'split', 'person') AND a.cluster >= 0 ORDER BY s.item_id`).all(runId) as Array<{ item: number; cluster: number }>;
}

/** Suggestions the user rejected for a cluster of the run. */
export function rejectedPairs(db: Db, runId: number): Array<{ item: number; cluster: number }> {
  return db.prepare('SELECT item_id AS item, cluster FROM suggestion_rejects WHERE run_id = ? ORDER BY cluster, item_id').all(runId) as Array<{ item: number; cluster: number }>;
}

/** Pairs of the run's clusters the user said are not the same. */
export function notSamePairs(db: Db, runId: number): Array<{ a: number; b: number }> {
  return db.prepare('SELECT a, b FROM merge_rejects WHERE run_id = ?').all(runId) as Array<{ a: number; b: number }>;
}

/** How many explicit decisions a run holds (members placed explicitly + rejections): what background learning watches. */
export function explicitDecisionCount(db: Db, runId: number): number {
  const a = db.prepare(`SELECT COUNT(*) FROM item_states WHERE run_id = ? AND how IN ('confirmed', 'moved', 'split', 'person')`).pluck().get(runId) as number;
  const b = db.prepare('SELECT COUNT(*) FROM suggestion_rejects WHERE run_id = ?').pluck().get(runId) as number;
  return a + b;
}

/** What the user did with a queue's offers (the queues' learned margin is fitted to them). */
export function offerOutcomesRepo(db: Db) {
  return {
    /** the outcomes of one edit (a confirm or a rejection of offers) */
    add(editId: number, rows: ReadonlyArray<{ margin: number; accepted: boolean; learned: boolean }>): void {
      const ins = db.prepare('INSERT INTO offer_outcomes (edit_id, margin, accepted, learned) VALUES (?, ?, ?, ?)');
      db.transaction(() => { for (const r of rows) ins.run(editId, r.margin, r.accepted ? 1 : 0, r.learned ? 1 : 0); })();
    },
    /** a run's outcomes, of edits not undone */
    ofRun(runId: number): Array<{ margin: number; accepted: boolean; learned: boolean }> {
      const rows = db.prepare(`SELECT o.margin, o.accepted, o.learned FROM offer_outcomes o JOIN edits e ON e.id = o.edit_id
        WHERE e.run_id = ? AND e.undone = 0 ORDER BY o.rowid`).all(runId) as Array<{ margin: number; accepted: number; learned: number }>;
      return rows.map((r) => ({ margin: r.margin, accepted: r.accepted === 1, learned: r.learned === 1 }));
    },
  };
}
