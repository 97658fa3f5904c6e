import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/fixtures.ts';
import { homeTrash, moveToTrash, restoreFromTrash } from './trash.ts';

const t = tempDir();
const prev = process.env.CONSTELLATE_TRASH;
afterAll(() => { if (prev === undefined) delete process.env.CONSTELLATE_TRASH; else process.env.CONSTELLATE_TRASH = prev; t.cleanup(); });

describe('freedesktop trash', () => {
  it('moves (never deletes) with a .trashinfo, keeps same-named files apart, restores, and refuses to overwrite', () => {
    process.env.CONSTELLATE_TRASH = join(t.dir, 'Trash');
    expect(homeTrash()).toBe(join(t.dir, 'Trash'));
    const a = join(t.dir, 'a b', 'x%1.jpg'), b = join(t.dir, 'c', 'x%1.jpg');
    mkdirSync(join(t.dir, 'a b')); mkdirSync(join(t.dir, 'c'));
    writeFileSync(a, 'A'); writeFileSync(b, 'B');
    const ta = moveToTrash(a), tb = moveToTrash(b);
    expect(existsSync(a)).toBe(false);
    expect(ta.trashed).toBe(join(t.dir, 'Trash/files/x%1.jpg'));
    expect(tb.trashed).toBe(join(t.dir, 'Trash/files/x%1.2.jpg'));
    expect(readFileSync(tb.trashed, 'utf8')).toBe('B');
    const info = readFileSync(ta.info, 'utf8');
    expect(ta.info).toBe(join(t.dir, 'Trash/info/x%1.jpg.trashinfo'));
    expect(info).toContain(`Path=${t.dir.split('/').map(encodeURIComponent).join('/')}/a%20b/x%251.jpg\n`);
    restoreFromTrash(ta);
    expect(readFileSync(a, 'utf8')).toBe('A');
    expect(existsSync(ta.info)).toBe(false);
    writeFileSync(b, 'new');
    expect(() => restoreFromTrash(tb)).toThrow(/exists again/);
    expect(readFileSync(tb.trashed, 'utf8')).toBe('B');
    expect(() => moveToTrash(join(t.dir, 'nope.jpg'))).toThrow(/nope\.jpg/);
    expect(() => moveToTrash(join(t.dir, 'c'))).toThrow(/not a file/);
  });
});
