/**
 * "Is this a library?" before Open: checkLibrary says whether a path can be opened (or made a library) and refuses
 * a folder, another kind of file, an empty file or a missing one with the reason, creating or changing nothing; the
 * open of an empty file without "New library" is refused the same way (it used to become a library silently).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreService } from './service.ts';
import { LibraryHost } from './library-host.ts';
import { checkLibraryPath } from './recent-libraries.ts';
import { LATEST_VERSION } from './store/migrations.ts';
import { tempDir } from '../testing/fixtures.ts';

const t = tempDir();
afterAll(() => t.cleanup());
const refusal = (f: () => unknown) => { try { f(); return null; } catch (e) { return e as { code: string; message: string }; } };

describe('checkLibrary', () => {
  it('a library, a new one, the current one; a folder, a text file, an empty file, a missing one refused with the reason; nothing made', async () => {
    const lib = join(t.dir, 'a.constellate');
    await CoreService.open(lib).close();
    expect(checkLibraryPath(lib, false, null)).toEqual({ path: lib, exists: true, current: false, version: LATEST_VERSION });
    expect(checkLibraryPath(lib, false, lib).current).toBe(true);
    const fresh = join(t.dir, 'fresh.constellate');
    expect(checkLibraryPath(fresh, true, null)).toEqual({ path: fresh, exists: false, current: false, version: 0 });
    expect(existsSync(fresh)).toBe(false);
    // a photo folder: a folder, with a hint; a folder holding a library: that file named
    const photos = join(t.dir, 'photos');
    mkdirSync(photos);
    expect(refusal(() => checkLibraryPath(photos, false, null))).toMatchObject({ code: 'NOT_A_LIBRARY', message: expect.stringMatching(/photos: is a folder, not a library file \(a library is one file/) });
    expect(refusal(() => checkLibraryPath(t.dir, true, null))).toMatchObject({ code: 'NOT_A_LIBRARY', message: expect.stringContaining(`it holds ${lib}`) });
    const text = join(t.dir, 'notes.txt');
    writeFileSync(text, 'shopping list\n'.repeat(20));
    expect(refusal(() => checkLibraryPath(text, false, null))).toMatchObject({ code: 'NOT_A_LIBRARY', message: expect.stringMatching(/not a Constellate library/) });
    const empty = join(t.dir, 'empty.constellate');
    writeFileSync(empty, '');
    expect(refusal(() => checkLibraryPath(empty, false, null))).toMatchObject({ code: 'NOT_A_LIBRARY', message: expect.stringMatching(/an empty file, not a library yet/) });
    expect(checkLibraryPath(empty, true, null).exists).toBe(true);
    expect(refusal(() => checkLibraryPath(join(t.dir, 'nope.constellate'), false, null))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no library there/) });
    expect(refusal(() => checkLibraryPath('rel/x.constellate', false, null))).toMatchObject({ code: 'BAD_ARGUMENT' });
    // nothing was created or changed by the checks (the library's own SQLite sidecars aside)
    expect(readdirSync(t.dir).filter((f) => !f.startsWith('a.constellate')).sort()).toEqual(['empty.constellate', 'notes.txt', 'photos']);
    expect(statSync(empty).size).toBe(0);
  });

  it('the service and the host: checkLibrary answers; opening an empty file without create is refused and the old library stays', async () => {
    const lib = join(t.dir, 'b.constellate');
    const svc = CoreService.open(lib);
    const host = new LibraryHost(svc, { recentFile: join(t.dir, 'recent.json') });
    try {
      expect(await svc.checkLibrary({ path: lib })).toMatchObject({ current: true });
      const empty = join(t.dir, 'empty2.constellate');
      writeFileSync(empty, '');
      await expect(svc.checkLibrary({ path: empty })).rejects.toMatchObject({ code: 'NOT_A_LIBRARY' });
      await expect(host.open(empty)).rejects.toMatchObject({ code: 'NOT_A_LIBRARY' });
      expect(statSync(empty).size).toBe(0);
      expect(host.service.lib.path).toBe(lib);
      expect((await host.open(empty, true)).library).toBe(empty);
    } finally { await host.close(); }
  });
});
