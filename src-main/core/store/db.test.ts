import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/fixtures.ts';
import { APPLICATION_ID, openLibrary } from './db.ts';
import { LATEST_VERSION, MIGRATIONS } from './migrations.ts';

let cleanup: (() => void) | null = null;
afterEach(() => { cleanup?.(); cleanup = null; });
function tmp() { const t = tempDir(); cleanup = t.cleanup; return t.dir; }

describe('library file', () => {
  it('creates a new library with every migration recorded, WAL and foreign keys on', () => {
    const file = join(tmp(), 'a.constellate');
    const { db, version } = openLibrary(file);
    expect(version).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    const applied = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
    db.close();
    // reopening applies nothing again
    const again = openLibrary(file);
    expect(again.db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(MIGRATIONS.length);
    again.db.close();
  });

  it('refuses a file that is not a library and leaves it unchanged', () => {
    const dir = tmp();
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'hello, this is not a database at all, just some text that is long enough'.repeat(3));
    const before = readFileSync(txt);
    expect(() => openLibrary(txt)).toThrow(/not a Constellate library/);
    expect(readFileSync(txt).equals(before)).toBe(true);

    const other = join(dir, 'other.sqlite');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    o.close();
    const b2 = readFileSync(other);
    expect(() => openLibrary(other)).toThrow(/another application/);
    expect(readFileSync(other).equals(b2)).toBe(true);
  });

  it('refuses a library written by a newer version and changes nothing', () => {
    const file = join(tmp(), 'new.constellate');
    const { db } = openLibrary(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(LATEST_VERSION + 5, 'future', 0);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = readFileSync(file);
    expect(() => openLibrary(file)).toThrow(/newer version of Constellate/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('backs up an older library before migrating it', () => {
    const dir = tmp();
    const file = join(dir, 'old.constellate');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec(MIGRATIONS[0].sql);
    db.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run(MIGRATIONS[0].name);
    db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/photos', 1);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.close();
    const opened = openLibrary(file);
    expect(opened.version).toBe(LATEST_VERSION);
    expect(opened.backup).not.toBeNull();
    expect(existsSync(opened.backup!)).toBe(true);
    expect(opened.db.prepare('SELECT path FROM roots').pluck().get()).toBe('/photos');
    opened.db.close();
    const b = new Database(opened.backup!, { readonly: true });
    expect(b.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(1);
    b.close();
    expect(readdirSync(dir).some((f) => f.startsWith('old.constellate.backup-v1-'))).toBe(true);
  });

  it('reports a damaged library clearly', () => {
    const file = join(tmp(), 'broken.constellate');
    const { db } = openLibrary(file);
    db.exec('CREATE TABLE filler (x BLOB)');
    const ins = db.prepare('INSERT INTO filler VALUES (?)');
    for (let i = 0; i < 200; i++) ins.run(Buffer.alloc(2000, i));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const buf = readFileSync(file);
    // keep the header, scribble over the pages
    for (let i = 4096; i < buf.length; i += 7) buf[i] = (i * 31) & 0xff;
    writeFileSync(file, buf);
    expect(() => openLibrary(file)).toThrow(/damaged/);
  });
});
