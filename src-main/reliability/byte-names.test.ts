/**
 * File and folder names that are not valid UTF-8 (Latin-1 names from old cameras, Windows shares, zip files): Linux
 * allows any bytes, and Node's string paths turn them into U+FFFD, which names no file. They were skipped as "no
 * longer exists"; now names travel as bytes (core/fs-names.ts): scan finds them, thumbnails and embeddings are made,
 * exports copy and link them under their original bytes.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesOfName, fsPath, nameFromBytes } from '../core/fs-names.ts';
import { CoreService } from '../core/service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir('constellate-bytes-');
afterAll(() => t.cleanup());

const B = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
/** a path under the temp folder from raw bytes */
const P = (...parts: Array<string | number[]>) => B(t.dir, '/', ...parts);

describe('names that are not valid UTF-8', () => {
  it('the byte mapping is lossless both ways, and plain for valid UTF-8', () => {
    for (const b of [B('café.jpg'), B('caf', [0xe9], '.jpg'), B([0xff, 0xfe, 0x80]), B('\uF7E9x'), B([0xed, 0xa0, 0x80]), B('a\uFFFDb'), B([0xe2, 0x82])]) {
      expect(bytesOfName(nameFromBytes(b)).equals(b), b.toString('hex')).toBe(true);
    }
    expect(nameFromBytes(B('café/Été.jpg'))).toBe('café/Été.jpg');
    expect(fsPath('/a/café.jpg')).toBe('/a/café.jpg');
    expect(Buffer.isBuffer(fsPath(nameFromBytes(B('/a/caf', [0xe9]))))).toBe(true);
  });

  it('scan, thumbnails, embed, cluster and export handle Latin-1 and invalid UTF-8 names', async () => {
    const flowers = readdirSync(sharedPath('data/photos-flowers/daisy')).filter((f) => f.endsWith('.jpg')).sort().slice(0, 6);
    const src = (i: number) => sharedPath('data/photos-flowers/daisy', flowers[i]);
    const root = join(t.dir, 'photos');
    // a Latin-1 folder "Été" (c9 74 e9) with a Latin-1 file "café.jpg" (e9) and an invalid sequence (ff fe)
    const latinDir = P('photos/', [0xc9], 't', [0xe9]);
    mkdirSync(latinDir, { recursive: true });
    const names = [B('caf', [0xe9], '.jpg'), B([0xff, 0xfe], '.jpg'), B('ok.jpg')];
    names.forEach((n, i) => cpSync(src(i), Buffer.concat([latinDir, B('/'), n]) as unknown as string));
    mkdirSync(join(root, 'plain'), { recursive: true });
    cpSync(src(3), join(root, 'plain', 'plain.jpg'));
    cpSync(src(4), P('photos/plain/', [0xe0, 0x80], '.jpg') as unknown as string); // overlong: invalid UTF-8
    cpSync(src(5), join(root, 'plain', 'ünïcode.jpg'));

    const svc = CoreService.open(join(t.dir, 'lib.constellate'));
    try {
      const [r] = await svc.addRoots({ paths: [root] });
      const scan = await svc.waitJob({ id: (await svc.scan({ rootIds: [r.id] })).id });
      expect(scan.error).toBeNull();
      expect((await svc.listScanIssues({})).items).toEqual([]);
      const page = await svc.listPhotos({ limit: 50 });
      expect(page.total).toBe(6);
      const byBytes = new Map(page.items.map((p) => [bytesOfName(p.path).toString('hex'), p]));
      const latinFile = Buffer.concat([latinDir, B('/'), names[0]]);
      const cafe = byBytes.get(latinFile.toString('hex'));
      expect(cafe?.status).toBe('ok');
      expect(bytesOfName(cafe!.folder).equals(B([0xc9], 't', [0xe9]))).toBe(true);
      expect(readFileSync(fsPath(cafe!.path)).equals(readFileSync(src(0)))).toBe(true);
      for (const p of page.items) expect(existsSync(svc.lib.thumbPath(p.hash)), p.path).toBe(true);

      // a rescan finds them unchanged (not missing, not re-read)
      const again = await svc.waitJob({ id: (await svc.scan({ rootIds: [r.id] })).id });
      expect(again.kind === 'scan' && again.result).toMatchObject({ unchanged: 6, missing: 0, errors: 0, added: 0 });

      const emb = await svc.waitJob({ id: (await svc.embed({ model: 'photo' })).id });
      expect(emb.kind === 'embed' && emb.result).toMatchObject({ processed: 6, failed: 0 });
      const run = await svc.waitJob({ id: (await svc.cluster({ model: 'photo', params: { algo: 'kmeans', k: 2, seed: 1 } })).id });
      const runId = run.kind === 'cluster' ? run.result!.runId : -1;
      expect(runId).toBeGreaterThan(0);

      for (const link of ['copy', 'hardlink', 'symlink'] as const) {
        const to = join(t.dir, `export-${link}`);
        const ex = await svc.waitJob({ id: (await svc.exportRun({ runId, to, format: 'folders', link })).id });
        expect(ex.kind === 'export' && ex.result, link).toMatchObject({ files: 6, skipped: 0 });
        // every exported file under its original bytes, with the photo's content
        const exported = readdirSync(to).flatMap((g) => readdirSync(join(to, g), { encoding: 'buffer' }).map((n) => Buffer.concat([B(to, '/', g, '/'), n])));
        expect(exported.map((f) => f.subarray(f.lastIndexOf('/') + 1).toString('hex')).sort())
          .toEqual([...names, B('plain.jpg'), B([0xe0, 0x80], '.jpg'), B('ünïcode.jpg')].map((n) => n.toString('hex')).sort());
        for (const f of exported) expect(readFileSync(f).length, f.toString('hex')).toBeGreaterThan(1000);
      }
      const json = join(t.dir, 'export-json');
      const ej = await svc.waitJob({ id: (await svc.exportRun({ runId, to: json, format: 'json' })).id });
      expect(ej.state).toBe('done');
    } finally {
      await svc.close();
    }
  }, 300_000);
});
