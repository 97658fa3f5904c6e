/**
 * XMP sidecars of library photos: people written out (named faces of a face run as MWG regions + keywords) and read
 * back (regions named by digiKam, Lightroom, Immich and others become face labels).
 *
 * A photo's sidecar is `photo.jpg.xmp` (digiKam's, darktable's and Immich's default) or `photo.xmp` (Lightroom's);
 * an existing one of either is updated in place (atomically, everything else in it kept), otherwise `photo.jpg.xmp`
 * is created. Originals are never touched.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { ExportXmpReport } from '../../common/api.ts';
import { AppError } from '../../common/errors.ts';
import { readFileSafe } from '../safe-read.ts';
import { removeLeakedTemps } from '../atomic-write.ts';
import { writeFileSafeSync } from '../safe-write.ts';
import { fsPath, hasByteEscapes } from '../fs-names.ts';
import { describeIoError, ioError } from '../io-errors.ts';
import type { Library } from '../library.ts';
import { namedRunFaces, okPhotoSizes, photoFaceBoxes, runKindRow, type XmpFaceRow } from '../store/xmp-repo.ts';
import { readXmpPeople, regionIou, writeXmpPeople, type XmpRegion } from './xmp.ts';

export interface XmpLabelEntry { path: string; label: string; box: [number, number, number, number] }

export interface ReadXmpResult {
  /** sidecars read */
  sidecars: number;
  /** named face regions found in them */
  regions: number;
  /** regions matched to a face detected here */
  matched: number;
  unmatched: number;
  /** unreadable or malformed sidecars */
  failures: Array<{ path: string; reason: string }>;
  /** one label per matched face, with the library's own face box (pixels of the displayed photo) */
  entries: XmpLabelEntry[];
}

/** The sidecars that may belong to a photo, in the order they are preferred. */
export function sidecarCandidates(photoPath: string): string[] {
  const dir = dirname(photoPath), base = basename(photoPath, extname(photoPath));
  return [`${photoPath}.xmp`, `${photoPath}.XMP`, join(dir, `${base}.xmp`), join(dir, `${base}.XMP`)];
}

function existingSidecar(photoPath: string): string | null {
  return sidecarCandidates(photoPath).find((p) => existsSync(fsPath(p))) ?? null;
}

type FaceRow = XmpFaceRow;

const normalized = (f: FaceRow): XmpRegion => ({ name: null, x: f.x / f.pw, y: f.y / f.ph, w: f.w / f.pw, h: f.h / f.ph });

/** Photos looked at between two turns of the event loop (serve mode answers getInfo and the rest meanwhile). */
const YIELD_EVERY = 64;
const turn = (): Promise<void> => new Promise((ok) => setImmediate(ok));

/**
 * Writes the named faces of a face run into the photos' XMP sidecars. Sidecars are read off the main thread and the
 * loop yields to the event loop; temps a killed export left beside the sidecars it writes are removed first.
 */
export async function exportXmp(lib: Library, runId: number, opts: { onProgress?: (done: number, total: number) => void; isCancelled?: () => boolean } = {}): Promise<ExportXmpReport> {
  const run = runKindRow(lib.db, runId);
  if (!run) throw new AppError('NOT_FOUND', `run ${runId} does not exist`);
  if (run.kind !== 'face') throw new AppError('BAD_ARGUMENT', `run: run ${runId} groups photos; XMP people need a face run`);
  const rows = namedRunFaces(lib.db, runId);
  const byPhoto = new Map<number, Array<FaceRow & { name: string }>>();
  for (const r of rows) (byPhoto.get(r.photoId) ?? byPhoto.set(r.photoId, []).get(r.photoId)!).push(r);
  const report: ExportXmpReport = { runId, photos: byPhoto.size, regions: 0, created: 0, updated: 0, unchanged: 0, failed: 0, failures: [] };
  let done = 0;
  const swept = new Set<string>();
  for (const faces of byPhoto.values()) {
    if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'XMP export cancelled');
    if (done % YIELD_EVERY === YIELD_EVERY - 1) await turn();
    const photo = faces[0]!;
    const target = existingSidecar(photo.path) ?? `${photo.path}.xmp`;
    try {
      if (hasByteEscapes(target)) throw new AppError('BAD_FILE', `${target}: a file name that is not valid UTF-8 cannot get a sidecar yet`);
      // sidecar temps a killed export left in this folder (a dead process's) go first, once per folder
      const dir = dirname(target);
      if (!swept.has(dir)) { swept.add(dir); removeLeakedTemps(dir, (name) => /\.xmp$/i.test(name)); }
      // the one reader: a FIFO or a link to /dev/zero is refused by name, a sidecar has a size bound, off the main thread
      const before = existsSync(fsPath(target)) ? (await readFileSafe(target, 'sidecar')).toString('utf8') : null;
      const xml = writeXmpPeople(before, {
        dims: { w: photo.pw, h: photo.ph },
        regions: faces.map((f) => ({ ...normalized(f), name: f.name })),
      }, target);
      if (xml === before) report.unchanged++;
      else {
        // the one writer: its permissions kept (0600 stays 0600), a read-only sidecar is not replaced
        try { writeFileSafeSync(target, xml, { what: 'sidecar' }); } catch (e) { throw e instanceof AppError ? e : ioError(target, e); }
        if (before === null) report.created++; else report.updated++;
      }
      report.regions += faces.length;
    } catch (e) {
      report.failed++;
      if (report.failures.length < 20) report.failures.push({ path: target, reason: e instanceof AppError ? e.message : describeIoError(e) });
    }
    opts.onProgress?.(++done, byPhoto.size);
  }
  return report;
}

/**
 * Named face regions of every library photo's sidecar, each matched to the face detected here that it overlaps most
 * (IoU >= 0.3: other tools draw tighter boxes than the library's square ones; else the face whose centre lies in it).
 */
export async function readXmp(lib: Library): Promise<ReadXmpResult> {
  const photos = okPhotoSizes(lib.db);
  const facesOf = photoFaceBoxes(lib.db);
  const res: ReadXmpResult = { sidecars: 0, regions: 0, matched: 0, unmatched: 0, failures: [], entries: [] };
  let seen = 0;
  for (const p of photos) {
    // the event loop turns between sidecars (and every few photos without one): serve mode keeps answering
    if (++seen % YIELD_EVERY === 0) await turn();
    const file = existingSidecar(p.path);
    if (!file) continue;
    let people;
    try {
      people = readXmpPeople((await readFileSafe(file, 'sidecar')).toString('utf8'), file);
    } catch (e) {
      if (res.failures.length < 20) res.failures.push({ path: file, reason: e instanceof AppError ? e.message : describeIoError(e) });
      continue;
    }
    res.sidecars++;
    const faces = facesOf(p.id)
      .map((f) => ({ ...f, photoId: p.id, path: p.path, pw: p.pw, ph: p.ph }));
    const taken = new Set<number>();
    for (const r of people.regions) {
      if (!r.name) continue;
      res.regions++;
      let best: (typeof faces)[number] | null = null, bestIou = 0.3;
      for (const f of faces) {
        if (taken.has(f.faceId)) continue;
        const v = regionIou(r, normalized(f));
        if (v >= bestIou) { bestIou = v; best = f; }
      }
      if (!best) {
        best = faces.find((f) => {
          if (taken.has(f.faceId)) return false;
          const cx = (f.x + f.w / 2) / f.pw, cy = (f.y + f.h / 2) / f.ph;
          return cx >= r.x && cx <= r.x + r.w && cy >= r.y && cy <= r.y + r.h;
        }) ?? null;
      }
      if (!best) { res.unmatched++; continue; }
      taken.add(best.faceId);
      res.matched++;
      res.entries.push({ path: p.path, label: r.name, box: [best.x, best.y, best.w, best.h] });
    }
  }
  return res;
}
