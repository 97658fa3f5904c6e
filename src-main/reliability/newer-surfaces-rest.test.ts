/**
 * The newer surfaces, what the first pass left open: Arrow files streamed by record batch (a large file was read
 * whole), `import-run` refusing a repeated item (it was counted as unmatched), serve's previews within the photo
 * reader's and the decode budget's bounds, `import-xmp` off the event loop, a restore bringing back the files a later
 * keep-best trash moved away, and export-xmp's leaked temps swept. Each case failed before its fix.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { BufferRegion, FieldNode, Message, RecordBatch as MetaRecordBatch } from 'apache-arrow/ipc/metadata/message';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnarWriter } from '../core/interop/columnar-write.ts';
import { openColumnar, readBatches } from '../core/interop/columnar.ts';
import { importEmbeddingsFile, importRun } from '../core/interop/import.ts';
import { checkLibrary as check } from '../core/check.ts';
import { Library } from '../core/library.ts';
import { PreviewCache } from '../core/preview.ts';
import { readXmp } from '../core/xmp/sidecars.ts';
import { writeXmpPeople } from '../core/xmp/xmp.ts';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';
import { runLibrary } from './fault-fixture.ts';

type Err = { code?: string; message?: string };
const errOf = async (p: Promise<unknown> | (() => unknown)): Promise<Err | null> => {
  try { await (typeof p === 'function' ? p() : p); return null; } catch (e) { return e as Err; }
};

let t: { dir: string; cleanup: () => void };
let lib: Library;
let photos: string[];

beforeAll(async () => {
  t = tempDir('constellate-newer-rest-');
  ({ lib, photos } = await runLibrary(t.dir, 12));
});
afterAll(() => { try { lib.close(); } catch { /* closed */ } t.cleanup(); });

/** An Arrow table of `n` rows (id, path, a dictionary-encoded tag, d-dim vectors) in record batches of `per` rows. */
function arrowTable(n: number, d: number, per: number, value: (i: number, j: number) => number): arrow.Table {
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = value(i, j);
  const type = new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), false));
  const whole = new arrow.Table({
    id: arrow.vectorFromArray(Int32Array.from({ length: n }, (_, i) => i)),
    tag: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (i % 3 ? 'a' : 'b')), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    embedding: arrow.makeVector(arrow.makeData({ type, length: n, nullCount: 0, child: arrow.makeData({ type: new arrow.Float32(), length: X.length, data: X }) })),
  });
  const batches: arrow.RecordBatch[] = [];
  for (let s = 0; s < n; s += per) batches.push(...whole.slice(s, Math.min(n, s + per)).batches);
  return new arrow.Table(whole.schema, batches);
}

describe('Arrow files, one record batch at a time', () => {
  it('file and stream format: a part per record batch, values bit for bit, dictionaries kept', async () => {
    const value = (i: number, j: number) => Math.fround(i * 0.5 - j * 0.25);
    const tbl = arrowTable(1000, 6, 300, value);
    for (const fmt of ['file', 'stream'] as const) {
      const p = join(t.dir, `multi-${fmt}.arrow`);
      writeFileSync(p, arrow.tableToIPC(tbl, fmt));
      const src = openColumnar(p);
      expect(src.rows).toBe(1000);
      expect(src.parts.map((x) => x.rows)).toEqual([300, 300, 300, 100]);
      expect(src.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['id:int', 'tag:other', 'embedding:list']);
      let rows = 0, wrong = 0;
      for await (const b of readBatches(src, { scalars: ['id'], vectors: ['embedding'], lists: [] })) {
        const ids = b.cols.id as ArrayLike<number>;
        const { X, d } = b.vectors.embedding;
        expect(d).toBe(6);
        for (let i = 0; i < b.n; i++) {
          if (ids[i] !== b.start + i) wrong++;
          for (let j = 0; j < d; j++) if (X[i * d + j] !== value(b.start + i, j)) wrong++;
        }
        rows += b.n;
      }
      expect(wrong).toBe(0);
      expect(rows).toBe(1000);
      // one part alone (the streaming k-means revisits parts by index)
      const third: number[] = [];
      for await (const b of readBatches(src, { scalars: ['id'] }, { parts: [2] })) third.push(...Array.from(b.cols.id as ArrayLike<number>));
      expect(third[0]).toBe(600);
      expect(third.length).toBe(300);
    }
  });

  it("the writer cuts a large table into record batches, read back the same", async () => {
    const n = 40_000, d = 512; // 82 MB of vectors: two batches of at most 64 MiB
    const X = new Float32Array(n * d);
    for (let i = 0; i < X.length; i++) X[i] = (i % 997) - 498;
    const p = join(t.dir, 'written.arrow');
    const w = await ColumnarWriter.create(p, 'arrow', [{ name: 'id', type: 'int32' }, { name: 'embedding', type: 'vector' }], { d });
    w.write({ id: Int32Array.from({ length: n }, (_, i) => i), embedding: X } as never, n);
    w.finish();
    const src = openColumnar(p);
    expect(src.parts.length).toBeGreaterThan(1);
    let wrong = 0;
    for await (const b of readBatches(src, { vectors: ['embedding'] })) {
      const v = b.vectors.embedding.X;
      for (let k = 0; k < v.length; k++) if (v[k] !== X[b.start * d + k]) { wrong++; break; }
    }
    expect(wrong).toBe(0);
  });

  it('a 160 MB file is read with memory for a batch or two, not the whole file', () => {
    const n = 80_000, d = 512, per = 4_000; // 8 MiB batches
    const p = join(t.dir, 'large.arrow');
    writeFileSync(p, arrow.tableToIPC(arrowTable(n, d, per, (i, j) => ((i + j) % 13) - 6), 'file'));
    const size = readFileSync(p).byteLength;
    const script = `
      const { openColumnar, readBatches } = await import(${JSON.stringify(join(REPO_ROOT, 'src-main/core/interop/columnar.ts'))});
      const base = process.memoryUsage().rss;
      const src = openColumnar(${JSON.stringify(p)});
      let rows = 0, peak = base;
      // the caller lets each batch go (collected at once): what is left is what the reader holds. RSS sampled per
      // batch (the peak of getrusage would carry the forked parent's over exec)
      for await (const b of readBatches(src, { vectors: ['embedding'] })) {
        rows += b.n; peak = Math.max(peak, process.memoryUsage().rss); globalThis.gc();
      }
      console.log(JSON.stringify({ rows, base, peak }));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; base: number; peak: number };
    expect(o.rows).toBe(n);
    // reading it whole grew the process by the file's size and more (196 MB); a batch at a time by a few batches
    expect(o.peak - o.base).toBeLessThan(size / 4);
  }, 180_000);

  it('a truncated file or a footer pointing past the end is a BAD_FILE naming the file', async () => {
    const p = join(t.dir, 'cut.arrow');
    writeFileSync(p, arrow.tableToIPC(arrowTable(500, 4, 100, (i) => i), 'file'));
    const whole = readFileSync(p);
    truncateSync(p, whole.byteLength - 40);
    const e1 = await errOf(() => openColumnar(p));
    expect(e1?.code).toBe('BAD_FILE');
    expect(e1?.message).toContain(p);
    // a footer length of 2^31 - 1
    const bad = Buffer.from(whole);
    bad.writeInt32LE(0x7fffffff, bad.byteLength - 10);
    writeFileSync(p, bad);
    const e2 = await errOf(() => openColumnar(p));
    expect(e2?.code).toBe('BAD_FILE');
    expect(e2?.message).toMatch(/footer of 2147483647 bytes/);
    // a stream cut inside its last batch
    const s = join(t.dir, 'cut-stream.arrow');
    const stream = Buffer.from(arrow.tableToIPC(arrowTable(500, 4, 100, (i) => i), 'stream'));
    writeFileSync(s, stream.subarray(0, stream.byteLength - 100));
    const e3 = await errOf(() => openColumnar(s));
    expect(e3?.code).toBe('BAD_FILE');
    expect(e3?.message).toContain(s);
  });
});

describe('Arrow: a record batch too large to hold', () => {
  it('is refused by name from its header, nothing of it read (a sparse 300 MiB batch)', async () => {
    const frame = (fb: Uint8Array) => {
      const padded = Math.ceil((fb.byteLength + 8) / 8) * 8 - 8;
      const out = Buffer.alloc(8 + padded);
      out.writeUInt32LE(0xffffffff, 0); out.writeInt32LE(padded, 4); out.set(fb, 8);
      return out;
    };
    const schema = new arrow.Schema([new arrow.Field('x', new arrow.Float32(), false)]);
    const body = 300 * 1024 * 1024, n = body / 4;
    const header = new MetaRecordBatch(n, [new FieldNode(n, 0)], [new BufferRegion(0, 0), new BufferRegion(0, body)], null);
    const p = join(t.dir, 'huge-batch.arrow');
    const head = Buffer.concat([frame(Message.encode(Message.from(schema))), frame(Message.encode(Message.from(header, body)))]);
    writeFileSync(p, head);
    truncateSync(p, head.byteLength + body); // a hole: 300 MiB of zeros that take no disk
    appendFileSync(p, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    const e = await errOf(() => openColumnar(p));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toContain(p);
    expect(e?.message).toMatch(/record batch 1 is 300 MiB, above the 256 MiB read at once/);
  });
});

describe('import spools', () => {
  it("an import first removes the spools of killed imports (a dead pid's), not a running one's", async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(lib.cacheDir, { recursive: true });
    const dead = join(lib.cacheDir, '.import-4194301-1700000000000.f32'), live = join(lib.cacheDir, `.import-${process.ppid}-1700000000001.f32`);
    writeFileSync(dead, Buffer.alloc(1 << 20));
    writeFileSync(live, Buffer.alloc(16));
    try {
      const p = join(t.dir, 'sweep.parquet');
      const w = await ColumnarWriter.create(p, 'parquet', [{ name: 'path', type: 'string' }, { name: 'embedding', type: 'vector' }], { d: 4 });
      w.write({ path: photos.slice(0, 2), embedding: new Float32Array(8).fill(0.5) } as never, 2);
      w.finish();
      await importEmbeddingsFile(lib, { file: p, model: 'sweep' });
      expect([existsSync(dead), existsSync(live)]).toEqual([false, true]);
    } finally { execFileSync('rm', ['-f', dead, live]); }
  });
});

describe('import-run', () => {
  it('an item repeated in the file is refused naming both rows (it was counted as unmatched)', async () => {
    const p = join(t.dir, 'run-dup.parquet');
    const w = await ColumnarWriter.create(p, 'parquet', [{ name: 'path', type: 'string' }, { name: 'cluster', type: 'int32' }]);
    w.write({ path: [photos[0], photos[1], photos[2], photos[1]], cluster: [0, 1, 0, 1] }, 4);
    w.finish();
    const runs = lib.db.prepare('SELECT COUNT(*) FROM runs').pluck().get();
    const e = await errOf(importRun(lib, { file: p, model: 'blobs' }));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toContain(p);
    expect(e?.message).toMatch(/row 4 repeats the item of row 2/);
    expect(lib.db.prepare('SELECT COUNT(*) FROM runs').pluck().get()).toBe(runs);
  });
});


describe("serve's previews", () => {
  it('a progressive JPEG beyond the decode budget is a BAD_IMAGE from its header (it cost +600 MB per request)', async () => {
    const big = join(t.dir, 'progressive.jpg');
    await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#808080' } }).jpeg({ progressive: true, quality: 50 }).toFile(big);
    const size = readFileSync(big).byteLength;
    const cache = new PreviewCache(join(t.dir, 'previews'), () => ({ path: big, size }));
    const old = process.env.CONSTELLATE_DECODE_BUDGET_MB;
    process.env.CONSTELLATE_DECODE_BUDGET_MB = '8'; // 3000 x 3000 at 4:2:0 needs ~26 MiB of coefficients
    try {
      const e = await errOf(cache.file('a'.repeat(32)));
      expect(e?.code).toBe('BAD_IMAGE');
      expect(e?.message).toContain(big);
      expect(e?.message).toMatch(/progressive JPEG needs about \d+ MiB to decode, budget 8 MiB/);
    } finally {
      if (old === undefined) delete process.env.CONSTELLATE_DECODE_BUDGET_MB; else process.env.CONSTELLATE_DECODE_BUDGET_MB = old;
    }
    // within the budget it renders
    const ok = await cache.file('a'.repeat(32));
    expect((await sharp(ok).metadata()).width).toBeLessThanOrEqual(1600);
  });

  it('a larger file or a FIFO swapped in for the photo is refused by name, nothing read past the scanned size', async () => {
    const p = join(t.dir, 'swapped.jpg');
    writeFileSync(p, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4 << 20)]));
    const cache = new PreviewCache(join(t.dir, 'previews2'), () => ({ path: p, size: 1000 }));
    const e1 = await errOf(cache.file('b'.repeat(32)));
    expect(e1?.code).toBe('CONFLICT');
    expect(e1?.message).toContain(p);
    const fifo = join(t.dir, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
    const c2 = new PreviewCache(join(t.dir, 'previews3'), () => ({ path: fifo, size: 0 }));
    const e2 = await errOf(c2.file('c'.repeat(32)));
    expect(e2?.code).toBe('BAD_FILE');
    expect(e2?.message).toContain(fifo);
  });

  it('many previews asked at once are rendered a few at a time, all of them', async () => {
    const files: string[] = [];
    for (let i = 0; i < 6; i++) {
      const f = join(t.dir, `many-${i}.jpg`);
      await sharp({ create: { width: 400 + i, height: 300, channels: 3, background: '#336699' } }).jpeg().toFile(f);
      files.push(f);
    }
    const hashes = files.map((_, i) => String(i).repeat(32));
    const cache = new PreviewCache(join(t.dir, 'previews4'), (h) => { const f = files[hashes.indexOf(h)]; return { path: f, size: readFileSync(f).byteLength }; });
    const out = await Promise.all(hashes.map((h) => cache.file(h)));
    expect(out.every((f) => existsSync(f))).toBe(true);
    expect(new Set(out).size).toBe(6);
  });
});

describe('import-xmp', () => {
  it('reads sidecars without holding the event loop (serve answered nothing until the last sidecar was read)', async () => {
    const regions = Array.from({ length: 1_900 }, (_, i) => ({ name: `p${i}`, x: (i % 40) / 40, y: Math.floor(i / 40) / 50, w: 0.02, h: 0.02 }));
    const xml = writeXmpPeople(null, { dims: { w: 1000, h: 1000 }, regions });
    for (const p of photos) writeFileSync(`${p}.xmp`, xml);
    try {
      let ticks = 0, last = performance.now(), gap = 0;
      const timer = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; ticks++; }, 2);
      const t0 = performance.now();
      const r = await readXmp(lib);
      const total = performance.now() - t0;
      clearInterval(timer);
      expect(r.sidecars).toBe(photos.length);
      expect(r.regions).toBe(photos.length * 1_900);
      // the timer ran while the sidecars were read: no stall near the whole read's length
      expect(ticks).toBeGreaterThan(3);
      expect(gap).toBeLessThan(total / 2);
    } finally {
      for (const p of photos) execFileSync('rm', ['-f', `${p}.xmp`]);
    }
  });
});

describe('restore after a keep-best trash', () => {
  it("the backup's photos that a later keep-best moved to the trash come back to their places (the undo was gone)", async () => {
    const { CoreService } = await import('../core/service.ts');
    const dir = join(t.dir, 'trash-lib');
    const made = await runLibrary(dir, 6);
    const file = made.lib.path, runId = made.runId;
    made.lib.close();
    const trash = join(dir, 'Trash');
    const prev = process.env.CONSTELLATE_TRASH;
    process.env.CONSTELLATE_TRASH = trash;
    const svc = CoreService.open(file);
    try {
      const ids = svc.lib.db.prepare('SELECT id, path FROM photos ORDER BY id').all() as Array<{ id: number; path: string }>;
      const backup = await svc.backupNow();
      const bytes = ids.map((x) => readFileSync(x.path));
      const r = await svc.keepBestDuplicates({ runId, groups: [{ items: [ids[0]!.id, ids[1]!.id, ids[2]!.id], keep: ids[0]!.id }], trash: true });
      expect(r.files?.trashed.sort()).toEqual([ids[1]!.path, ids[2]!.path].sort());
      expect(existsSync(ids[1]!.path)).toBe(false);
      // another file trashed under a photo's name, with other bytes: not the photo, stays in the trash
      const stray = join(dir, 'stray', ids[3]!.path.split('/').pop()!);
      execFileSync('mkdir', ['-p', join(dir, 'stray')]);
      writeFileSync(stray, 'not the photo');
      const { moveToTrash } = await import('../core/curation/trash.ts');
      const strayT = moveToTrash(stray);
      writeFileSync(join(trash, 'info', strayT.info.split('/').pop()!), `[Trash Info]\nPath=${ids[3]!.path}\nDeletionDate=2026-01-01T00:00:00\n`);
      const moved = readFileSync(ids[3]!.path);
      execFileSync('rm', [ids[3]!.path]);
      const out = await svc.restoreBackup({ path: backup.path });
      expect(out.fromTrash.sort()).toEqual([ids[1]!.path, ids[2]!.path].sort());
      expect(readFileSync(ids[1]!.path).equals(bytes[1]!)).toBe(true);
      expect(readFileSync(ids[2]!.path).equals(bytes[2]!)).toBe(true);
      expect(existsSync(ids[3]!.path)).toBe(false);
      expect(existsSync(strayT.trashed)).toBe(true);
      writeFileSync(ids[3]!.path, moved);
      // a second restore finds nothing to bring back
      expect((await svc.restoreBackup({ path: backup.path })).fromTrash).toEqual([]);
    } finally {
      await svc.close();
      if (prev === undefined) delete process.env.CONSTELLATE_TRASH; else process.env.CONSTELLATE_TRASH = prev;
    }
  });
});

describe('check', () => {
  it('sees run members left without a vector of their model (it said ok)', async () => {
    const { lib: l2, runId } = await runLibrary(join(t.dir, 'novec'), 6);
    try {
      expect(check(l2).problems.map((p) => p.kind)).not.toContain('member-without-vector');
      const item = l2.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? LIMIT 1').pluck().get(runId) as number;
      l2.db.prepare(`DELETE FROM embeddings WHERE model = 'blobs' AND item_id = ?`).run(item);
      const p = check(l2).problems.find((x) => x.kind === 'member-without-vector');
      expect(p).toMatchObject({ count: 1, message: expect.stringMatching(new RegExp(`run ${runId}: 1 members have no blobs embedding`)) });
    } finally { l2.close(); }
  });
});
