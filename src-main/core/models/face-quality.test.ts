import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_MIN_QUALITY, FaceEmbedder } from './face.ts';
import { ensureModels, sharedDir } from '../../testing/models.ts';

// The face quality floor (feature norm) against the shared sets: petals, a cake and a dog in photos-flowers are
// "faces" to the detector; the floor drops them and keeps every real face (the two people in one sunflower photo,
// all 60 of faces-london).
const images = (dir: string) => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => path.join(dir, f));
const flowers = images(path.join(sharedDir, 'data/photos-flowers'));
const london = images(path.join(sharedDir, 'data/faces-london'));

let fe: FaceEmbedder;
beforeAll(async () => { fe = await FaceEmbedder.load(await ensureModels(), { intraOpNumThreads: 1 }); });
afterAll(async () => { await fe?.release(); });

describe('face quality floor', () => {
  it('drops the 25 false faces of photos-flowers and keeps its two real ones', async () => {
    const kept: Array<{ file: string; quality: number }> = [];
    const before = fe.rejectedLowQuality;
    for (const f of flowers) for (const r of await fe.detectAndEmbed(f)) kept.push({ file: path.basename(f), quality: r.quality });
    // the two people standing in a sunflower field
    expect(kept.map((k) => k.file)).toEqual(['40410686_272bc66faf_m.jpg', '40410686_272bc66faf_m.jpg']);
    expect(Math.min(...kept.map((k) => k.quality))).toBeGreaterThanOrEqual(FACE_MIN_QUALITY);
    expect(fe.rejectedLowQuality - before).toBe(25);
  }, 300_000);

  it('keeps every face of faces-london (60 of 60)', async () => {
    const before = fe.rejectedLowQuality;
    let n = 0;
    for (const f of london) n += (await fe.detectAndEmbed(f)).length;
    expect(n).toBe(60);
    expect(fe.rejectedLowQuality - before).toBe(0);
  }, 300_000);
});
