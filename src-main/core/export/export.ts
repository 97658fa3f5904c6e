/**
 * Exports of a clustering run as it is now (after the user's edits): one folder per group with the photos (copied,
 * hard-linked or symlinked) or the face crops, a CSV/JSON table of every item with its similarity to its group's
 * centroid, or a self-contained HTML report.
 *
 * Safety: nothing a user has is ever overwritten or deleted. Existing folders are added to; a taken file name gets
 * " (2)", " (3)", ... (case-insensitively, so the result is the same on Windows and macOS); every file is written to a
 * temp name in its target folder and then linked/renamed to a free name, so a cancelled or failed export leaves only
 * whole files (its temps are removed). `dryRun` computes the same plan and writes nothing.
 */
import { fsPath } from '../fs-names.ts';
import { EXPORT_FORMATS, LINK_MODES } from '../../common/schema-kit.ts';
import type { ExportRunOptions, ExportRunReport } from '../../common/api.ts';
import { constants, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { copyFile, link, symlink } from 'node:fs/promises';
import { CheckedTempFile, verifyCopy } from '../atomic-write.ts';
import { ioError } from '../io-errors.ts';
import { basename, extname, join, resolve, sep } from 'node:path';
import { AppError, badArg } from '../../common/errors.ts';
import type { RunInfo } from '../../common/types.ts';
import { getRun } from '../store/runs.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { openReadOnly, type Db } from '../store/db.ts';
import { beginReadSnapshot, endReadSnapshot, insertExportRow } from '../store/export-repo.ts';
import { csvField } from '../embed/io.ts';
import { renderHtmlReport } from './html.ts';
import { ColumnarWriter } from '../interop/columnar-write.ts';
import { faceCrop } from './images.ts';
import { RunReader, runGroups, type ExportItem, type Group } from './items.ts';
import { NameSet, safeFileName, safeName } from './names.ts';
import { TEMP_PREFIX, Temps, cannotWrite, checkTargetDry, ensureWritableDir, linkFree, listNames, publish } from './target.ts';

// the formats and link modes are the contract's (common/schema-kit.ts)
export { EXPORT_FORMATS, LINK_MODES };
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type LinkMode = (typeof LINK_MODES)[number];

/** An export's options as the contract states them (common/arg-schemas.ts exportRunOptionsSchema), less what the service decides. */
export type ExportOptions = Omit<ExportRunOptions, 'createMissing'>;

/** What an export did (the shape lives with the API contract, src-main/common/api.ts). */
export type ExportReport = ExportRunReport;

export const DISTANCE_DOC = 'similarity = cosine similarity to the group centroid (the normalized mean of the L2-normalized embeddings of its current members); distance = 1 - similarity (cosine distance; euclidean between L2-normalized vectors = sqrt(2 * distance))';

const PLAN_MAX = 10_000;

export function checkExportOptions(o: ExportOptions): Required<Pick<ExportOptions, 'link'>> & ExportOptions {
  if (!o || typeof o !== 'object') throw badArg('options', 'expected {runId, to, format}');
  if (typeof o.runId !== 'number' || !Number.isInteger(o.runId) || o.runId < 1) throw badArg('run', `expected a run id (integer >= 1), got ${JSON.stringify(o.runId)}`);
  if (typeof o.to !== 'string' || !o.to) throw badArg('to', 'expected a target folder');
  if (!EXPORT_FORMATS.includes(o.format)) throw badArg('format', `expected ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(o.format)}`);
  const link = o.link ?? 'copy';
  if (!LINK_MODES.includes(link)) throw badArg('link', `expected ${LINK_MODES.join(', ')}, got ${JSON.stringify(o.link)}`);
  if (o.faces !== undefined && o.faces !== 'crops' && o.faces !== 'photos') throw badArg('faces', `expected crops or photos, got ${JSON.stringify(o.faces)}`);
  return { ...o, link };
}


function itemFileName(it: ExportItem, wholePhoto: boolean): string {
  const base = basename(it.path ?? `item-${it.item}`);
  if (it.kind === 'face' && !wholePhoto) {
    const stem = base.slice(0, base.length - extname(base).length) || 'face';
    return safeFileName(`${stem}-face${it.item}.jpg`, 'face');
  }
  return safeFileName(base, 'photo');
}

function groupLabel(g: Group): string {
  return g.cluster < 0 ? 'noise' : (g.name && g.name.trim() ? g.name : `cluster-${g.cluster}`);
}

function recordExport(lib: Library, runId: number, dir: string, format: string, count: number): number {
  return insertExportRow(lib.db, runId, dir, format, count, Date.now());
}

export async function exportRun(lib: Library, options: ExportOptions, ctx: JobContext): Promise<ExportReport> {
  const o = checkExportOptions(options);
  // the export reads the run as it was when it started: a second connection holds one read transaction (a WAL
  // snapshot) for the whole export, so edits made meanwhile (moves, rejects, merges) apply to the library but not
  // to this export, which never ends up with part of the old and part of the new membership
  const snap = openSnapshot(lib);
  try {
    return await exportFromSnapshot(lib, snap.lib, o, ctx);
  } finally {
    snap.close();
  }
}

/** A read-only connection to the library inside one read transaction, and a Library view reading through it. */
function openSnapshot(lib: Library): { lib: Library; close(): void } {
  let db: Db;
  try {
    db = openReadOnly(lib.path);
    beginReadSnapshot(db);
  } catch {
    return { lib, close: () => undefined }; // e.g. an in-memory snapshot of read-only media: already consistent
  }
  const view = Object.create(lib, { db: { value: db } }) as Library;
  return { lib: view, close: () => { endReadSnapshot(db); db.close(); } };
}

async function exportFromSnapshot(lib: Library, snapLib: Library, o: ExportOptions & { link: LinkMode }, ctx: JobContext): Promise<ExportReport> {
  const run = getRun(snapLib.db, o.runId);
  const to = resolve(o.to);
  // Parquet is an interchange table (import-run reads it back): noise rows are in it unless only curated groups are asked
  const groups = runGroups(snapLib.db, run.id, o.format === 'parquet' ? { ...o, includeNoise: true } : o);
  const report: ExportReport = {
    runId: run.id, kind: run.kind, model: run.model, format: o.format, to, link: o.format === 'folders' ? o.link : null,
    ...(o.format === 'folders' && run.kind === 'face' ? { faces: o.faces ?? 'crops' } : {}),
    items: groups.reduce((s, g) => s + g.size, 0), groups: groups.length, files: 0, skipped: 0, collisions: 0,
    dryRun: !!o.dryRun, out: null, exportId: null, distance: DISTANCE_DOC, warnings: [],
  };
  for (const r of lib.roots()) {
    if (to === r.path || to.startsWith(r.path + sep)) {
      report.warnings.push(`${to} is inside the library folder ${r.path}: the next scan will add what is exported there as photos`);
    }
  }
  if (o.dryRun) checkTargetDry(to); else ensureWritableDir(to);
  const temps = new Temps();
  try {
    if (o.format === 'folders') await exportFolders(snapLib, run, groups, to, o, report, temps, ctx);
    else if (o.format === 'html') await exportHtml(snapLib, run, groups, to, o, report, temps, ctx);
    else if (o.format === 'parquet') await exportParquet(snapLib, run, groups, to, o, report, ctx);
    else await exportTable(snapLib, run, groups, to, o, report, temps, ctx);
  } catch (e) {
    temps.removeAll();
    throw e;
  }
  ctx.checkCancelled();
  if (!o.dryRun) report.exportId = recordExport(lib, run.id, to, o.format, o.format === 'folders' ? report.files : report.items - report.skipped);
  return report;
}

async function exportFolders(lib: Library, run: RunInfo, groups: Group[], to: string, o: ExportOptions & { link: LinkMode }, report: ExportReport,
  temps: Temps, ctx: JobContext): Promise<void> {
  const reader = new RunReader(lib.db, run);
  const top = listNames(to, !o.dryRun);
  // a group folder may reuse an existing folder (we add to it) but never take the name of an existing file
  const folderNames = new NameSet(top.nonDirs);
  const total = report.items;
  let done = 0;
  report.folders = [];
  if (o.dryRun) report.plan = [];
  const skip = (it: ExportItem, reason: string) => {
    report.skipped++;
    (report.skippedItems ??= []);
    if (report.skippedItems.length < 20) report.skippedItems.push({ item: it.item, path: it.path, reason });
  };
  ctx.progress('export', 0, total);
  for (const g of groups) {
    ctx.checkCancelled();
    const wanted = safeName(groupLabel(g), `cluster-${g.cluster}`);
    const folder = folderNames.take(wanted);
    if (folder !== wanted) report.collisions++;
    report.folders.push({ cluster: g.cluster, name: g.name, folder, size: g.size });
    const dir = join(to, folder);
    const names = new NameSet(listNames(dir, !o.dryRun).all);
    let made = false;
    // a person's original photos: each photo once in its folder, however many of its faces the person has
    const wholePhotos = o.faces === 'photos';
    const photosDone = new Set<string>();
    for (const it of reader.items(g.cluster)) {
      ctx.checkCancelled();
      const asPhoto = it.kind === 'face' && wholePhotos;
      if (asPhoto && it.path && photosDone.has(it.path)) { ctx.progress('export', ++done, total); continue; }
      if (asPhoto && it.path) photosDone.add(it.path);
      const fname = itemFileName(it, wholePhotos);
      if (!it.path || it.status !== 'ok' || !existsSync(fsPath(it.path))) {
        skip(it, !it.path ? 'the photo is no longer in the library' : 'the photo file is missing');
        ctx.progress('export', ++done, total);
        continue;
      }
      if (it.kind === 'face' && !asPhoto && (!it.box || !it.hash)) { skip(it, 'the face has no box'); ctx.progress('export', ++done, total); continue; }
      const action = it.kind === 'face' && !asPhoto ? 'crop' : o.link;
      if (o.dryRun) {
        const name = names.take(fname);
        if (name !== fname) report.collisions++;
        report.files++;
        if (report.plan!.length < PLAN_MAX) report.plan!.push({ cluster: g.cluster, from: it.path, to: join(dir, name), action });
        else report.planTruncated = true;
        ctx.progress('export', ++done, total);
        continue;
      }
      if (!made) {
        try { mkdirSync(dir, { recursive: true }); } catch (e) { throw cannotWrite(dir, e); }
        made = true;
      }
      let r: { name: string; collided: boolean };
      try {
        if (it.kind === 'face' && !asPhoto) {
          let jpeg: Buffer;
          try { jpeg = await faceCrop(it.path, it.hash!, it.box!); } catch (e) {
            skip(it, `cannot read the photo (${(e as Error).message.split('\n')[0]})`);
            ctx.progress('export', ++done, total);
            continue;
          }
          ctx.checkCancelled();
          const tmp = temps.name(dir, '.jpg');
          const w = await CheckedTempFile.create(tmp, join(dir, fname));
          await w.write(jpeg);
          await w.finish();
          r = await publish(tmp, dir, names, fname);
          temps.done(tmp);
        } else if (o.link === 'copy') {
          const tmp = temps.name(dir, extname(fname));
          const srcSize = statSync(fsPath(it.path)).size;
          try {
            await copyFile(fsPath(it.path), tmp, constants.COPYFILE_EXCL);
            await verifyCopy(tmp, srcSize, join(dir, fname));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || existsSync(fsPath(it.path))) throw ioError(join(dir, fname), e);
            throw e;
          }
          ctx.checkCancelled();
          r = await publish(tmp, dir, names, fname);
          temps.done(tmp);
        } else {
          r = await linkFree(o.link, it.path, dir, names, fname);
        }
      } catch (e) {
        if (e instanceof AppError) throw e;
        const c = (e as NodeJS.ErrnoException).code;
        if (c === 'ENOENT' && !existsSync(fsPath(it.path))) { skip(it, 'the photo file is missing'); ctx.progress('export', ++done, total); continue; }
        throw cannotWrite(dir, e);
      }
      if (r.collided) report.collisions++;
      report.files++;
      ctx.progress('export', ++done, total);
    }
  }
}

export const TABLE_FIELDS = ['run', 'model', 'kind', 'item', 'photo', 'path', 'x', 'y', 'w', 'h', 'cluster', 'label', 'curated', 'cluster_size', 'similarity', 'distance'] as const;

function round(v: number | null, digits = 6): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function tableRow(run: RunInfo, g: Group, it: ExportItem): Record<(typeof TABLE_FIELDS)[number], string | number | boolean | null> {
  return {
    run: run.id, model: run.model, kind: run.kind, item: it.item, photo: it.photo, path: it.path,
    x: it.box ? round(it.box[0], 2) : null, y: it.box ? round(it.box[1], 2) : null, w: it.box ? round(it.box[2], 2) : null, h: it.box ? round(it.box[3], 2) : null,
    cluster: g.cluster, label: g.name, curated: g.curated, cluster_size: g.size, similarity: round(it.similarity), distance: round(it.distance),
  };
}

async function exportTable(lib: Library, run: RunInfo, groups: Group[], to: string, o: ExportOptions, report: ExportReport, temps: Temps, ctx: JobContext): Promise<void> {
  const ext = o.format === 'csv' ? '.csv' : '.json';
  const wanted = `run-${run.id}${ext}`;
  const names = new NameSet(listNames(to, !o.dryRun).all);
  const reader = new RunReader(lib.db, run);
  const total = report.items;
  let done = 0;
  ctx.progress('export', 0, total);
  if (o.dryRun) {
    planSingleFile(to, names, wanted, report);
    ctx.progress('export', total, total);
    return;
  }
  const tmp = temps.name(to, ext);
  // every write checked, fsynced and its size verified before it is published (a full disk fails, never truncates)
  const w = await CheckedTempFile.create(tmp, join(to, wanted));
  try {
    if (o.format === 'csv') await w.write(TABLE_FIELDS.join(',') + '\n');
    else {
      const head = { runId: run.id, model: run.model, kind: run.kind, algo: run.algo, params: run.params, exportedAt: new Date().toISOString(), distance: DISTANCE_DOC, fields: TABLE_FIELDS };
      await w.write(JSON.stringify(head, null, 1).replace(/\n}$/, ',\n "items": [\n'));
    }
    let first = true;
    for (const g of groups) {
      ctx.checkCancelled();
      for (const it of reader.items(g.cluster)) {
        if (!it.path) { report.skipped++; ctx.progress('export', ++done, total); continue; }
        const row = tableRow(run, g, it);
        if (o.format === 'csv') await w.write(TABLE_FIELDS.map((f) => { const v = row[f]; return csvField(typeof v === 'boolean' ? (v ? 1 : 0) : v); }).join(',') + '\n');
        else { await w.write((first ? '' : ',\n') + JSON.stringify(row)); first = false; }
        ctx.progress('export', ++done, total);
      }
    }
    if (o.format === 'json') await w.write('\n]}\n');
    await w.finish();
  } catch (e) {
    await w.abort();
    throw e;
  }
  ctx.checkCancelled();
  const r = await publish(tmp, to, names, wanted);
  temps.done(tmp);
  if (r.collided) report.collisions++;
  report.out = join(to, r.name);
  report.files = 1;
}

/**
 * A run as Parquet, for other engines and for import-run: item (kind:id), kind, id, path, box (faces: x, y, w, h),
 * cluster (-1 = noise), name, curated, similarity, distance. One row group per group of the run.
 */
async function exportParquet(lib: Library, run: RunInfo, groups: Group[], to: string, o: ExportOptions, report: ExportReport, ctx: JobContext): Promise<void> {
  const wanted = `run-${run.id}.parquet`;
  const names = new NameSet(listNames(to, !o.dryRun).all);
  const total = report.items;
  if (o.dryRun) { planSingleFile(to, names, wanted, report); ctx.progress('export', total, total); return; }
  const name = names.free(wanted);
  if (name !== wanted) report.collisions++;
  const w = await ColumnarWriter.create(join(to, name), 'parquet', [
    { name: 'item', type: 'string' }, { name: 'kind', type: 'string' }, { name: 'id', type: 'int32' }, { name: 'path', type: 'string', nullable: true },
    { name: 'box', type: 'f64list', nullable: true }, { name: 'cluster', type: 'int32' }, { name: 'name', type: 'string', nullable: true },
    { name: 'curated', type: 'bool' }, { name: 'similarity', type: 'float64', nullable: true }, { name: 'distance', type: 'float64', nullable: true },
  ], { meta: { 'constellate.run': String(run.id), 'constellate.model': run.model, 'constellate.kind': run.kind, 'constellate.algo': run.algo, 'constellate.distance': DISTANCE_DOC } });
  const reader = new RunReader(lib.db, run);
  let done = 0;
  ctx.progress('export', 0, total);
  try {
    for (const g of groups) {
      ctx.checkCancelled();
      const its = reader.items(g.cluster);
      if (!its.length) continue;
      w.write({
        item: its.map((it) => `${run.kind}:${it.item}`), kind: its.map(() => run.kind), id: Int32Array.from(its, (it) => it.item), path: its.map((it) => it.path),
        box: its.map((it) => (it.box ? [...it.box] : null)), cluster: its.map(() => g.cluster), name: its.map(() => g.name), curated: its.map(() => g.curated),
        similarity: its.map((it) => round(it.similarity)), distance: its.map((it) => round(it.distance)),
      }, its.length);
      done += its.length;
      ctx.progress('export', done, total);
    }
    ctx.checkCancelled();
    w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
  report.out = join(to, name);
  report.files = 1;
}

/** Dry run of a one-file export (table or report): the name it would get, collisions counted. */
function planSingleFile(to: string, names: NameSet, wanted: string, report: ExportReport): void {
  const name = names.free(wanted);
  if (name !== wanted) report.collisions++;
  report.out = join(to, name);
  report.files = 1;
  report.plan = [{ cluster: -1, from: null, to: report.out, action: 'write' }];
}

async function exportHtml(lib: Library, run: RunInfo, groups: Group[], to: string, o: ExportOptions, report: ExportReport, temps: Temps, ctx: JobContext): Promise<void> {
  const wanted = `run-${run.id}.html`;
  const names = new NameSet(listNames(to, !o.dryRun).all);
  if (o.dryRun) {
    planSingleFile(to, names, wanted, report);
    return;
  }
  const html = await renderHtmlReport(lib, run, groups, ctx);
  ctx.checkCancelled();
  const tmp = temps.name(to, '.html');
  const w = await CheckedTempFile.create(tmp, join(to, wanted));
  await w.write(html);
  await w.finish();
  const r = await publish(tmp, to, names, wanted);
  temps.done(tmp);
  if (r.collided) report.collisions++;
  report.out = join(to, r.name);
  report.files = 1;
}

/** For tests and tools: leftover temp files of exports under a folder (should be none). */
export function findExportTemps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.startsWith(TEMP_PREFIX)) out.push(p);
      else if (e.isDirectory() && !lstatSync(p).isSymbolicLink()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
