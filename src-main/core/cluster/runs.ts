/** Clustering runs as stored: the record a run keeps, and the encoder it trained (the SQL is in store/runs.ts). */
import { encoderBytesOf, encoderRecord } from '../models/encoder-onnx.ts';
import type { ClusterOutput, ClusterParams } from '../../algo/cluster/run.ts';
import type { ItemKind } from '../../common/types.ts';
import type { Db } from '../store/db.ts';
import { getRun, insertRun, type RunRecord } from '../store/runs.ts';

/** What a run keeps besides its metrics: the algorithm's record, the post-processing report, the autoencoder's loss per
 * epoch and the trained encoder (ONNX, base64) so new items can be encoded the same way. */
function runRecord(out: ClusterOutput): RunRecord {
  return { ...out.record, report: out.report, ...(out.loss ? { loss: out.loss } : {}), ...(out.encoder ? { encoder: encoderRecord(out.encoder) } : {}) };
}

/** Stores a clustering run (its record built here: what the algorithm reports, its loss and trained encoder). */
export function storeRun(db: Db, a: { model: string; kind: ItemKind; params: ClusterParams; out: ClusterOutput; ids: Int32Array }): number {
  return insertRun(db, { ...a, record: runRecord(a.out) });
}

/** The ONNX bytes of the encoder a run trained (autoencoder / PCA head of its reduction, or DEC), to encode new items. */
export function runEncoderBytes(db: Db, runId: number): Uint8Array {
  return encoderBytesOf(getRun(db, runId).record, runId);
}
