/**
 * Face embeddings of the labeled sets in ../shared for the people benches: faces-london, faces-orl and a mixed library
 * (London + ORL + photos-flowers + a sample of photos-cifar10, whose face detections are junk), scanned and embedded
 * with the real face model into a temporary library; cached as raw Float32 files when a cache folder is given.
 * Labels: the person folder for London/ORL faces, -1 for faces found in the flowers/cifar10 photos (no person).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itemSources, loadMatrix } from '../../src-main/core/store/embeddings.ts';
import { CoreService } from '../../src-main/core/service.ts';
import { sharedPath } from '../../src-main/testing/fixtures.ts';

export type FaceSetName = 'london' | 'orl' | 'mixed';
export interface FaceSet { name: FaceSetName; X: Float32Array; n: number; d: number; labels: Int32Array; junk: number; paths: string[] }

const PEOPLE: Record<'london' | 'orl', string> = { london: 'faces-london', orl: 'faces-orl' };

function copySet(dst: string, set: string, perClass = Infinity): void {
  const src = sharedPath('data', set);
  for (const e of readdirSync(src, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const files = readdirSync(join(src, e.name)).filter((f) => /\.(jpe?g|png|pgm|bmp|webp)$/i.test(f)).sort().slice(0, perClass);
    mkdirSync(join(dst, set, e.name), { recursive: true });
    for (const f of files) cpSync(join(src, e.name, f), join(dst, set, e.name, f));
  }
}

async function build(name: FaceSetName, cifarPerClass: number): Promise<FaceSet> {
  const dir = mkdtempSync(join(tmpdir(), `bench-faces-${name}-`));
  const photos = join(dir, 'photos');
  if (name === 'mixed') {
    copySet(photos, 'faces-london'); copySet(photos, 'faces-orl'); copySet(photos, 'photos-flowers'); copySet(photos, 'photos-cifar10', cifarPerClass);
  } else copySet(photos, PEOPLE[name]);
  const svc = CoreService.open(join(dir, 'faces.constellate'));
  try {
    await svc.addRoots({ paths: [photos] });
    await svc.waitJob({ id: (await svc.scan()).id });
    const e = await svc.waitJob({ id: (await svc.embed({ model: 'face' })).id });
    if (e.state !== 'done') throw new Error(`embed ${name}: ${e.state} ${JSON.stringify(e.error)}`);
    const m = loadMatrix(svc.lib.db, 'face');
    const paths = itemSources(svc.lib.db, 'face', m.ids).paths;
    const ids = new Map<string, number>();
    const labels = new Int32Array(m.n);
    let junk = 0;
    paths.forEach((f, i) => {
      const parts = f.split(/[\\/]/);
      const set = parts[parts.length - 3], person = parts[parts.length - 2];
      if (set !== 'faces-london' && set !== 'faces-orl') { labels[i] = -1; junk++; return; }
      const key = `${set}/${person}`;
      if (!ids.has(key)) ids.set(key, ids.size);
      labels[i] = ids.get(key)!;
    });
    return { name, X: Float32Array.from(m.X), n: m.n, d: m.d, labels, junk, paths };
  } finally { await svc.close(); }
}

/** The set, from the cache folder when it holds it, else built (and cached when `cache` is given). */
export async function faceSet(name: FaceSetName, cache?: string, cifarPerClass = 300): Promise<FaceSet> {
  const base = cache ? join(cache, `${name}${name === 'mixed' ? `-c${cifarPerClass}` : ''}`) : '';
  if (cache && existsSync(`${base}.json`)) {
    const h = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { n: number; d: number; junk: number; paths: string[] };
    const xb = readFileSync(`${base}.f32`), lb = readFileSync(`${base}.labels`);
    const X = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
    const labels = new Int32Array(lb.buffer.slice(lb.byteOffset, lb.byteOffset + lb.byteLength));
    return { name, X: X.subarray(0, h.n * h.d), n: h.n, d: h.d, labels: labels.subarray(0, h.n), junk: h.junk, paths: h.paths };
  }
  const s = await build(name, cifarPerClass);
  if (cache) {
    mkdirSync(cache, { recursive: true });
    writeFileSync(`${base}.f32`, Buffer.from(s.X.buffer, s.X.byteOffset, s.X.byteLength));
    writeFileSync(`${base}.labels`, Buffer.from(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
    writeFileSync(`${base}.json`, JSON.stringify({ n: s.n, d: s.d, junk: s.junk, paths: s.paths }));
  }
  return s;
}
