/**
 * Peak memory of `import-embeddings` on a large Arrow file through the CLI (/usr/bin/time's maximum RSS), this tree
 * against another checkout given by its root (the same file, the same fresh library, back to back):
 *   node --import tsx bench/arrow-rss.mts [rows=320000] [--base /path/to/other/checkout]
 * The file: `rows` x 512 float32 vectors (with a path column) in record batches of 16,384 rows; the first rows name
 * the library's photos, the rest paths that are not in it (reported unmatched). Prints one JSON line per tree.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { runLibrary } from '../src-main/reliability/fault-fixture.ts';
import { REPO_ROOT, tempDir } from '../src-main/testing/fixtures.ts';

const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--base');
const ROWS = Number(args[0] ?? 320_000), D = 512, PER = 16_384;
const baseIdx = process.argv.indexOf('--base');
const trees = [REPO_ROOT, ...(baseIdx > 0 ? [process.argv[baseIdx + 1]!] : [])];
const t = tempDir('arrow-rss-');
const { lib, photos } = await runLibrary(t.dir, 12);
const libFile = lib.path;
lib.close();

const file = join(t.dir, 'big.arrow');
{
  const batches: arrow.RecordBatch[] = [];
  const type = new arrow.FixedSizeList(D, new arrow.Field('item', new arrow.Float32(), false));
  let schema: arrow.Schema | null = null;
  for (let s = 0; s < ROWS; s += PER) {
    const m = Math.min(PER, ROWS - s);
    const X = new Float32Array(m * D);
    for (let i = 0; i < X.length; i++) X[i] = ((s * D + i) % 1009) / 1009;
    const t1 = new arrow.Table({
      path: arrow.vectorFromArray(Array.from({ length: m }, (_, i) => (s + i < photos.length ? photos[s + i]! : `/nowhere/${s + i}.jpg`)), new arrow.Utf8()),
      embedding: arrow.makeVector(arrow.makeData({ type, length: m, nullCount: 0, child: arrow.makeData({ type: new arrow.Float32(), length: X.length, data: X }) })),
    });
    schema ??= t1.schema;
    batches.push(...t1.batches);
  }
  writeFileSync(file, arrow.tableToIPC(new arrow.Table(schema!, batches), 'file'));
}
const size = statSync(file).size;
for (const [i, root] of trees.entries()) {
  const copy = join(t.dir, `lib-${i}.constellate`);
  copyFileSync(libFile, copy);
  const load = loadavg()[0]!.toFixed(2);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, join(root, 'src-main/cli/bin.mjs'), 'import-embeddings', file, '--model', 'big', '--library', copy, '--json'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, CONSTELLATE_WORKERS: '2' }, timeout: 600_000 });
  const ms = Math.round(performance.now() - t0);
  const rssMiB = Math.round(Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024);
  let out: unknown = (r.stdout || r.stderr).split('\n').find((l) => l.trim()) ?? '';
  try { const j = JSON.parse(r.stdout) as { imported?: number; unmatched?: number }; out = { imported: j.imported, unmatched: j.unmatched }; } catch { /* text */ }
  console.log(JSON.stringify({ tree: root, fileMiB: Math.round(size / 1048576), exit: r.status, seconds: ms / 1000, maxRssMiB: rssMiB, loadBefore: load, loadAfter: loadavg()[0]!.toFixed(2), out }));
}
t.cleanup();
