import { cpSync, realpathSync, utimesSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PhotoEmbedder } from '../models/index.ts';
import { MODELS_DIR } from '../paths.ts';
import { tempDir } from '../../testing/fixtures.ts';
import { LRUCache } from 'lru-cache';
import { MAX_MODELS, fileKey, lazyWarmGemm, warmGemm, warmModel, warmModelCache, warmStats } from './warm.ts';

const t = tempDir();
afterAll(() => t.cleanup());

describe('warm sessions', () => {
  it('keeps one MatMul session per thread count', async () => {
    const s0 = warmStats();
    const a = await warmGemm(1);
    const b = await warmGemm(1);
    const s1 = warmStats();
    expect(s1.gemmSessions - s0.gemmSessions).toBeLessThanOrEqual(1);
    expect(s1.gemmReused - s0.gemmReused).toBeGreaterThanOrEqual(1);
    const A = Float32Array.from([1, 2, 3, 4]), Bt = Float32Array.from([1, 0, 0, 1]);
    expect(Array.from(await a(A, 2, Bt, 2, 2))).toEqual(Array.from(await b(A, 2, Bt, 2, 2)));
    await a.release(); // a no-op: the session stays for the next task
    expect(Array.from(await b(A, 2, Bt, 2, 2))).toEqual([1, 2, 3, 4]);
  });

  it('a lazy MatMul session is created on its first product, not before, and then kept', async () => {
    const threads = 3; // a thread count no other test here uses
    const s0 = warmStats();
    const g = lazyWarmGemm(threads);
    expect(warmStats().gemmSessions).toBe(s0.gemmSessions);
    const A = Float32Array.from([1, 2, 3, 4]), Bt = Float32Array.from([0, 1, 1, 0]);
    expect(Array.from(await g(A, 2, Bt, 2, 2))).toEqual([2, 1, 4, 3]);
    expect(warmStats().gemmSessions - s0.gemmSessions).toBe(1);
    await g(A, 2, Bt, 2, 2);
    await lazyWarmGemm(threads)(A, 2, Bt, 2, 2);
    expect(warmStats().gemmSessions - s0.gemmSessions).toBe(1);
    await g.release();
  });

  it('reuses a loaded model while its files are unchanged, and loads again when a file changes', async () => {
    const dir = join(t.dir, 'models');
    cpSync(realpathSync(MODELS_DIR), dir, { recursive: true, dereference: true, filter: (src) => !src.includes(`${sep}.cache`) });
    const key = () => fileKey([join(dir, 'photo.onnx'), join(dir, 'checksums.json')]);
    const s0 = warmStats();
    const m1 = await warmModel(key(), () => PhotoEmbedder.load(dir));
    const m2 = await warmModel(key(), () => PhotoEmbedder.load(dir));
    expect(m2).toBe(m1);
    expect(warmStats().modelSessions - s0.modelSessions).toBe(1);
    expect(warmStats().modelReused - s0.modelReused).toBe(1);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'photo.onnx'), later, later); // the file changed (as far as the key can tell)
    const m3 = await warmModel(key(), () => PhotoEmbedder.load(dir));
    expect(m3).not.toBe(m1);
    expect(warmStats().modelSessions - s0.modelSessions).toBe(2);
  }, 120_000);

  it('the model cache is a bounded lru-cache: the least recently used is released, a failed load is not kept', async () => {
    const { cache, max } = warmModelCache();
    expect(cache).toBeInstanceOf(LRUCache);
    expect(max).toBe(MAX_MODELS);
    cache.clear();
    const released: string[] = [];
    const fake = (name: string) => async () => ({ name, release: async () => { released.push(name); } });
    const a = await warmModel('a', fake('a'));
    await warmModel('b', fake('b'));
    await warmModel('c', fake('c'));
    expect(await warmModel('a', fake('a2'))).toBe(a); // a hit: 'a' is now the most recently used
    await warmModel('d', fake('d')); // evicts 'b', the least recently used
    await new Promise((r) => setTimeout(r, 10));
    expect(released).toEqual(['b']);
    expect(warmModelCache().keys.sort()).toEqual(['a', 'c', 'd']);
    await expect(warmModel('bad', async () => { throw new Error('no such model'); })).rejects.toThrow(/no such model/);
    await new Promise((r) => setTimeout(r, 10));
    expect(warmModelCache().keys).not.toContain('bad');
    cache.clear();
  });
});
