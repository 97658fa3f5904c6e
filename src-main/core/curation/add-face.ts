/**
 * A face drawn by hand: the box on the photo (pixels of the EXIF-rotated photo) is squared, its 68
 * landmarks found and the crop aligned and embedded exactly as the face pipeline does for a detection
 * (core/models/face.ts: landmarks → ArcFace 5-point alignment → MobileFaceNet), stored as a face flagged manual (a
 * re-embed of the photo keeps it) with its 'face' embedding and crop thumbnail.
 */
import { AppError } from '../../common/errors.ts';
import { faceThumbKey } from '../../common/thumbs.ts';
import type { FaceSummary } from '../../common/types.ts';
import { saveThumb } from '../thumb-path.ts';
import { facePhoto, faceModelVersion, insertManualFace } from '../store/faces.ts';
import type { Library } from '../library.ts';
import { FaceEmbedder, squareBox } from '../models/face.ts';
import { decodeRgb, faceCropJpeg } from '../models/image.ts';
import { MODELS_DIR } from '../paths.ts';

let embedderP: Promise<FaceEmbedder> | null = null;

/** Thumbnail index of hand-drawn faces (apart from the detector's 0, 1, 2... of the same photo). */
const MANUAL_THUMB_BASE = 1_000_000;

export async function addManualFace(lib: Library, photoId: number, box: [number, number, number, number]): Promise<FaceSummary & { manual: boolean }> {
  const db = lib.db;
  const photo = facePhoto(db, photoId);
  if (!photo) throw new AppError('NOT_FOUND', `photo ${photoId} does not exist`);
  const model = faceModelVersion(db);
  if (model === undefined) throw new AppError('NOT_FOUND', `the library has no face embeddings yet: run an embed of the face model first (constellate embed --model face)`);
  embedderP ??= FaceEmbedder.load(MODELS_DIR);
  embedderP.catch(() => { embedderP = null; });
  const fe = await embedderP;
  const img = await decodeRgb(photo.path);
  const [x, y, w, h] = box;
  if (x >= img.width || y >= img.height) throw new AppError('BAD_ARGUMENT', `box: (${x}, ${y}) is outside the ${img.width} x ${img.height} photo`);
  const sq = squareBox({ x1: x, y1: y, x2: Math.min(img.width, x + w), y2: Math.min(img.height, y + h) }, img.width, img.height);
  const landmarks = await fe.landmarks(img, sq);
  const { embedding, aligned } = await fe.embedAligned(img, landmarks);
  const jpeg = await faceCropJpeg(aligned);
  const id = insertManualFace(db, { photo, box: sq, landmarks, embedding, model, thumbBase: MANUAL_THUMB_BASE });
  const key = faceThumbKey(photo.hash, MANUAL_THUMB_BASE + id);
  await saveThumb(lib.thumbPath(key), jpeg);
  return { id, photoId: photo.id, box: [sq.x, sq.y, sq.width, sq.height], score: 1, thumb: key, manual: true };
}
