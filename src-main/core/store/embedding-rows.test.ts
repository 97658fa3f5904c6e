/** The reader the streaming (minibatch) clustering worker takes its rows from, on a real library file. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/fixtures.ts';
import { openLibrary } from './db.ts';
import { blobVec, embeddingRowsReader, ensureModel, openWorkerDb, vecBlob } from './embeddings.ts';

let cleanup: (() => void) | null = null;
afterEach(() => { cleanup?.(); cleanup = null; });

describe('embeddingRowsReader', () => {
  it('gives the vectors of the asked items of one model only, skipping items without one', () => {
    const t = tempDir(); cleanup = t.cleanup;
    const file = join(t.dir, 'rows.constellate');
    const { db } = openLibrary(file);
    ensureModel(db, { name: 'a', kind: 'photo', dim: 2, version: '1', source: 'imported' });
    ensureModel(db, { name: 'b', kind: 'photo', dim: 2, version: '1', source: 'imported' });
    db.prepare('INSERT INTO roots (id, path, added_at) VALUES (1, ?, 0)').run(t.dir);
    const photo = db.prepare(`INSERT INTO photos (id, root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
      VALUES (?, 1, ?, ?, '', 1, 0, ?, 1, 1, 'jpeg', 0, 0)`);
    for (const id of [1, 2, 3, 4]) photo.run(id, join(t.dir, `${id}.jpg`), `${id}.jpg`, `h${id}`);
    const ins = db.prepare('INSERT INTO embeddings (model, item_id, version, vec) VALUES (?, ?, ?, ?)');
    for (const id of [1, 2, 3]) ins.run('a', id, '1', vecBlob(Float32Array.of(id, -id)));
    ins.run('b', 4, '1', vecBlob(Float32Array.of(9, 9)));
    db.close();
    const w = openWorkerDb(file);
    const read = embeddingRowsReader(w);
    const got = new Map(Array.from(read('a', [3, 1, 4, 99]), (r) => [r.item_id, Array.from(blobVec(r.vec, 2))]));
    expect(got).toEqual(new Map([[1, [1, -1]], [3, [3, -3]]]));
    expect(Array.from(read('b', [4]), (r) => r.item_id)).toEqual([4]);
    expect(Array.from(read('a', []))).toEqual([]);
    w.close();
  });
});
