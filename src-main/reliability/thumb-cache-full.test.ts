/**
 * A full thumbnail cache (a real fixed-size tmpfs mounted on the library's thumbnail folder, filled to the byte): the
 * scan goes on, every photo whose thumbnail cannot be written is a recorded I/O failure with a clear reason (never
 * "not an image"), `getInfo` counts them as retryable, and `retryFailed` (the UI's retry button) scans their folders
 * again: once space is back the photos and their thumbnails are there. Needs root to mount: skipped visibly elsewhere.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoreService } from '../core/service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { CAN_MOUNT, fillDisk, smallDisk, type Mounted } from './fault-mounts.ts';

const t = tempDir('constellate-thumbfull-');
let disk: Mounted | null = null;
afterAll(() => { disk?.cleanup(); t.cleanup(); });

describe.skipIf(!CAN_MOUNT)('full thumbnail cache', () => {
  it('thumbnails fail with a clear I/O error, shown in info, and retryFailed reads them once space is back', async () => {
    const photos = join(t.dir, 'photos');
    mkdirSync(photos);
    for (const f of readdirSync(sharedPath('data/photos-flowers/sunflowers')).filter((x) => x.endsWith('.jpg')).sort().slice(0, 6))
      cpSync(sharedPath('data/photos-flowers/sunflowers', f), join(photos, f));
    const lib = join(t.dir, 'lib.constellate');
    // the thumbnail folder is a 256 KiB tmpfs, filled up (bind the mount where the library puts its thumbnails)
    disk = smallDisk('256k');
    const thumbs = join(`${lib}.cache`, 'thumbs');
    mkdirSync(thumbs, { recursive: true });
    const { execFileSync } = await import('node:child_process');
    execFileSync('mount', ['--bind', disk.dir, thumbs]);
    const inner = disk;
    disk = { dir: disk.dir, cleanup: () => { try { execFileSync('umount', ['-l', thumbs]); } catch { /* gone */ } inner.cleanup(); } };
    const filler = fillDisk(thumbs, 0);

    const svc = CoreService.open(lib);
    try {
      const [root] = await svc.addRoots({ paths: [photos] });
      const s1 = await svc.waitJob({ id: (await svc.scan({ rootIds: [root.id] })).id });
      expect(s1.state).toBe('done'); // the scan itself goes on
      expect(s1.kind === 'scan' && s1.result).toMatchObject({ added: 0, errors: 6 });
      const issues = (await svc.listScanIssues({})).items;
      expect(issues).toHaveLength(6);
      for (const i of issues) expect(i.reason).toMatch(/^cannot write the thumbnail \(.*(disk is full|ENOSPC)/);
      expect(await svc.getInfo()).toMatchObject({ photos: 0, errors: 6, retryableErrors: 6 });

      // still full: retried, still failing, nothing lost
      const r1 = await svc.retryFailed();
      expect(r1).toMatchObject({ errors: 6, retryable: 6, rootIds: [root.id] });
      const e1 = await svc.waitJob({ id: r1.scan!.id });
      expect(e1.kind === 'scan' && e1.result).toMatchObject({ added: 0, errors: 6 });

      rmSync(filler);
      const r2 = await svc.retryFailed();
      expect(r2.rootIds).toEqual([root.id]);
      const e2 = await svc.waitJob({ id: r2.scan!.id });
      expect(e2.kind === 'scan' && e2.result).toMatchObject({ added: 6, errors: 0 });
      expect(await svc.getInfo()).toMatchObject({ photos: 6, errors: 0, retryableErrors: 0 });
      for (const p of (await svc.listPhotos({})).items) expect(existsSync(svc.lib.thumbPath(p.hash))).toBe(true);
      expect(await svc.retryFailed()).toEqual({ errors: 0, retryable: 0, rootIds: [], scan: null });
    } finally {
      await svc.close();
    }
  }, 300_000);
});
