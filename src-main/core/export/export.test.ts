import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterJob } from '../cluster/cluster-job.ts';
import { labelsFromLibrary } from '../cluster/labels.ts';
import { embedJob } from '../embed/embed-job.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import { exportRun, findExportTemps, TABLE_FIELDS, type ExportOptions } from './export.ts';
import { parseCsv, importLabels } from './import-labels.ts';
import { NameSet, safeFileName, safeName } from './names.ts';

const t = tempDir();
afterAll(() => t.cleanup());

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const exp = (lib: Library, o: ExportOptions, onProgress?: (s: string, d: number, n: number) => void) => exportRun(lib, o, testContext(onProgress));

/** every file below dir, relative, sorted */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), rel ? `${rel}/${e.name}` : e.name);
      else out.push(rel ? `${rel}/${e.name}` : e.name);
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out.sort();
}

/** item -> cluster of a run's current assignments (noise left out) */
function assignment(lib: Library, runId: number): Map<number, number> {
  const rows = lib.db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? AND cluster >= 0').all(runId) as Array<{ item_id: number; cluster: number }>;
  return new Map(rows.map((r) => [r.item_id, r.cluster]));
}

/** true when two labelings of the same items are the same partition (a bijection between their labels) */
function samePartition<A, B>(a: Map<number, A>, b: Map<number, B>): boolean {
  if (a.size !== b.size) return false;
  const ab = new Map<A, B>(), ba = new Map<B, A>();
  for (const [k, va] of a) {
    if (!b.has(k)) return false;
    const vb = b.get(k)!;
    if (ab.has(va) && ab.get(va) !== vb) return false;
    if (ba.has(vb) && ba.get(vb) !== va) return false;
    ab.set(va, vb); ba.set(vb, va);
  }
  return true;
}

describe('safe names', () => {
  it('makes names safe on every OS', () => {
    expect(safeName('a/b\\c:d*e?f"g<h>i|j')).toBe('a_b_c_d_e_f_g_h_i_j');
    expect(safeName('CON')).toBe('_CON');
    expect(safeName('nul.txt')).toBe('_nul.txt');
    expect(safeName('com1')).toBe('_com1');
    expect(safeName('Console')).toBe('Console');
    expect(safeName('trailing. . ')).toBe('trailing');
    expect(safeName('  spaced  ')).toBe('spaced');
    expect(safeName('..')).toBe('__');
    expect(safeName('.hidden')).toBe('_hidden');
    expect(safeName('tab\there\u0000nul\u001b')).toBe('tab_here_nul_');
    expect(safeName('', 'cluster-3')).toBe('cluster-3');
    expect(safeName('???')).toBe('___');
    const long = safeName('é'.repeat(500));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(120);
    expect(long).toBe('é'.repeat(60));
    expect(safeName('😀'.repeat(100)).length % 2).toBe(0); // no split surrogate pairs
    expect(safeFileName('photo.JPG')).toBe('photo.jpg');
    expect(safeFileName('aux.jpg')).toBe('_aux.jpg');
  });

  it('picks unique names case-insensitively', () => {
    const s = new NameSet(['a.jpg', 'A (2).JPG']);
    expect(s.take('A.jpg')).toBe('A (3).jpg');
    expect(s.take('b')).toBe('b');
    expect(s.take('B')).toBe('B (2)');
  });
});

describe('photo runs', () => {
  const photos = join(t.dir, 'photos');
  const classes = ['daisy', 'sunflowers', 'tulips'];
  let lib: Library;
  let runId: number;
  const newRun = async () => {
    const id = (await clusterJob(lib, { model: 'photo', params: { algo: 'kmeans', k: 3, seed: 0 } }, testContext())).runId;
    // names are carried over to re-runs by overlap (curation): start each test's run unnamed
    lib.db.prepare('UPDATE clusters SET name = NULL, curated = 0 WHERE run_id = ?').run(id);
    return id;
  };

  beforeAll(async () => {
    mkdirSync(photos);
    for (const cls of classes) {
      mkdirSync(join(photos, cls));
      // the same file name in two classes: a collision once both land in one group
      const fs = readdirSync(sharedPath('data/photos-flowers', cls)).sort().slice(0, 4);
      fs.forEach((f, i) => copyFileSync(sharedPath('data/photos-flowers', cls, f), join(photos, cls, i === 0 ? 'same-name.jpg' : f)));
    }
    lib = Library.open(join(t.dir, 'photos.constellate'));
    const root = lib.addRoot(photos);
    await scanRoots(lib, [root.id], testContext());
    await embedJob(lib, { model: 'photo', workers: 2 }, testContext());
    runId = await newRun();
  }, 120_000);
  afterAll(() => lib.close());

  it('exports one folder per group with whole copies, records it, and the folder tree imports back to the same grouping', async () => {
    const to = join(t.dir, 'out-folders');
    const progress: number[] = [];
    const r = await exp(lib, { runId, to, format: 'folders' }, (_s, d) => progress.push(d));
    const a = assignment(lib, runId);
    expect(r.items).toBe(a.size);
    expect(r.files).toBe(12);
    expect(r.groups).toBe(new Set(a.values()).size);
    expect(r.skipped).toBe(0);
    expect(progress.at(-1)).toBe(12);
    const got = files(to);
    expect(got).toHaveLength(12);
    expect(new Set(got.map((f) => f.split('/')[0]))).toEqual(new Set([...new Set(a.values())].map((c) => `cluster-${c}`)));
    // every file is a byte-identical copy of a library photo of that group
    const byHash = new Map((lib.db.prepare('SELECT id, path FROM photos').all() as Array<{ id: number; path: string }>).map((p) => [sha(p.path), p.id]));
    for (const f of got) {
      const id = byHash.get(sha(join(to, f)));
      expect(id).toBeDefined();
      expect(`cluster-${a.get(id!)}`).toBe(f.split('/')[0]);
      expect(lstatSync(join(to, f)).isSymbolicLink()).toBe(false);
    }
    expect(findExportTemps(to)).toEqual([]);
    const row = lib.db.prepare('SELECT * FROM exports WHERE id = ?').get(r.exportId) as { run_id: number; dir: string; format: string; count: number };
    expect(row).toMatchObject({ run_id: runId, dir: to, format: 'folders', count: 12 });

    // round trip
    const imp = await importLabels(lib, to);
    expect(imp.mode).toBe('folders');
    expect(imp.matched).toBe(12);
    expect(imp.photos).toBe(12);
    expect(imp.unmatched).toBe(0);
    const ids = Int32Array.from(a.keys());
    const truth = labelsFromLibrary(lib.db, 'photo', ids);
    const imported = new Map([...ids].map((id, i) => [id, truth.names[truth.labels[i]]]));
    expect(samePartition(a, imported)).toBe(true);
    // groups seeded: all unanimous, so named after their folder and curated
    expect(imp.seeded).toEqual([{ runId, kind: 'photo', named: r.groups, curated: r.groups }]);
    const named = lib.db.prepare('SELECT cluster, name, curated FROM clusters WHERE run_id = ?').all(runId) as Array<{ cluster: number; name: string; curated: number }>;
    for (const c of named) expect(c).toEqual({ cluster: c.cluster, name: `cluster-${c.cluster}`, curated: 1 });
  });

  it('adds to a folder that already has files, never overwriting: taken names get " (2)"', async () => {
    const run2 = await newRun();
    const to = join(t.dir, 'out-existing');
    const groups = [...new Set(assignment(lib, run2).values())];
    const firstItem = lib.db.prepare('SELECT p.path FROM assignments a JOIN photos p ON p.id = a.item_id WHERE a.run_id = ? AND a.cluster = ? ORDER BY a.item_id LIMIT 1').pluck().get(run2, groups[0]) as string;
    const taken = join(to, `cluster-${groups[0]}`, firstItem.split('/').pop()!);
    mkdirSync(join(to, `cluster-${groups[0]}`), { recursive: true });
    writeFileSync(taken, 'the user\'s own file');
    writeFileSync(join(to, 'notes.txt'), 'keep me');
    writeFileSync(join(to, `cluster-${groups[1]}`), 'a file where a group folder would go');
    const r = await exp(lib, { runId: run2, to, format: 'folders' });
    expect(readFileSync(taken, 'utf8')).toBe('the user\'s own file');
    expect(readFileSync(join(to, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(to, `cluster-${groups[1]}`), 'utf8')).toBe('a file where a group folder would go');
    expect(statSync(join(to, `cluster-${groups[1]} (2)`)).isDirectory()).toBe(true);
    expect(existsSync(taken.replace(/\.jpg$/, ' (2).jpg'))).toBe(true);
    expect(r.files).toBe(12);
    // the two "same-name.jpg" land in one folder when their classes share a group; all in all >= 2 collisions
    expect(r.collisions).toBeGreaterThanOrEqual(2);
    // exporting again adds a second copy of everything, still overwriting nothing
    const before = new Map(files(to).map((f) => [f, sha(join(to, f))]));
    const again = await exp(lib, { runId: run2, to, format: 'folders' });
    expect(again.collisions).toBeGreaterThanOrEqual(12);
    const after = files(to);
    expect(after.length).toBe(before.size + 12);
    for (const [f, h] of before) expect(sha(join(to, f))).toBe(h);
  });

  it('hard links and symlinks on request', async () => {
    const h = await exp(lib, { runId, to: join(t.dir, 'out-hard'), format: 'folders', link: 'hardlink' });
    const s = await exp(lib, { runId, to: join(t.dir, 'out-sym'), format: 'folders', link: 'symlink' });
    expect(h.files).toBe(12);
    expect(s.files).toBe(12);
    for (const f of files(join(t.dir, 'out-hard'))) expect(statSync(join(t.dir, 'out-hard', f)).nlink).toBeGreaterThan(1);
    for (const f of files(join(t.dir, 'out-sym'))) {
      expect(lstatSync(join(t.dir, 'out-sym', f)).isSymbolicLink()).toBe(true);
      expect(existsSync(join(t.dir, 'out-sym', f))).toBe(true);
    }
  });

  it('a target that cannot be written fails with one line naming the folder', async () => {
    // tests run as root, where chmod does not stop writes: a path under a regular file can never be a folder
    const file = join(t.dir, 'a-regular-file');
    writeFileSync(file, 'x');
    const to = join(file, 'export');
    for (const format of ['folders', 'csv', 'html'] as const) {
      const e = await exp(lib, { runId, to, format }).catch((x) => x);
      expect(e.code).toBe('BAD_ARGUMENT'); // a target that is not what it claims is bad input (exit 2), not an I/O failure
      expect(e.message).toContain(to);
      expect(e.message).toMatch(/cannot write there/);
      expect(e.message).not.toContain('\n');
    }
    const dry = await exp(lib, { runId, to, format: 'folders', dryRun: true }).catch((x) => x);
    expect(dry.code).toBe('BAD_ARGUMENT');
    await expect(exp(lib, { runId: 9999, to: join(t.dir, 'x'), format: 'csv' })).rejects.toThrow(/run 9999/);
    await expect(exp(lib, { runId, to: join(t.dir, 'x'), format: 'zip' as never })).rejects.toThrow(/format/);
    await expect(exp(lib, { runId, to: join(t.dir, 'x'), format: 'folders', link: 'move' as never })).rejects.toThrow(/link: expected copy, hardlink, symlink/);
  });

  it('a dry run lists the plan and writes nothing', async () => {
    const to = join(t.dir, 'out-dry', 'deeper');
    const n = (lib.db.prepare('SELECT COUNT(*) FROM exports').pluck().get() as number);
    const r = await exp(lib, { runId, to, format: 'folders', dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.files).toBe(12);
    expect(r.plan).toHaveLength(12);
    expect(new Set(r.plan!.map((p) => p.to)).size).toBe(12);
    expect(r.plan!.every((p) => p.to.startsWith(to) && p.action === 'copy')).toBe(true);
    expect(existsSync(join(t.dir, 'out-dry'))).toBe(false);
    for (const format of ['csv', 'json', 'html'] as const) {
      const d = await exp(lib, { runId, to, format, dryRun: true });
      expect(d.out).toBe(join(to, `run-${runId}.${format}`));
    }
    expect(existsSync(join(t.dir, 'out-dry'))).toBe(false);
    expect(lib.db.prepare('SELECT COUNT(*) FROM exports').pluck().get()).toBe(n);
  });

  it('cancellation leaves no temp files and only whole files', async () => {
    const to = join(t.dir, 'out-cancel');
    const ctx = testContext((_s, d) => { if (d === 5) ctx.cancel(); });
    const e = await exportRun(lib, { runId, to, format: 'folders' }, ctx).catch((x) => x);
    expect(e.code).toBe('CANCELLED');
    expect(findExportTemps(to)).toEqual([]);
    const got = files(to);
    expect(got.length).toBe(5);
    const hashes = new Set((lib.db.prepare('SELECT path FROM photos').pluck().all() as string[]).map(sha));
    for (const f of got) expect(hashes.has(sha(join(to, f)))).toBe(true);
    expect(lib.db.prepare('SELECT COUNT(*) FROM exports WHERE dir = ?').pluck().get(to)).toBe(0);
    // cancelled while writing the table: no file at all
    const to2 = join(t.dir, 'out-cancel-csv');
    const ctx2 = testContext((_s, d) => { if (d === 3) ctx2.cancel(); });
    await expect(exportRun(lib, { runId, to: to2, format: 'csv' }, ctx2)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(files(to2)).toEqual([]);
    // temps of an export that was killed (its pid is gone) are removed by the next export there; others' files stay
    const dead = join(to, `.constellate-export-999999999-x-y.jpg.tmp`);
    const live = join(to, `.constellate-export-${process.pid}-x-y.jpg.tmp`);
    writeFileSync(dead, 'half');
    writeFileSync(live, 'in use');
    writeFileSync(join(to, '.constellate-export-notes.txt'), 'user file');
    await exp(lib, { runId, to, format: 'csv' });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(join(to, '.constellate-export-notes.txt'))).toBe(true);
  });

  it('skips items whose photo is missing, with the reason, and exports the rest', async () => {
    const victim = lib.db.prepare('SELECT id, path FROM photos ORDER BY id LIMIT 1').get() as { id: number; path: string };
    lib.db.prepare(`UPDATE photos SET status = 'missing' WHERE id = ?`).run(victim.id);
    try {
      const to = join(t.dir, 'out-missing');
      const r = await exp(lib, { runId, to, format: 'folders' });
      expect(r.skipped).toBe(1);
      expect(r.files).toBe(11);
      expect(r.skippedItems).toEqual([{ item: victim.id, path: victim.path, reason: 'the photo file is missing' }]);
      expect(files(to)).toHaveLength(11);
    } finally {
      lib.db.prepare(`UPDATE photos SET status = 'ok' WHERE id = ?`).run(victim.id);
    }
  });

  it('import-labels reads CSV (quoted), JSON arrays and JSON lines; bad files fail with one line naming the file', async () => {
    const ps = lib.db.prepare('SELECT id, path FROM photos ORDER BY id LIMIT 3').all() as Array<{ id: number; path: string }>;
    const dir = join(t.dir, 'labels-files');
    mkdirSync(dir, { recursive: true });
    const label = (id: number) => lib.db.prepare(`SELECT label FROM labels WHERE kind = 'photo' AND item_id = ? AND source = 'import'`).pluck().get(id);
    writeFileSync(join(dir, 'a.csv'), `label,path\n"Smith, ""Jo""",${ps[0].path}\n,${ps[1].path}\n`);
    const a = await importLabels(lib, join(dir, 'a.csv'), { seed: false });
    expect(a).toMatchObject({ mode: 'csv', rows: 2, matched: 1, ignored: 1, photos: 1 });
    expect(label(ps[0].id)).toBe('Smith, "Jo"');
    // relative paths are relative to the file; a copy elsewhere matches by content
    const copy = join(dir, 'copy.jpg');
    copyFileSync(ps[2].path, copy);
    writeFileSync(join(dir, 'b.json'), JSON.stringify([{ path: 'copy.jpg', label: 'by content' }, { path: '/no/such.jpg', label: 'x' }]));
    const b = await importLabels(lib, join(dir, 'b.json'), { seed: false });
    expect(b).toMatchObject({ mode: 'json', matched: 1, unmatched: 1, unmatchedPaths: ['/no/such.jpg'] });
    expect(label(ps[2].id)).toBe('by content');
    writeFileSync(join(dir, 'c.jsonl'), `{"path": ${JSON.stringify(ps[1].path)}, "label": 7}\n{"path": ${JSON.stringify(ps[1].path)}, "label": "8"}\n`);
    const c = await importLabels(lib, join(dir, 'c.jsonl'), { seed: false });
    expect(c).toMatchObject({ mode: 'json', matched: 2, conflicts: 1 });
    expect(label(ps[1].id)).toBe('8');
    writeFileSync(join(dir, 'bad.csv'), 'file,name\nx,y\n');
    await expect(importLabels(lib, join(dir, 'bad.csv'))).rejects.toThrow(/bad\.csv: the CSV header needs 'path' and 'label'/);
    writeFileSync(join(dir, 'bad.jsonl'), '{"path": "a", "label": "b"}\nnot json\n');
    await expect(importLabels(lib, join(dir, 'bad.jsonl'))).rejects.toThrow(/bad\.jsonl:2: not JSON/);
    writeFileSync(join(dir, 'none.csv'), 'path,label\n/nowhere/a.jpg,z\n');
    await expect(importLabels(lib, join(dir, 'none.csv'))).rejects.toThrow(/none\.csv: none of its 1 rows matched/);
    await expect(importLabels(lib, join(dir, 'missing.csv'))).rejects.toThrow(/missing\.csv: no such file or folder/);
    // an export into a library folder warns
    const w = await exp(lib, { runId, to: join(photos, 'exported'), format: 'csv', dryRun: true });
    expect(w.warnings[0]).toMatch(/inside the library folder/);
    lib.db.prepare(`DELETE FROM labels WHERE source = 'import'`).run();
  });

  it('sanitizes unsafe group names and keeps them unique case-insensitively', async () => {
    const run3 = await newRun();
    const cs = [...new Set(assignment(lib, run3).values())].sort((x, y) => x - y);
    const set = lib.db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?');
    set.run('CON', run3, cs[0]);
    set.run('Alice', run3, cs[1]);
    set.run('alice', run3, cs[2]);
    const to = join(t.dir, 'out-names');
    const r = await exp(lib, { runId: run3, to, format: 'folders' });
    const folders = readdirSync(to).sort();
    // the larger group keeps the name; which of Alice/alice is larger depends on the clustering
    expect([['Alice', '_CON', 'alice (2)'], ['Alice (2)', '_CON', 'alice']]).toContainEqual(folders);
    expect(new Set(folders.map((f) => f.toLowerCase())).size).toBe(3);
    set.run('a/b:c*?"<>|\\. ', run3, cs[0]);
    set.run('\u0007bell.', run3, cs[1]);
    set.run('LPT1', run3, cs[2]);
    const to2 = join(t.dir, 'out-names2');
    const r2 = await exp(lib, { runId: run3, to: to2, format: 'folders' });
    expect(readdirSync(to2).sort()).toEqual(['_LPT1', '_bell', 'a_b_c_______'].sort());
    for (const f of r2.folders!) expect(f.folder).not.toMatch(/[<>:"/\\|?*\u0000-\u001f]|[. ]$/);
    expect(r.files + r2.files).toBe(24);
  });

  it('CSV and JSON have one row per item of the current state, with the similarities recomputed', async () => {
    const run4 = await newRun();
    // the labeling session moves one item to noise and names a group: exports follow
    const a0 = assignment(lib, run4);
    const [moved] = [...a0.keys()];
    lib.db.prepare('UPDATE assignments SET cluster = -1 WHERE run_id = ? AND item_id = ?').run(run4, moved);
    const named = a0.get([...a0.keys()][1])!;
    lib.db.prepare('UPDATE clusters SET name = ?, curated = 1 WHERE run_id = ? AND cluster = ?').run('Röses, "best"', run4, named);
    const a = assignment(lib, run4);
    const to = join(t.dir, 'out-table');
    const rc = await exp(lib, { runId: run4, to, format: 'csv' });
    const rj = await exp(lib, { runId: run4, to, format: 'json' });
    expect(rc.out).toBe(join(to, `run-${run4}.csv`));
    expect(rj.out).toBe(join(to, `run-${run4}.json`));
    const rows = parseCsv(readFileSync(rc.out!, 'utf8'));
    expect(rows[0]).toEqual([...TABLE_FIELDS]);
    const csv = rows.slice(1).map((r) => Object.fromEntries(rows[0].map((k, i) => [k, r[i]])));
    const json = JSON.parse(readFileSync(rj.out!, 'utf8'));
    expect(json.runId).toBe(run4);
    expect(json.distance).toMatch(/1 - similarity/);
    expect(csv).toHaveLength(a.size);
    expect(json.items).toHaveLength(a.size);
    expect(csv.some((r) => Number(r.item) === moved)).toBe(false);
    // recompute: centroid = normalized mean of normalized member vectors (current members)
    const m = loadMatrix(lib.db, 'photo');
    const row = new Map([...m.ids].map((id, i) => [id, i]));
    const unit = (i: number) => { const v = m.X.slice(i * m.d, (i + 1) * m.d); const n = Math.hypot(...v); return v.map((x) => x / n); };
    const centroid = new Map<number, Float32Array>();
    for (const c of new Set(a.values())) {
      const acc = new Float32Array(m.d);
      for (const [id, cc] of a) if (cc === c) unit(row.get(id)!).forEach((x, p) => { acc[p] += x; });
      const n = Math.hypot(...acc);
      centroid.set(c, acc.map((x) => x / n));
    }
    const paths = new Map((lib.db.prepare('SELECT id, path FROM photos').all() as Array<{ id: number; path: string }>).map((p) => [p.id, p.path]));
    for (const [i, r] of csv.entries()) {
      const id = Number(r.item);
      const c = a.get(id)!;
      expect(Number(r.cluster)).toBe(c);
      expect(r.run).toBe(String(run4));
      expect(r.model).toBe('photo');
      expect(r.kind).toBe('photo');
      expect(r.path).toBe(paths.get(id));
      expect(r.x).toBe('');
      expect(r.label).toBe(c === named ? 'Röses, "best"' : '');
      expect(r.curated).toBe(c === named ? '1' : '0');
      expect(Number(r.cluster_size)).toBe([...a.values()].filter((x) => x === c).length);
      const u = unit(row.get(id)!);
      const ce = centroid.get(c)!;
      let dot = 0;
      for (let p = 0; p < m.d; p++) dot += u[p] * ce[p];
      expect(Number(r.similarity)).toBeCloseTo(dot, 4);
      expect(Number(r.distance)).toBeCloseTo(1 - dot, 4);
      const j = json.items[i];
      expect(j.item).toBe(id);
      expect(j.similarity).toBeCloseTo(dot, 4);
      expect(j.label).toBe(c === named ? 'Röses, "best"' : null);
      expect(j.path).toBe(paths.get(id));
    }
    // groups untouched by the edit: same as the run's own stored similarities
    const stored = new Map((lib.db.prepare('SELECT item_id, sim FROM assignments WHERE run_id = ?').all(run4) as Array<{ item_id: number; sim: number }>).map((s) => [s.item_id, s.sim]));
    const editedGroup = a0.get(moved)!;
    for (const r of csv) if (Number(r.cluster) !== editedGroup) expect(Number(r.similarity)).toBeCloseTo(stored.get(Number(r.item))!, 4);
    // a second export does not overwrite the first
    const again = await exp(lib, { runId: run4, to, format: 'csv' });
    expect(again.out).toBe(join(to, `run-${run4} (2).csv`));
    expect(again.collisions).toBe(1);
    // --include-noise adds the moved item with cluster -1 and no similarity
    const withNoise = await exp(lib, { runId: run4, to: join(t.dir, 'out-table-noise'), format: 'json', includeNoise: true });
    const jn = JSON.parse(readFileSync(withNoise.out!, 'utf8'));
    expect(jn.items).toHaveLength(12);
    expect(jn.items.find((x: { item: number }) => x.item === moved)).toMatchObject({ cluster: -1, similarity: null, distance: null });
    // --curated-only: just the named group
    const cur = await exp(lib, { runId: run4, to: join(t.dir, 'out-table-cur'), format: 'csv', curatedOnly: true });
    expect(cur.groups).toBe(1);
    // the exported CSV imports as labels (named group only: unnamed rows have no label)
    const imp = await importLabels(lib, rc.out!, { seed: false });
    expect(imp.mode).toBe('csv');
    expect(imp.matched).toBe([...a.values()].filter((x) => x === named).length);
    expect(imp.ignored).toBe(a.size - imp.matched);
  });

  it('the HTML report is self-contained and escapes text', async () => {
    const run5 = await newRun();
    const c = [...assignment(lib, run5).values()][0];
    lib.db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run('<script>alert(1)</script> & "x"', run5, c);
    const to = join(t.dir, 'out-html');
    const r = await exp(lib, { runId: run5, to, format: 'html' });
    expect(r.out).toBe(join(to, `run-${run5}.html`));
    const html = readFileSync(r.out!, 'utf8');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)="(?!data:)/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
    expect(html).toContain('<svg');
    const imgs = html.match(/src="data:image\/jpeg;base64,[A-Za-z0-9+/=]+"/g) ?? [];
    // top and tail samples (up to 8 each) per group
    const expected = (lib.db.prepare('SELECT top, tail FROM clusters WHERE run_id = ?').all(run5) as Array<{ top: string; tail: string }>)
      .reduce((s, x) => s + Math.min(8, JSON.parse(x.top).length) + Math.min(8, JSON.parse(x.tail).length), 0);
    expect(imgs.length).toBe(expected);
    const one = Buffer.from(imgs[0]!.slice('src="data:image/jpeg;base64,'.length, -1), 'base64');
    expect((await sharp(one).metadata()).width).toBe(80);
    for (const k of ['Parameters', 'Metrics', 'before', 'after', 'kmeans']) expect(html).toContain(k);
  });
});

describe('face runs', () => {
  const dir = join(t.dir, 'faces');
  let lib: Library;
  let runId: number;
  beforeAll(async () => {
    mkdirSync(dir);
    for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 4)) cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true });
    lib = Library.open(join(t.dir, 'faces.constellate'));
    const root = lib.addRoot(dir);
    await scanRoots(lib, [root.id], testContext());
    await embedJob(lib, { model: 'face', workers: 2 }, testContext());
    runId = (await clusterJob(lib, { model: 'face', params: { algo: 'kmeans', k: 4, seed: 0 } }, testContext())).runId;
  }, 120_000);
  afterAll(() => lib.close());

  it('writes the face crops per group, and they import back to the same faces', async () => {
    const to = join(t.dir, 'out-faces');
    const r = await exp(lib, { runId, to, format: 'folders' });
    const a = assignment(lib, runId);
    expect(a.size).toBeGreaterThanOrEqual(8);
    expect(r.kind).toBe('face');
    expect(r.files).toBe(a.size);
    const got = files(to);
    expect(got).toHaveLength(a.size);
    const faces = new Map((lib.db.prepare('SELECT id, w, h FROM faces').all() as Array<{ id: number; w: number; h: number }>).map((f) => [f.id, f]));
    for (const f of got) {
      const id = Number(/-face(\d+)\.jpg$/.exec(f)![1]);
      expect(f.split('/')[0]).toBe(`cluster-${a.get(id)}`);
      const meta = await sharp(join(to, f)).metadata();
      expect(meta.format).toBe('jpeg');
      const box = faces.get(id)!;
      expect(Math.abs(meta.width! - box.w)).toBeLessThanOrEqual(2);
      expect(Math.abs(meta.height! - box.h)).toBeLessThanOrEqual(2);
    }
    // the crops are not photos of the library: they match their faces through the tag
    const imp = await importLabels(lib, to);
    expect(imp.faces).toBe(a.size);
    expect(imp.photos).toBe(0);
    const ids = Int32Array.from(a.keys());
    const truth = labelsFromLibrary(lib.db, 'face', ids);
    expect(truth.known).toBe(a.size);
    expect(samePartition(a, new Map([...ids].map((id, i) => [id, truth.labels[i]])))).toBe(true);
    expect(imp.seeded[0]).toMatchObject({ runId, kind: 'face' });
  });

  it('faces: photos writes each person\'s original photos (once each, linked as asked), not crops; a bad value is refused', async () => {
    const to = join(t.dir, 'out-face-photos');
    const a = assignment(lib, runId);
    const photoOf = new Map((lib.db.prepare('SELECT f.id, p.path FROM faces f JOIN photos p ON p.id = f.photo_id').all() as Array<{ id: number; path: string }>).map((f) => [f.id, f.path]));
    // the (group, photo) pairs: a photo with two faces of one person is written once for that person
    const pairs = new Set([...a].map(([id, c]) => `${c}\t${photoOf.get(id)}`));
    const dry = await exp(lib, { runId, to, format: 'folders', faces: 'photos', link: 'symlink', dryRun: true });
    expect(dry.plan!.every((p) => p.action === 'symlink' && p.from !== null && !/-face\d+\.jpg$/.test(p.to))).toBe(true);
    expect(dry.files).toBe(pairs.size);
    const r = await exp(lib, { runId, to, format: 'folders', faces: 'photos', link: 'symlink' });
    expect(r).toMatchObject({ kind: 'face', faces: 'photos', link: 'symlink', files: pairs.size, skipped: 0 });
    const got = files(to);
    expect(got).toHaveLength(pairs.size);
    for (const f of got) {
      expect(lstatSync(join(to, f)).isSymbolicLink()).toBe(true);
      const cluster = Number(/^cluster-(\d+)\//.exec(f)![1]);
      const target = readlinkSync(join(to, f));
      expect(pairs.has(`${cluster}\t${target}`)).toBe(true);
    }
    // the default stays crops
    expect((await exp(lib, { runId, to: join(t.dir, 'out-face-crops2'), format: 'folders', dryRun: true })).faces).toBe('crops');
    await expect(exp(lib, { runId, to, format: 'folders', faces: 'originals' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^faces: expected crops or photos/) });
  });

  it('CSV rows carry the face box, import back through it, and the HTML report shows the face samples', async () => {
    lib.db.prepare('UPDATE clusters SET name = NULL, curated = 0 WHERE run_id = ?').run(runId);
    const cs = [...new Set(assignment(lib, runId).values())].sort((x, y) => x - y);
    cs.forEach((c, i) => lib.db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ?').run(`person ${i}`, runId, c));
    const to = join(t.dir, 'out-faces-table');
    const r = await exp(lib, { runId, to, format: 'csv' });
    const rows = parseCsv(readFileSync(r.out!, 'utf8'));
    const csv = rows.slice(1).map((x) => Object.fromEntries(rows[0].map((k, i) => [k, x[i]])));
    const faces = new Map((lib.db.prepare('SELECT f.id, f.x, f.y, f.w, f.h, p.path FROM faces f JOIN photos p ON p.id = f.photo_id').all() as
      Array<{ id: number; x: number; y: number; w: number; h: number; path: string }>).map((f) => [f.id, f]));
    expect(csv.length).toBe(assignment(lib, runId).size);
    for (const row of csv) {
      const f = faces.get(Number(row.item))!;
      expect(row.kind).toBe('face');
      expect(row.path).toBe(f.path);
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(Number(row[k])).toBeCloseTo(f[k], 1);
      expect(row.label).toMatch(/^person \d$/);
    }
    lib.db.prepare(`DELETE FROM labels WHERE kind = 'face'`).run();
    const imp = await importLabels(lib, r.out!, { seed: false });
    expect(imp.faces).toBe(csv.length);
    expect(imp.photos).toBe(0);
    const got = new Map((lib.db.prepare(`SELECT item_id, label FROM labels WHERE kind = 'face'`).all() as Array<{ item_id: number; label: string }>).map((x) => [x.item_id, x.label]));
    for (const row of csv) expect(got.get(Number(row.item))).toBe(row.label);
    const h = await exp(lib, { runId, to, format: 'html' });
    const html = readFileSync(h.out!, 'utf8');
    expect(html).not.toMatch(/https?:\/\/|<script/i);
    expect((html.match(/src="data:image\/jpeg;base64,/g) ?? []).length).toBeGreaterThanOrEqual(cs.length);
    expect(html).toContain('person 0');
  });

  it('a folder tree of portraits labels photos, and their single faces inherit the label', async () => {
    const again = await importLabels(lib, dir, { seed: false });
    expect(again.photos).toBe(8);
    expect(again.inherited).toBe(0); // every face has its own label from the crops above: kept
    lib.db.prepare(`DELETE FROM labels WHERE kind = 'face'`).run();
    const r = await importLabels(lib, dir, { seed: false });
    const perPhoto = lib.db.prepare('SELECT photo_id, COUNT(*) AS n FROM faces GROUP BY photo_id').all() as Array<{ n: number }>;
    const single = perPhoto.filter((p) => p.n === 1).length;
    expect(single).toBeGreaterThan(0);
    expect(r.inherited).toBe(single);
    expect(r.faces).toBe(single);
    const person = readdirSync(dir).sort()[0];
    const pid = lib.db.prepare('SELECT id FROM photos WHERE path = ?').pluck().get(join(dir, person, 'neutral.jpg'));
    expect(lib.db.prepare(`SELECT label FROM labels WHERE kind = 'photo' AND item_id = ?`).pluck().get(pid)).toBe(person);
    const faceLabels = lib.db.prepare(`SELECT DISTINCT l.label FROM labels l JOIN faces f ON f.id = l.item_id WHERE l.kind = 'face' AND f.photo_id = ?`).pluck().all(pid);
    expect(faceLabels.length <= 1 && (faceLabels.length === 0 || faceLabels[0] === person)).toBe(true);
  });
});
