/**
 * The face folder notice of a face embed: per folder, the faces detected, the detections dropped by the quality floor,
 * and how many of its faces are near-identical to another face of the same folder; folders where those shares are
 * high are flagged (drawn or anime faces, patterns, objects the detector takes for faces), so that the user may
 * exclude the folder or raise the floor where faces are embedded. The vectors go to a worker; the loop runs there.
 *
 * Thresholds, measured on ../shared (the face model, default floor): every folder of faces-london (2 faces each,
 * none dropped) and faces-orl (6–10 faces, at most 1 of 6 dropped; nearest neighbours in the folder 0.79–0.99, no
 * folder with more than 2 faces at or above 0.985) stays unflagged; the flower folders of photos-flowers (3–13
 * detections, 60–100% dropped) and a cifar10 'dog' folder (6 of 6 dropped) are flagged.
 */
import type { FaceFolderNotice } from '../../common/jobs.ts';
import type { Library } from '../library.ts';
import { faceVectorsByFolder } from '../store/faces.ts';
import { runTask } from '../workers/pool.ts';

/** A folder needs at least this many detections (kept or dropped) to be flagged. */
export const FOLDER_MIN_DETECTIONS = 3;
/** Flagged when at least this share of a folder's detections fall under the quality floor. */
export const FOLDER_LOW_QUALITY_SHARE = 0.5;
/** Two faces this similar (cosine) are near-identical: real photos of one person stay below it (ORL's most similar pairs reach 0.99 only in a pair or two). */
export const NEAR_IDENTICAL_SIMILARITY = 0.985;
/** Flagged when at least this share of a folder's faces has a near-identical face in the folder. */
export const FOLDER_NEAR_IDENTICAL_SHARE = 0.5;

export async function faceFolderNotice(lib: Library, model: string, dim: number, rejectedByFolder: Record<string, number>, signal?: AbortSignal): Promise<FaceFolderNotice[]> {
  const rows = faceVectorsByFolder(lib.db, model);
  const folders: string[] = [];
  const index = new Map<string, number>();
  const X = new Float32Array(rows.length * dim);
  const folderOf = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    const f = r.folder.length > 1 ? r.folder.slice(0, -1) : r.folder;
    let g = index.get(f);
    if (g === undefined) { g = folders.length; folders.push(f); index.set(f, g); }
    folderOf[i] = g;
    X.set(new Float32Array(r.vec.buffer, r.vec.byteOffset, dim), i * dim);
  });
  for (const f of Object.keys(rejectedByFolder)) if (!index.has(f)) { index.set(f, folders.length); folders.push(f); }
  const faces = new Int32Array(folders.length);
  for (const g of folderOf) faces[g]++;
  const like = rows.length
    ? await runTask('faceFolders', { X, d: dim, folderOf, nFolders: folders.length, threshold: NEAR_IDENTICAL_SIMILARITY }, { signal, transfer: [X.buffer, folderOf.buffer] })
    : { above: new Int32Array(folders.length), used: new Int32Array(folders.length) };
  return folders.map((folder, g) => {
    const rejected = rejectedByFolder[folder] ?? 0;
    const detections = faces[g]! + rejected;
    const low = detections ? rejected / detections : 0;
    const near = like.used[g]! ? like.above[g]! / like.used[g]! : 0;
    const reasons: string[] = [];
    if (detections >= FOLDER_MIN_DETECTIONS && low >= FOLDER_LOW_QUALITY_SHARE) reasons.push(`${rejected} of ${detections} detections fall under the quality floor`);
    if (like.used[g]! >= FOLDER_MIN_DETECTIONS && near >= FOLDER_NEAR_IDENTICAL_SHARE) reasons.push(`${like.above[g]} of ${like.used[g]} faces are near-identical to another face of the folder`);
    return { folder, faces: faces[g]!, rejected, nearIdentical: like.above[g]!, flagged: reasons.length > 0, reason: reasons.length ? reasons.join('; ') : null };
  }).sort((a, b) => Number(b.flagged) - Number(a.flagged) || a.folder.localeCompare(b.folder));
}
