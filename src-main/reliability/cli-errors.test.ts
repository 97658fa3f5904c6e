/**
 * Bad files and arguments through the real CLI: each case must exit 2 with exactly one stderr line that names the file
 * or parameter and what is wrong (and, with --json, `{error: {code, message}}` on stdout), and leave the library intact.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';
import { BIN, checkLibrary, cliSync } from './helpers.ts';

const t = tempDir('constellate-clierr-');
afterAll(() => t.cleanup());
const d = (...p: string[]) => join(t.dir, ...p);
const lib = d('lib.constellate');
const photos = d('photos');

/** A .npy file: header dict text and raw data. */
function npy(header: string, data: Buffer, version = 1): Buffer {
  let h = header;
  const pre = version === 1 ? 10 : 12;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const head = Buffer.alloc(pre);
  Buffer.from('\x93NUMPY', 'latin1').copy(head, 0);
  head[6] = version; head[7] = 0;
  if (version === 1) head.writeUInt16LE(h.length, 8); else head.writeUInt32LE(h.length, 8);
  return Buffer.concat([head, Buffer.from(h, 'latin1'), data]);
}
const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);

let files: string[] = [];
beforeAll(() => {
  mkdirSync(photos);
  files = readdirSync(sharedPath('data/photos-flowers/tulips')).sort().slice(0, 3);
  for (const f of files) copyFileSync(sharedPath('data/photos-flowers/tulips', f), join(photos, f));
  expect(cliSync(['scan', photos, '--library', lib, '--json']).code).toBe(0);
  const ok = `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }`;
  writeFileSync(d('good.npy'), npy(ok, f32(1, 2, 3, 4, 5, 6)));
  writeFileSync(d('text.npy'), 'this is not numpy\n');
  writeFileSync(d('short-header.npy'), Buffer.concat([Buffer.from('\x93NUMPY\x01\x00\xc8\x00', 'latin1'), Buffer.from("{'descr': '<f4',")]));
  writeFileSync(d('short-data.npy'), npy(ok, f32(1, 2, 3)));
  writeFileSync(d('three-d.npy'), npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }`, f32(1, 2, 3, 4, 5, 6)));
  writeFileSync(d('ints.npy'), npy(`{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }`, Buffer.alloc(24)));
  writeFileSync(d('nan.npy'), npy(ok, f32(1, 2, 3, 4, NaN, 6)));
  writeFileSync(d('fortran.npy'), npy(`{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }`, f32(1, 2, 3, 4, 5, 6)));
  writeFileSync(d('big-endian.npy'), npy(`{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }`, f32(1, 2, 3, 4, 5, 6)));
  writeFileSync(d('no-shape.npy'), npy(`{'descr': '<f4', 'fortran_order': False}`, f32(1, 2)));
  writeFileSync(d('huge-shape.npy'), npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 1000000), }`, f32(1)));
  const paths = files.map((f) => join(photos, f));
  writeFileSync(d('ids.csv'), ['path', ...paths].join('\n'));
  writeFileSync(d('ids-two.csv'), ['path', ...paths.slice(0, 2)].join('\n'));
  writeFileSync(d('ids-nopath.csv'), ['file', ...paths].join('\n'));
  writeFileSync(d('ids-empty.csv'), '\n\n');
  writeFileSync(d('ids-badjson.jsonl'), [JSON.stringify({ path: paths[0] }), '{broken', JSON.stringify({ path: paths[2] })].join('\n'));
  writeFileSync(d('ids-badbox.jsonl'), paths.map((p) => JSON.stringify({ path: p, box: [1, 2, 'x', 4] })).join('\n'));
  writeFileSync(d('ids-mixed.csv'), ['path,x,y,w,h', `${paths[0]},1,2,3,4`, `${paths[1]},,,,`, `${paths[2]},1,2,3,4`].join('\n'));
  writeFileSync(d('manifest-notjson.json'), '{ "name": ');
  writeFileSync(d('manifest-array.json'), '[1, 2, 3]');
  writeFileSync(d('manifest-empty.json'), '{}');
  writeFileSync(d('manifest-builtin.json'), JSON.stringify({ name: 'photo', file: 'x.onnx', dim: 4, input: { size: 224 } }));
});

type Case = [string, string[], RegExp];
const cases = (): Case[] => [
  // .npy files
  ['npy: not numpy', ['import-embeddings', d('text.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /text\.npy: not a \.npy file \(bad magic\)/],
  ['npy: truncated header', ['import-embeddings', d('short-header.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /short-header\.npy: truncated \.npy header/],
  ['npy: truncated data', ['import-embeddings', d('short-data.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /short-data\.npy: truncated data/],
  ['npy: 3-D', ['import-embeddings', d('three-d.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /three-d\.npy: expected a 2-D matrix, got shape \(1, 2, 3\)/],
  ['npy: int dtype', ['import-embeddings', d('ints.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /ints\.npy: dtype <i4 is not float16\/32\/64/],
  ['npy: NaN', ['import-embeddings', d('nan.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /nan\.npy: non-finite value at row 2, column 0/],
  ['npy: big-endian', ['import-embeddings', d('big-endian.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /big-endian\.npy: big-endian arrays are not supported/],
  ['npy: absurd shape', ['import-embeddings', d('huge-shape.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /huge-shape\.npy: truncated data/],
  ['npy: missing', ['import-embeddings', d('nope.npy'), '--ids', d('ids.csv'), '--model', 'ext'], /nope\.npy: cannot read \(ENOENT\)/],
  // a folder is a set of Parquet parts (issue 22): --ids does not apply, and a folder without parts says so
  ['npy: a folder', ['import-embeddings', photos, '--ids', d('ids.csv'), '--model', 'ext'], /--ids: only applies to \.npy matrices/],
  ['parquet: a folder without parts', ['import-embeddings', photos, '--model', 'ext'], /photos: the folder has no \.parquet parts/],
  // ids files
  ['ids: count', ['import-embeddings', d('good.npy'), '--ids', d('ids-two.csv'), '--model', 'ext'], /ids-two\.csv: 2 ids for 3 rows in .*good\.npy/],
  ['ids: no path column', ['import-embeddings', d('good.npy'), '--ids', d('ids-nopath.csv'), '--model', 'ext'], /ids-nopath\.csv: the CSV header must have a 'path' column \(its first line has 1 column, none named path\)/],
  ['ids: empty', ['import-embeddings', d('good.npy'), '--ids', d('ids-empty.csv'), '--model', 'ext'], /ids-empty\.csv: empty ids file/],
  ['ids: bad JSON line', ['import-embeddings', d('good.npy'), '--ids', d('ids-badjson.jsonl'), '--model', 'ext'], /ids-badjson\.jsonl:2: not a JSON object/],
  ['ids: bad box', ['import-embeddings', d('good.npy'), '--ids', d('ids-badbox.jsonl'), '--model', 'ext'], /ids-badbox\.jsonl:1: "box" must be \[x, y, w, h\] numbers/],
  ['ids: mixed boxes', ['import-embeddings', d('good.npy'), '--ids', d('ids-mixed.csv'), '--model', 'ext'], /ids-mixed\.csv: either every row has a face box or none does/],
  ['model: bad name', ['import-embeddings', d('good.npy'), '--ids', d('ids.csv'), '--model', 'bad name!'], /model: model names use letters, digits and _\.:- \(got "bad name!"\)/],
  // model manifests
  ['manifest: not JSON', ['embed', '--model', d('manifest-notjson.json')], /manifest-notjson\.json: cannot read the manifest/],
  ['manifest: no fields', ['embed', '--model', d('manifest-empty.json')], /manifest-empty\.json: field '\w+'/],
  ['manifest: not a model', ['embed', '--model', 'resnet'], /model: expected photo, face or a model manifest \(\.json\), got "resnet"/],
  // arguments
  ['args: embed without model', ['embed'], /--model is required/],
  ['args: batch 0', ['embed', '--model', 'photo', '--batch', '0'], /batch: expected an integer >= 1, got 0/],
  ['args: k not a number', ['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', 'abc'], /--k: expected a number/],
  ['args: unknown algo', ['cluster', '--embeddings', d('good.npy'), '--algo', 'magic', '--k', '2', '--out', d('l.npy')], /algo: expected one of .*got "magic"/],
  ['args: bad reduce', ['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '2', '--reduce', 'umap:x'], /--reduce: expected umap:N, pca:N, ae, ae:32 or ae:512-256-32 \(comma-separated\) or none, got "umap:x"/],
  ['args: unknown model', ['cluster', '--model', 'nosuch', '--algo', 'kmeans', '--k', '2'], /model "nosuch": no embeddings in this library/],
  ['args: scan a file', ['scan', d('good.npy')], /good\.npy is not a folder/],
  ['args: library is a folder', ['info', '--library', photos], /photos: is a folder, not a library file/, ],
];

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, CONSTELLATE_WORKERS: '1' } });
    let stdout = '', stderr = '';
    c.stdout.on('data', (x) => { stdout += x; });
    c.stderr.on('data', (x) => { stderr += x; });
    c.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

describe('bad files and arguments through the CLI', () => {
  it('each gets exit 2 and one error line naming what is wrong; the library is untouched', async () => {
    const all = cases();
    const failures: string[] = [];
    // two at a time, each on its own copy of the library (two writers on one library would get LIBRARY_LOCKED)
    const results = new Array<Awaited<ReturnType<typeof run>>>(all.length);
    let next = 0;
    await Promise.all([0, 1].map(async () => {
      while (next < all.length) {
        const i = next++;
        const [, args] = all[i];
        const copy = d(`case-${i}.constellate`);
        copyFileSync(lib, copy);
        const needsLibrary = !args.includes('--embeddings') && !args.includes('--library');
        results[i] = await run(needsLibrary ? [...args, '--library', copy, '--json'] : [...args, '--json']);
        if (needsLibrary) {
          const c = checkLibrary(copy);
          if (c.problems.length || c.photos !== 3 || Object.keys(c.embeddings).some((m) => c.embeddings[m] > 0)) failures.push(`${all[i][0]}: library changed: ${JSON.stringify(c)}`);
        }
      }
    }));
    all.forEach(([name, , re], i) => {
      const r = results[i];
      // progress lines may come first; the error is exactly one line
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('constellate: '));
      let json: { error?: { code: string; message: string } } = {};
      try { json = JSON.parse(r.stdout); } catch { /* reported below */ }
      if (r.code !== 2) failures.push(`${name}: exit ${r.code} (${r.stderr.trim().slice(0, 200)})`);
      else if (lines.length !== 1 || !r.stderr.trim().endsWith(lines[0])) failures.push(`${name}: ${lines.length} error lines: ${r.stderr.slice(0, 300)}`);
      else if (!re.test(lines[0])) failures.push(`${name}: ${JSON.stringify(lines[0])} does not match ${re}`);
      else if (!json.error || !/^[A-Z_]+$/.test(json.error.code) || json.error.code === 'INTERNAL') failures.push(`${name}: --json error is ${JSON.stringify(json)}`);
    });
    expect(failures).toEqual([]);
    console.log(`RELIABILITY cli-errors ${JSON.stringify({ cases: all.length })}`);
  }, 600_000); // some 50 cold CLI processes, two at a time: minutes on a busy 2-core machine (not a speed check)
});
