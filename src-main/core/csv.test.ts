import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labelsFromFile } from './cluster/labels.ts';
import { csvRow, readCsv } from './csv.ts';
import { Library } from './library.ts';
import { scanRoots } from './scan/scanner.ts';
import { sharedPath, tempDir, testContext } from '../testing/fixtures.ts';

const t = tempDir('constellate-csv-');
afterAll(() => t.cleanup());

describe('the one CSV reader and writer', () => {
  it('round-trips commas, quotes and line breaks in a field', () => {
    const fields = ['/photos/a,b/x.jpg', 'say "cheese"', 'two\nlines', '', 3];
    const line = csvRow(fields);
    expect(line).toBe('"/photos/a,b/x.jpg","say ""cheese""","two\nlines",,3');
    expect(readCsv(`path,label\n${line}\n\n`)).toEqual([['path', 'label'], fields.map(String)]);
    expect(readCsv('\ufeffpath,label\r\nx,1\r\n')).toEqual([['path', 'label'], ['x', '1']]);
  });

  it('the labels reader (cluster --labels FILE) keeps a path with a comma whole', async () => {
    const dir = join(t.dir, 'Smith, Anna');
    mkdirSync(dir);
    const src = sharedPath('data/photos-flowers/tulips');
    const names = readdirSync(src).sort().slice(0, 2);
    for (const f of names) copyFileSync(join(src, f), join(dir, f));
    const lib = Library.open(join(t.dir, 'lib.constellate'));
    try {
      await scanRoots(lib, [lib.addRoot(dir).id], testContext());
      const ids = Int32Array.from(lib.photos({ limit: 10 }).items.map((p) => p.id));
      const file = join(t.dir, 'labels.csv');
      writeFileSync(file, ['path,label', ...names.map((f, i) => csvRow([join(dir, f), i === 0 ? 'tulip, red' : 'tulip'])) ].join('\n'));
      const r = labelsFromFile(lib.db, 'photo', ids, file);
      expect(r.known).toBe(2);
      expect([...r.names].sort()).toEqual(['tulip', 'tulip, red']);
    } finally {
      lib.close();
    }
  });
});
