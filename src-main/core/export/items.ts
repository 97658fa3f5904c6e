/**
 * A run's groups and items as they are now: the labeling session edits `assignments.cluster` (-1 = noise/rejected)
 * and `clusters.name` / `clusters.curated` in place, so everything here reads those tables at export time.
 *
 * Similarity: cosine similarity between an item's embedding and its group's centroid, where the centroid is the mean
 * of the L2-normalized embeddings of the group's *current* members, L2-normalized (the study's definition, as in
 * algo/cluster/postprocess.ts clusterStats). Distance = 1 - similarity (cosine distance). For L2-normalized vectors
 * the euclidean distance is sqrt(2 * distance). Noise items have neither.
 *
 * Memory: one group at a time, two passes over its embeddings (centroid, then similarities): O(d + group size).
 */
import type { Statement } from 'better-sqlite3';
import type { ItemKind, RunInfo } from '../../common/types.ts';
import type { Db } from '../store/db.ts';
import { prepareRunItems, runGroupRows, type RunItemRow } from '../store/export-repo.ts';

export interface Group {
  cluster: number;
  /** clusters.name, or null when unnamed (noise is never named) */
  name: string | null;
  curated: boolean;
  /** current members */
  size: number;
}

export interface ExportItem {
  item: number;
  kind: ItemKind;
  photo: number | null;
  /** the photo file (null when the photo or face row is gone) */
  path: string | null;
  hash: string | null;
  status: string | null;
  box: [number, number, number, number] | null;
  /** faces.thumb cache key */
  thumb: string | null;
  cluster: number;
  similarity: number | null;
  distance: number | null;
}

export interface GroupSelection { curatedOnly?: boolean; includeNoise?: boolean }

/** Groups of a run by current size (largest first), noise last when included. */
export function runGroups(db: Db, runId: number, sel: GroupSelection = {}): Group[] {
  const rows = runGroupRows(db, runId);
  const out: Group[] = [];
  for (const r of rows) {
    const g: Group = { cluster: r.cluster, name: r.cluster < 0 ? null : r.name, curated: r.cluster >= 0 && !!r.curated, size: r.size };
    if (g.cluster < 0) { if (sel.includeNoise && !sel.curatedOnly) out.push({ ...g, cluster: -1 }); continue; }
    if (sel.curatedOnly && !g.curated) continue;
    out.push(g);
  }
  return out;
}


function asF32(b: Buffer): Float32Array {
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  return new Float32Array(new Uint8Array(b).buffer);
}

export class RunReader {
  private stmts = new Map<string, Statement<unknown[]>>();
  constructor(private db: Db, readonly run: RunInfo) {}

  private stmt(noise: boolean): Statement<unknown[]> {
    const k = String(noise);
    let s = this.stmts.get(k);
    if (!s) { s = prepareRunItems(this.db, this.run.kind, noise); this.stmts.set(k, s); }
    return s;
  }

  private iterate(cluster: number): IterableIterator<RunItemRow> {
    const noise = cluster < 0;
    const s = this.stmt(noise);
    return (noise ? s.iterate(this.run.model, this.run.id) : s.iterate(this.run.model, this.run.id, cluster)) as IterableIterator<RunItemRow>;
  }

  /** The group's centroid (normalized mean of normalized member vectors), or null for noise or no vectors. */
  centroid(cluster: number): Float32Array | null {
    if (cluster < 0) return null;
    let acc: Float64Array | null = null;
    for (const r of this.iterate(cluster)) {
      if (!r.vec) continue;
      const v = asF32(r.vec);
      if (!acc) acc = new Float64Array(v.length);
      if (v.length !== acc.length) continue;
      let s = 0;
      for (let p = 0; p < v.length; p++) s += v[p] * v[p];
      if (!(s > 0)) continue;
      const f = 1 / Math.sqrt(s);
      for (let p = 0; p < v.length; p++) acc[p] += v[p] * f;
    }
    if (!acc) return null;
    let s = 0;
    for (let p = 0; p < acc.length; p++) s += acc[p] * acc[p];
    if (!(s > 0)) return null;
    const f = 1 / Math.sqrt(s);
    return Float32Array.from(acc, (x) => x * f);
  }

  /** The group's items with their similarity to the centroid, most similar first (then by item id). */
  items(cluster: number): ExportItem[] {
    const c = this.centroid(cluster);
    const out: ExportItem[] = [];
    for (const r of this.iterate(cluster)) {
      let sim: number | null = null;
      if (c && r.vec) {
        const v = asF32(r.vec);
        if (v.length === c.length) {
          let dot = 0, nn = 0;
          for (let p = 0; p < v.length; p++) { dot += v[p] * c[p]; nn += v[p] * v[p]; }
          sim = nn > 0 ? dot / Math.sqrt(nn) : null;
        }
      }
      out.push({
        item: r.item, kind: this.run.kind, photo: r.photo, path: r.path, hash: r.hash, status: r.status,
        box: r.x === null ? null : [r.x, r.y!, r.w!, r.h!], thumb: r.thumb, cluster: cluster < 0 ? -1 : r.cluster,
        similarity: sim, distance: sim === null ? null : 1 - sim,
      });
    }
    out.sort((a, b) => (b.similarity ?? -Infinity) - (a.similarity ?? -Infinity) || a.item - b.item);
    return out;
  }
}
