/**
 * Face actions (issue 19) with the real face model on real photos: "not a face" is remembered by photo and box so a
 * re-embed does not bring it back (and undo forgets it); a face drawn by hand is embedded as the pipeline embeds a
 * detection and joins a run unassigned; the library's face settings (quality floor, excluded folders) drive embed.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobVec } from '../store/embeddings.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';

const t = tempDir('constellate-faces-');
let svc: CoreService;
const SUNFLOWERS = sharedPath('data/photos-flowers/sunflowers/40410686_272bc66faf_m.jpg');

const embedFaces = async () => {
  const j = await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
  expect(j.state).toBe('done');
  return j.result as { processed: number; faces: number; rejectedFaces: number };
};
const facesOn = (path: string) => svc.lib.db.prepare('SELECT f.id, f.x, f.y, f.w, f.h, f.manual FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path = ? ORDER BY f.id').all(path) as Array<{ id: number; x: number; y: number; w: number; h: number; manual: number }>;
const vec = (id: number) => blobVec(svc.lib.db.prepare(`SELECT vec FROM embeddings WHERE model = 'face' AND item_id = ?`).pluck().get(id) as Buffer, 512);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
/** Makes the next embed look at every photo again (as a new model version would). */
const forgetProcessed = () => svc.lib.db.prepare(`DELETE FROM processed WHERE model = 'face'`).run();

beforeAll(async () => {
  mkdirSync(join(t.dir, 'people'), { recursive: true });
  cpSync(SUNFLOWERS, join(t.dir, 'people', 'sunflowers.jpg'));
  for (const p of ['person-001', 'person-002']) cpSync(sharedPath('data/faces-london', p), join(t.dir, 'people', p), { recursive: true });
  svc = CoreService.open(join(t.dir, 'faces.constellate'));
  await svc.addRoots({ paths: [join(t.dir, 'people')] });
  await svc.jobs.wait((await svc.scan()).id);
  await embedFaces();
}, 300_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

describe('face actions', () => {
  it('"not a face" leaves the run\'s people, is never suggested, and a re-embed does not bring it back; undo forgets it', async () => {
    const photo = join(t.dir, 'people', 'sunflowers.jpg');
    const [f1, f2] = facesOn(photo);
    expect([f1, f2].every(Boolean)).toBe(true);
    const job = await svc.jobs.wait((await svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 3, seed: 1 } })).id);
    const runId = (job.result as { runId: number }).runId;
    const r = await svc.markNotFace({ runId, items: [f1.id] });
    expect(r.description).toBe('mark 1 face as not a face');
    expect(svc.lib.db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, f1.id)).toBe(-1);
    for (const p of await svc.listPeople({ runId })) expect((await svc.getSuggestions({ runId, cluster: p.cluster })).suggestions.map((s) => s.item)).not.toContain(f1.id);
    forgetProcessed();
    await embedFaces();
    // the other face keeps its id; the one marked is not detected again
    expect(facesOn(photo).map((f) => f.id)).toEqual([f2.id]);
    await svc.undo({ runId });
    expect(svc.lib.db.prepare('SELECT COUNT(*) FROM not_faces').pluck().get()).toBe(0);
    forgetProcessed();
    await embedFaces();
    expect(facesOn(photo)).toHaveLength(2);
  }, 300_000);

  it('a face marked "not a face" (still embedded) stays out of new runs and of assign until the mark is undone', async () => {
    const photo = join(t.dir, 'people', 'sunflowers.jpg');
    const [f] = facesOn(photo);
    const first = (await svc.jobs.wait((await svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 3, seed: 1 } })).id)).result as { runId: number };
    await svc.markNotFace({ runId: first.runId, items: [f.id] });
    const rowOf = (runId: number) => svc.lib.db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, f.id);
    const second = (await svc.jobs.wait((await svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 3, seed: 1 } })).id)).result as { runId: number };
    expect(rowOf(second.runId)).toBe(undefined);
    // not in the second run, yet never "new" for assign
    const a = await svc.assign({ runId: second.runId });
    expect(a.assigned + a.unassigned).toBe(0);
    expect(rowOf(second.runId)).toBe(undefined);
    await svc.undo({ runId: first.runId });
    const third = (await svc.jobs.wait((await svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 3, seed: 1 } })).id)).result as { runId: number };
    expect(typeof rowOf(third.runId)).toBe('number');
  }, 300_000);

  it('a face box drawn by hand is embedded like the detection there, flagged manual, joins the run unassigned, survives a re-embed', async () => {
    const photo = join(t.dir, 'people', 'person-001', 'neutral.jpg');
    const [det] = facesOn(photo);
    const job = await svc.jobs.wait((await svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 2, seed: 1 } })).id);
    const runId = (job.result as { runId: number }).runId;
    const photoId = svc.lib.db.prepare('SELECT id FROM photos WHERE path = ?').pluck().get(photo) as number;
    // a box a person would draw: a little off the detector's
    const r = await svc.addFace({ photoId, box: [det.x + det.w * 0.04, det.y - det.h * 0.03, det.w * 0.95, det.h * 1.02], runId });
    expect(r.face).toMatchObject({ photoId, manual: true });
    expect(dot(vec(r.face.id), vec(det.id))).toBeGreaterThan(0.9);
    expect(svc.lib.db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, r.face.id)).toBe(-1);
    expect((await svc.getPhoto({ id: photoId })).faces.map((f) => f.id)).toContain(r.face.id);
    forgetProcessed();
    await embedFaces();
    expect(facesOn(photo).map((f) => [f.id, f.manual])).toEqual([[det.id, 0], [r.face.id, 1]]);
    await expect(svc.addFace({ photoId, box: [10_000, 10, 40, 40] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^box: /) });
  }, 300_000);

  it('the library\'s face quality floor and excluded folders drive embed', async () => {
    const s = await svc.setSettings({ faceMinQuality: 10, faceExcludedFolders: [join(t.dir, 'people', 'person-002')] });
    expect(s).toMatchObject({ faceMinQuality: 10, faceExcludedFolders: [join(t.dir, 'people', 'person-002')] });
    await expect(svc.setSettings({ faceExcludedFolders: ['relative/dir'] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^faceExcludedFolders: /) });
    forgetProcessed();
    const r = await embedFaces();
    // person-002's two photos are not looked at; every other face is under a floor of 10 (norms are 2..5)
    expect(r.processed).toBe(3);
    expect(r.rejectedFaces).toBeGreaterThanOrEqual(3);
    // hand-drawn faces stay whatever the floor
    expect(facesOn(join(t.dir, 'people', 'person-001', 'neutral.jpg')).map((f) => f.manual)).toEqual([1]);
    await svc.setSettings({ faceMinQuality: null, faceExcludedFolders: [] });
  }, 300_000);
});
