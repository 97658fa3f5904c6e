/** The worker side of the face folder notice: the within-folder nearest-neighbour loop on the face vectors. */
import { groupNearestAbove } from '../../algo/folder-likeness.ts';
import type { TaskContext } from '../workers/tasks.ts';

export interface FaceFoldersPayload { X: Float32Array; d: number; folderOf: Int32Array; nFolders: number; threshold: number }

export async function faceFoldersTask(p: FaceFoldersPayload, ctx: TaskContext) {
  const r = groupNearestAbove(p.X, p.d, p.folderOf, p.nFolders, p.threshold, { isCancelled: ctx.isCancelled });
  return { result: r, transfer: [r.above.buffer as ArrayBuffer, r.used.buffer as ArrayBuffer] };
}
