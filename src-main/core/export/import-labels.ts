/**
 * import-labels: ground-truth labels from a file or a folder tree into the `labels` table (source 'import').
 *
 * Sources:
 * - CSV with a header: `path,label` and optionally `x,y,w,h` (a face box, in pixels of the EXIF-rotated photo) to
 *   label a face rather than a photo. Quoted fields per RFC 4180. Our own `export --format csv` output works as is.
 * - JSON: an array of `{path, label, box?: [x,y,w,h] | x,y,w,h}`, JSON lines of the same, or our `export --format
 *   json` document (`{..., items: [...]}`).
 * - A folder: every image below it gets its parent folder's name as label (images directly inside the folder have no
 *   label folder and are ignored). An image is matched to the library by: a Constellate face tag (face crops written
 *   by `export --format folders` of a face run carry the photo hash and the box in EXIF) -> that face; else by content
 *   hash (photos.hash = first 32 hex of sha256) -> every library photo with that content; else by path.
 * Relative paths in files are relative to the file's folder. A row's path that is not a library photo path but an
 * existing file is matched by its content hash too.
 *
 * Faces inherit the label of their photo when the photo has exactly one face and the face has no imported label of
 * its own (from this import or an earlier one), so a folder tree of portraits also gives face ground truth.
 *
 * Seeding curated groups: for the newest run of each kind that received labels, every group whose current members
 * are mostly (> 50% of those with an imported label) one imported label gets that label as its name, unless the group already has a name or is
 * curated (a user's naming is never replaced). It is also marked curated when *all* its members carry that label
 * (the import vouches for the whole membership); a mere majority is named but left for review.
 */
import { readCsv } from '../csv.ts';
import { ITEM_KINDS, type LABEL_MODES } from '../../common/schema-kit.ts';
import { syncRunGroups } from '../curation/groups.ts';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFileSafeSync } from '../safe-read.ts';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../../common/errors.ts';
import { headerSummary } from '../../common/redact.ts';
import type { ItemKind } from '../../common/types.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { groupLabelVotes, hasImportedLabelOf, inheritReaders, labelItemReaders, labelMatchers, newestRunOfKinds, openClusters, runExists, runKind, storeImportedLabels } from '../store/labels-repo.ts';
import { IMAGE_EXTENSIONS } from '../scan/scanner.ts';
import { readFaceTag } from './images.ts';
import { applyEdit } from '../curation/edits.ts';
import { badFile, column, openColumnar, readBatches } from '../interop/columnar.ts';

// the options and report are the contract's (common/api.ts)
import type { ImportLabelsOptions, ImportLabelsReport } from '../../common/api.ts';
export type { ImportLabelsOptions, ImportLabelsReport };


interface Entry { path: string; label: string; box: [number, number, number, number] | null; line: string }

/**
 * Labels from Parquet or Arrow: a `label` column (else `name`, as `export --format parquet` writes it) and the item by
 * `path` (with `box` or x, y, w, h for a face), or by `item`/`id` (kind:id, as our exports write it).
 */
async function readColumnarEntries(file: string, lib: Library): Promise<{ mode: 'parquet'; entries: Entry[]; ignored: number }> {
  const src = openColumnar(file);
  const has = (n: string) => src.columns.some((c) => c.name === n);
  const lcol = has('label') ? 'label' : has('name') ? 'name' : null;
  if (!lcol) throw badFile(file, `no column 'label' (or 'name') with the labels; its columns: ${src.columns.map((c) => c.name).join(', ')}`);
  const byPath = has('path') && column(src, 'path', 'photo paths').type === 'string';
  const icol = has('item') ? 'item' : has('id') ? 'id' : null;
  if (!byPath && !icol) throw badFile(file, `no column 'path' or 'item' to name the item of each row; its columns: ${src.columns.map((c) => c.name).join(', ')}`);
  const boxList = has('box') ? 'box' : null;
  const boxCols = ['x', 'y', 'w', 'h'].every(has) ? ['x', 'y', 'w', 'h'] : [];
  const base = dirname(resolve(file));
  const itemQ = labelItemReaders(lib.db);
  const entries: Entry[] = [];
  let ignored = 0;
  for await (const b of readBatches(src, { scalars: [lcol, ...(byPath ? ['path'] : []), ...(icol && !byPath ? [icol] : []), ...boxCols], lists: boxList ? [boxList] : [] })) {
    for (let i = 0; i < b.n; i++) {
      const where = `${file}:row ${b.start + i + 1}`;
      const lv = b.cols[lcol][i];
      if (lv === null || lv === undefined || lv === '') { ignored++; continue; }
      let path: string | null = null;
      let box: Entry['box'] = null;
      if (byPath) {
        const p = b.cols.path[i];
        if (typeof p !== 'string' || !p) throw badFile(file, `column 'path', row ${b.start + i + 1}: empty path`);
        path = isAbsolute(p) ? p : resolve(base, p);
        const raw = boxList ? b.lists[boxList][i] : boxCols.length ? boxCols.map((c) => b.cols[c][i] as number | null) : null;
        if (raw && raw.some((x) => x !== null && x !== undefined)) {
          if (raw.length !== 4 || !raw.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new AppError('BAD_FILE', `${where}: the face box must be 4 numbers x, y, w, h`);
          box = raw as [number, number, number, number];
        }
      } else {
        const m = /^(photo|face):(\d+)$/.exec(String(b.cols[icol!][i]));
        if (!m) throw badFile(file, `column '${icol}', row ${b.start + i + 1}: expected kind:id (photo:N or face:N)`);
        const r = itemQ[m[1] as ItemKind](Number(m[2]));
        if (!r) { ignored++; continue; }
        path = r.path;
        box = r.x === null ? null : [r.x, r.y, r.w, r.h];
      }
      entries.push({ path, label: String(lv).trim(), box, line: where });
    }
  }
  return { mode: 'parquet', entries, ignored };
}

/** RFC 4180 CSV (the one reader, core/csv.ts). */
export const parseCsv = readCsv;

function readEntries(file: string): { mode: 'csv' | 'json'; entries: Entry[]; ignored: number } {
  let text = readFileSafeSync(file, 'labels', undefined, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const entries: Entry[] = [];
  let ignored = 0;
  const t = text.trimStart();
  if (!t) throw new AppError('BAD_FILE', `${file}: empty labels file`);
  if (t.startsWith('[') || t.startsWith('{')) {
    let objs: unknown[];
    let lines: string[] | null = null;
    try {
      const v = JSON.parse(t);
      objs = Array.isArray(v) ? v : Array.isArray((v as { items?: unknown }).items) ? (v as { items: unknown[] }).items : [v];
    } catch {
      lines = t.split(/\r?\n/).filter((l) => l.trim());
      objs = lines.map((l, i) => {
        try { return JSON.parse(l); } catch { throw new AppError('BAD_FILE', `${file}:${i + 1}: not JSON (expected an array, an object with "items", or JSON lines)`); }
      });
    }
    objs.forEach((o, i) => {
      const where = `${file}:${lines ? `${i + 1}` : `item ${i + 1}`}`;
      if (!o || typeof o !== 'object') throw new AppError('BAD_FILE', `${where}: not an object`);
      const r = o as { path?: unknown; label?: unknown; box?: unknown; x?: unknown; y?: unknown; w?: unknown; h?: unknown };
      if (typeof r.path !== 'string' || !r.path) throw new AppError('BAD_FILE', `${where}: needs "path"`);
      if (r.label === null || r.label === undefined || r.label === '') { ignored++; return; }
      if (typeof r.label !== 'string' && typeof r.label !== 'number') throw new AppError('BAD_FILE', `${where}: "label" must be a string or number`);
      const b = Array.isArray(r.box) ? r.box : (r.x !== undefined && r.x !== null ? [r.x, r.y, r.w, r.h] : null);
      if (b && (b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)))) throw new AppError('BAD_FILE', `${where}: the face box must be 4 numbers x, y, w, h`);
      entries.push({ path: abs(r.path), label: String(r.label).trim(), box: b as Entry['box'], line: where });
    });
    return { mode: 'json', entries, ignored };
  }
  const rows = parseCsv(text);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const pi = header.indexOf('path'), li = header.indexOf('label');
  if (pi < 0 || li < 0) throw new AppError('BAD_FILE', `${file}: the CSV header needs 'path' and 'label' columns (${headerSummary(header, ['path', 'label'])})`);
  const bi = ['x', 'y', 'w', 'h'].map((k) => header.indexOf(k));
  const hasBox = bi.every((i) => i >= 0);
  for (let r = 1; r < rows.length; r++) {
    const f = rows[r];
    const p = (f[pi] ?? '').trim();
    const label = (f[li] ?? '').trim();
    if (!p) throw new AppError('BAD_FILE', `${file}:row ${r + 1}: empty path`);
    if (!label) { ignored++; continue; }
    let box: Entry['box'] = null;
    if (hasBox && bi.some((i) => (f[i] ?? '').trim() !== '')) {
      const v = bi.map((i) => Number((f[i] ?? '').trim() || NaN));
      if (!v.every(Number.isFinite)) throw new AppError('BAD_FILE', `${file}:row ${r + 1}: the face box x,y,w,h must be numbers`);
      box = v as [number, number, number, number];
    }
    entries.push({ path: abs(p), label, box, line: `${file}:row ${r + 1}` });
  }
  return { mode: 'csv', entries, ignored };
}

function iou(a: [number, number, number, number], b: [number, number, number, number]): number {
  const x1 = Math.max(a[0], b[0]), y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]), y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const u = a[2] * a[3] + b[2] * b[3] - inter;
  return u > 0 ? inter / u : 0;
}

function* walkImages(root: string): Generator<{ path: string; label: string | null }> {
  const stack: string[] = [root];
  while (stack.length) {
    const d = stack.pop()!;
    let ents;
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { continue; }
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      let isDir = e.isDirectory(), isFile = e.isFile();
      if (e.isSymbolicLink()) { try { const st = statSync(p); isDir = false; isFile = st.isFile(); } catch { continue; } } // never follow folder links (cycles)
      if (isDir) stack.push(p);
      else if (isFile && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) yield { path: p, label: d === root ? null : basename(d) };
    }
  }
}

export async function importLabels(lib: Library, source: string, opts: ImportLabelsOptions = {}, ctx?: JobContext): Promise<ImportLabelsReport> {
  if (typeof source !== 'string' || !source) throw new AppError('BAD_ARGUMENT', 'source: expected a labels file (CSV/JSON) or a folder');
  const src = resolve(source);
  let st;
  try { st = statSync(src); } catch { throw new AppError('NOT_FOUND', `${src}: no such file or folder`); }
  const db = lib.db;
  const q = labelMatchers(db);
  const report: ImportLabelsReport = {
    source: src, mode: st.isDirectory() ? 'folders' : 'csv', rows: 0, matched: 0, photos: 0, faces: 0, inherited: 0,
    unmatched: 0, unmatchedPaths: [], ignored: 0, conflicts: 0, labels: 0, seeded: [], runId: null, editId: null,
  };
  const photoLabels = new Map<number, string>();
  const faceLabels = new Map<number, string>();
  const put = (m: Map<number, string>, id: number, label: string) => {
    const prev = m.get(id);
    if (prev !== undefined && prev !== label) report.conflicts++;
    m.set(id, label);
  };
  const unmatched = (p: string) => { report.unmatched++; if (report.unmatchedPaths.length < 20) report.unmatchedPaths.push(p); };
  const hashFile = async (p: string): Promise<{ hash: string; buf: Buffer } | null> => {
    try { const buf = await readFile(p); return { hash: createHash('sha256').update(buf).digest('hex').slice(0, 32), buf }; } catch { return null; }
  };
  const matchFace = (photoIds: number[], box: [number, number, number, number]): number | null => {
    let best: number | null = null, bestIou = 0.5;
    for (const pid of photoIds) {
      for (const f of q.facesOf(pid)) {
        const v = iou(box, [f.x, f.y, f.w, f.h]);
        if (v >= bestIou) { bestIou = v; best = f.id; }
      }
    }
    return best;
  };
  /** library photos for a path: by path, else (an existing file elsewhere) by content */
  const photosFor = async (p: string): Promise<{ ids: number[]; buf: Buffer | null }> => {
    const r = q.photoByPath(p);
    if (r) return { ids: [r.id], buf: null };
    if (!existsSync(p)) return { ids: [], buf: null };
    const h = await hashFile(p);
    if (!h) return { ids: [], buf: null };
    return { ids: q.photosByHash(h.hash), buf: h.buf };
  };

  if (st.isDirectory()) {
    const images = [...walkImages(src)];
    const total = images.length;
    ctx?.progress('import', 0, total);
    let done = 0;
    for (const im of images) {
      ctx?.checkCancelled();
      report.rows++;
      if (im.label === null) { report.ignored++; ctx?.progress('import', ++done, total); continue; }
      const label = im.label.normalize('NFC');
      const h = await hashFile(im.path);
      let hit = false;
      if (h) {
        const tag = readFaceTag(h.buf);
        if (tag) {
          const fid = matchFace(q.photosByHash(tag.hash), tag.box);
          if (fid !== null) { put(faceLabels, fid, label); hit = true; }
        }
        if (!hit) {
          const ids = q.photosByHash(h.hash);
          for (const id of ids) put(photoLabels, id, label);
          hit = ids.length > 0;
        }
      }
      if (!hit) {
        const r = q.photoByPath(im.path);
        if (r) { put(photoLabels, r.id, label); hit = true; }
      }
      if (hit) report.matched++; else unmatched(im.path);
      ctx?.progress('import', ++done, total);
    }
  } else {
    const { mode, entries, ignored } = /\.(parquet|pq|arrow|feather|ipc)$/i.test(src) ? await readColumnarEntries(src, lib) : readEntries(src);
    report.mode = mode;
    report.ignored = ignored;
    report.rows = entries.length + ignored;
    const total = entries.length;
    ctx?.progress('import', 0, total);
    let done = 0;
    for (const e of entries) {
      ctx?.checkCancelled();
      const { ids, buf } = await photosFor(e.path);
      let hit = false;
      if (e.box) {
        const fid = matchFace(ids, e.box);
        if (fid !== null) { put(faceLabels, fid, e.label); hit = true; }
      } else if (buf && readFaceTag(buf)) {
        const tag = readFaceTag(buf)!;
        const fid = matchFace(q.photosByHash(tag.hash), tag.box);
        if (fid !== null) { put(faceLabels, fid, e.label); hit = true; }
      } else if (ids.length) {
        for (const id of ids) put(photoLabels, id, e.label);
        hit = true;
      }
      if (hit) report.matched++; else unmatched(e.path);
      ctx?.progress('import', ++done, total);
    }
  }
  if (report.matched === 0) {
    throw new AppError('BAD_FILE', `${src}: none of its ${report.rows} ${report.mode === 'folders' ? 'images' : 'rows'} matched a photo or face in this library` +
      (report.unmatchedPaths[0] ? ` (first: ${report.unmatchedPaths[0]})` : '') + '; scan their folder first');
  }
  // faces inherit a single-face photo's label
  const inh = inheritReaders(db);
  for (const [pid, label] of photoLabels) {
    const fs = inh.facesOfPhoto(pid);
    if (fs.length === 1 && !faceLabels.has(fs[0]) && !inh.hasOwnLabel(fs[0])) { faceLabels.set(fs[0], label); report.inherited++; }
  }
  storeImportedLabels(db, photoLabels, faceLabels);
  report.photos = photoLabels.size;
  report.faces = faceLabels.size;
  report.labels = new Set([...photoLabels.values(), ...faceLabels.values()]).size;
  if (opts.seed !== false) {
    // the run the user chose, else the newest run of a kind that got labels
    let runId: number | undefined = opts.runId;
    if (runId !== undefined) {
      if (!runExists(db, runId)) throw new AppError('NOT_FOUND', `run ${runId} does not exist`);
    } else {
      // a kind this import labeled, or whose items carry imported labels already (a face keeps its label on re-import)
      const has = hasImportedLabelOf(db);
      const kinds = ITEM_KINDS.filter((k) => (k === 'photo' ? photoLabels : faceLabels).size > 0 || has(k));
      runId = kinds.length ? newestRunOfKinds(db, kinds) : undefined;
    }
    if (runId !== undefined) {
      const kind = runKind(db, runId) as ItemKind;
      report.runId = runId;
      const s = seedGroups(lib, runId, kind, `import labels from ${basename(src)}`);
      report.seeded.push({ runId, kind, named: s.named, curated: s.curated });
      report.editId = s.editId;
    }
  }
  return report;
}

/** Names (and, when unanimous, marks curated) the run's unnamed, uncurated groups whose members are mostly one imported label. */
export function seedGroups(lib: Library, runId: number, kind: ItemKind, source = 'import labels'): { named: number; curated: number; editId: number | null; clusters: number[] } {
  const db = lib.db;
  const rows = groupLabelVotes(db, runId, kind);
  // members without an imported label (e.g. faces of a photo with several faces) do not vote: the majority is of the
  // labeled members; the group is marked curated only when every member carries the label
  const per = new Map<number, { total: number; labeled: number; best: string | null; bestN: number }>();
  for (const r of rows) {
    const c = per.get(r.cluster) ?? { total: 0, labeled: 0, best: null, bestN: 0 };
    c.total += r.n;
    if (r.label !== null) c.labeled += r.n;
    if (r.label !== null && (r.n > c.bestN || (r.n === c.bestN && c.best !== null && r.label < c.best))) { c.best = r.label; c.bestN = r.n; }
    per.set(r.cluster, c);
  }
  // only unnamed, uncurated groups are named: what a person named stays theirs
  const cur = openClusters(db, runId);
  const open = new Set(cur);
  const changes: Array<{ cluster: number; name: string; curated?: boolean }> = [];
  let named = 0, curated = 0;
  for (const [cluster, c] of per) {
    if (c.best === null || c.bestN * 2 <= c.labeled || !open.has(cluster)) continue;
    const all = c.bestN === c.total;
    changes.push(all ? { cluster, name: c.best, curated: true } : { cluster, name: c.best });
    named++; if (all) curated++;
  }
  // one undoable edit of the run (undo brings back every name and flag as they were)
  const editId = changes.length ? applyEdit(db, runId, { type: 'names', clusters: changes, source }).editId : null;
  syncRunGroups(db, runId); // the named groups are the library's (core/curation/groups.ts)
  return { named, curated, editId, clusters: changes.map((c) => c.cluster) };
}
