import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faceThumbKey, isThumbKey, previewHashOfRoute, previewRoute, thumbKeyOfRoute, thumbRoute } from '../common/thumbs.ts';
import { REPO_ROOT } from '../testing/fixtures.ts';
import { previewFile, thumbFile } from './thumb-path.ts';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('one thumbnail-path module', () => {
  it('maps a key to <dir>/<2 hex>/<key>.jpg and refuses anything else', () => {
    expect(thumbFile('/c/thumbs', 'ab23456789abcdef')).toBe('/c/thumbs/ab/ab23456789abcdef.jpg');
    expect(thumbFile('/c/thumbs', faceThumbKey('ab23456789abcdef', 3))).toBe('/c/thumbs/ab/ab23456789abcdef-f3.jpg');
    for (const bad of ['', '../../etc/passwd', 'ab23456789abcdef/../../x', 'AB23456789ABCDEF', 'ab23456789abcdef-f', 'ab2345', 'ab23456789abcdef.jpg'])
      expect(() => thumbFile('/c/thumbs', bad), bad).toThrow(/BAD_ARGUMENT|not a cache key/);
  });

  it('the URL route round-trips a key and refuses other paths', () => {
    const key = faceThumbKey('0123456789abcdef0123', 12);
    expect(isThumbKey(key)).toBe(true);
    expect(thumbKeyOfRoute('/' + thumbRoute(key))).toBe(key);
    for (const bad of ['/thumb/../x.jpg', '/thumb/0123456789abcdef.png', '/thumb/0123456789abcdef.jpg/x', '/thumbs/0123456789abcdef.jpg'])
      expect(thumbKeyOfRoute(bad), bad).toBeNull();
  });

  it('a preview is named by a photo hash only: <dir>/<2 hex>/<hash>.jpg, and its route round-trips', () => {
    expect(previewFile('/c/previews', 'ab23456789abcdef')).toBe('/c/previews/ab/ab23456789abcdef.jpg');
    for (const bad of ['', '../../etc/passwd', 'ab23456789abcdef-f1', 'AB23456789ABCDEF', 'ab2345', 'ab23456789abcdef.jpg'])
      expect(() => previewFile('/c/previews', bad), bad).toThrow(/not a content hash/);
    expect(previewHashOfRoute('/' + previewRoute('0123456789abcdef0123'))).toBe('0123456789abcdef0123');
    for (const bad of ['/preview/../x.jpg', '/preview/0123456789abcdef-f1.jpg', '/preview/0123456789abcdef.jpg/x', '/thumb/0123456789abcdef.jpg', '/previews/0123456789abcdef.jpg'])
      expect(previewHashOfRoute(bad), bad).toBeNull();
  });

  it('no production file but thumb-path.ts / common/thumbs.ts makes a thumbnail path, a thumbnail route or parses a key', () => {
    const own = new Set(['src-main/core/thumb-path.ts', 'src-main/common/thumbs.ts']);
    const offenders: string[] = [];
    for (const f of [...sources(join(REPO_ROOT, 'src-main')), ...sources(join(REPO_ROOT, 'src-renderer', 'src'))]) {
      const rel = relative(REPO_ROOT, f);
      if (own.has(rel) || rel.startsWith('src-main/testing/') || rel.startsWith('src-main/reliability/')) continue;
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        if (/slice\(0, ?2\).*\.jpg|\.jpg.*slice\(0, ?2\)/.test(line) || /\{16,64\}\((\?:)?-f/.test(line) || /-f\$\{/.test(line) || /thumb\/\$\{/.test(line) || /preview\/\$\{/.test(line)) offenders.push(`${rel}: ${line.trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
