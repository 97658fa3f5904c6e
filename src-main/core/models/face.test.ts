import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { FACE_DIM, FaceEmbedder, nms, squareBox, type FaceResult } from './face.ts';
import { ensureModels, sharedDir } from '../../testing/models.ts';

const facesDir = path.join(sharedDir, 'data/faces-london');
const people = fs.readdirSync(facesDir).filter((p) => /^person-\d+$/.test(p)).sort();

let fe: FaceEmbedder;
let tmp: string;
beforeAll(async () => {
  fe = await FaceEmbedder.load(await ensureModels());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'face-test-'));
});
afterAll(async () => {
  await fe?.release();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('nms / squareBox', () => {
  it('suppresses overlapping boxes, keeps disjoint ones, best first', () => {
    const d = (x1: number, score: number) => ({ x1, y1: 0, x2: x1 + 10, y2: 10, score });
    const kept = nms([d(0, 0.7), d(1, 0.9), d(50, 0.8), d(2, 0.6)], 0.4, 10);
    expect(kept.map((k) => [k.x1, k.score])).toEqual([[1, 0.9], [50, 0.8]]);
    expect(nms([d(0, 0.7), d(50, 0.8)], 0.4, 1).length).toBe(1);
  });
  it('squares around the centre and stays inside the image', () => {
    expect(squareBox({ x1: 10, y1: 20, x2: 30, y2: 60 }, 100, 100)).toEqual({ x: 0, y: 20, width: 40, height: 40 });
    expect(squareBox({ x1: 80, y1: 80, x2: 100, y2: 100 }, 90, 95)).toEqual({ x: 70, y: 75, width: 20, height: 20 });
    expect(squareBox({ x1: 0, y1: 0, x2: 50, y2: 200 }, 100, 120)).toEqual({ x: 0, y: 20, width: 100, height: 100 }); // centre y=100 → 50, shifted up to fit
  });
});

describe('FaceEmbedder on faces-london', () => {
  const results = new Map<string, FaceResult[]>();

  it('finds a face in every one of the 60 photos', async () => {
    expect(people.length).toBe(30);
    let found = 0;
    for (const p of people) {
      for (const k of ['neutral', 'smiling']) {
        const file = path.join(facesDir, p, `${k}.jpg`);
        const r = await fe.detectAndEmbed(file);
        results.set(`${p}/${k}`, r);
        if (r.length > 0) found++;
      }
    }
    console.log(`faces-london: face found in ${found}/60 photos`);
    expect(found).toBe(60);
  });

  it('returns well-formed results', async () => {
    const meta = await sharp(path.join(facesDir, people[0]!, 'neutral.jpg')).metadata();
    const r = results.get(`${people[0]}/neutral`)!;
    const f = r[0]!;
    expect(f.score).toBeGreaterThanOrEqual(0.65);
    expect(f.box.width).toBe(f.box.height);
    expect(f.box.x).toBeGreaterThanOrEqual(0);
    expect(f.box.y + f.box.height).toBeLessThanOrEqual(meta.height!);
    expect(f.landmarks.length).toBe(136);
    // landmarks lie in (a slightly enlarged) box
    for (let i = 0; i < 68; i++) {
      expect(f.landmarks[2 * i]!).toBeGreaterThan(f.box.x - f.box.width * 0.2);
      expect(f.landmarks[2 * i]!).toBeLessThan(f.box.x + f.box.width * 1.2);
    }
    expect(f.embedding.length).toBe(FACE_DIM);
    expect(Math.hypot(...f.embedding)).toBeCloseTo(1, 5);
    const m = await sharp(f.alignedJpeg).metadata();
    expect([m.format, m.width, m.height]).toEqual(['jpeg', 112, 112]);
  });

  it('separates same-person from different-person pairs', () => {
    const emb = (p: string, k: string) => results.get(`${p}/${k}`)![0]!.embedding;
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    const genuine: number[] = [];
    const impostor: number[] = [];
    let rank1 = 0;
    for (const p of people) {
      const sims = people.map((q) => cos(emb(p, 'neutral'), emb(q, 'smiling')));
      people.forEach((q, j) => (q === p ? genuine : impostor).push(sims[j]!));
      if (sims.indexOf(Math.max(...sims)) === people.indexOf(p)) rank1++;
    }
    // best threshold for balanced accuracy (genuine and impostor pairs weighted equally)
    let best = 0, bestT = 0;
    for (const t of [...genuine, ...impostor]) {
      const acc = (genuine.filter((g) => g >= t).length / genuine.length + impostor.filter((s) => s < t).length / impostor.length) / 2;
      if (acc > best) [best, bestT] = [acc, t];
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    console.log(
      `genuine cos min ${Math.min(...genuine).toFixed(3)} mean ${mean(genuine).toFixed(3)}; impostor max ${Math.max(...impostor).toFixed(3)} mean ${mean(impostor).toFixed(3)}; ` +
        `best threshold ${bestT.toFixed(3)} balanced acc ${(best * 100).toFixed(1)}%; rank-1 ${rank1}/30`,
    );
    expect(best).toBeGreaterThanOrEqual(0.95);
    expect(rank1 / people.length).toBeGreaterThanOrEqual(0.95);
  });

  it('finds two faces side by side, with boxes and embeddings matching each single photo', async () => {
    const a = path.join(facesDir, people[2]!, 'neutral.jpg');
    const b = path.join(facesDir, people[3]!, 'smiling.jpg');
    const ma = await sharp(a).metadata();
    const pair = await sharp({ create: { width: ma.width! * 2, height: ma.height!, channels: 3, background: '#000' } })
      .composite([{ input: a, left: 0, top: 0 }, { input: await sharp(b).resize(ma.width!, ma.height!).toBuffer(), left: ma.width!, top: 0 }])
      .jpeg({ quality: 95 })
      .toBuffer();
    const r = (await fe.detectAndEmbed(pair)).sort((p, q) => p.box.x - q.box.x);
    expect(r.length).toBe(2);
    const single = results.get(`${people[2]}/neutral`)![0]!;
    expect(Math.abs(r[0]!.box.x - single.box.x)).toBeLessThan(single.box.width * 0.1);
    expect(Math.abs(r[0]!.box.y - single.box.y)).toBeLessThan(single.box.width * 0.1);
    expect(r[1]!.box.x).toBeGreaterThanOrEqual(ma.width! - 5);
    const cos = (u: Float32Array, v: Float32Array) => u.reduce((s, x, i) => s + x * v[i]!, 0);
    expect(cos(r[0]!.embedding, single.embedding)).toBeGreaterThan(0.85);
    expect(cos(r[1]!.embedding, results.get(`${people[3]}/smiling`)![0]!.embedding)).toBeGreaterThan(0.85);
  });

  it('reports boxes and landmarks in the EXIF-rotated image', async () => {
    const file = path.join(facesDir, people[4]!, 'neutral.jpg');
    const upright = results.get(`${people[4]}/neutral`)![0]!;
    // store the pixels rotated 90° counter-clockwise, tagged "rotate 90° clockwise to display"
    const stored = await sharp(await sharp(file).rotate(-90).toBuffer()).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const meta = await sharp(stored).metadata();
    expect(meta.orientation).toBe(6);
    const r = await fe.detectAndEmbed(stored);
    expect(r.length).toBe(1);
    expect(Math.abs(r[0]!.box.x - upright.box.x)).toBeLessThan(upright.box.width * 0.1);
    expect(Math.abs(r[0]!.box.y - upright.box.y)).toBeLessThan(upright.box.width * 0.1);
    // left eye region stays left of the right eye
    expect(r[0]!.landmarks[2 * 36]!).toBeLessThan(r[0]!.landmarks[2 * 45]!);
    expect(r[0]!.embedding.reduce((s, x, i) => s + x * upright.embedding[i]!, 0)).toBeGreaterThan(0.9);
  });

  it('finds no face in a blank image and honours minFaceSize', async () => {
    const blank = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080' } }).png().toBuffer();
    expect(await fe.detectAndEmbed(blank)).toEqual([]);
    const big = await FaceEmbedder.load(await ensureModels(), { minFaceSize: 5000 });
    expect(await big.detectAndEmbed(path.join(facesDir, people[0]!, 'neutral.jpg'))).toEqual([]);
    await big.release();
  });

  it('rejects corrupt input and damaged models', async () => {
    const jpg = fs.readFileSync(path.join(facesDir, people[1]!, 'smiling.jpg'));
    const trunc = path.join(tmp, 'cut.jpg');
    fs.writeFileSync(trunc, jpg.subarray(0, 5000));
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as AppError);
    let e = await err(fe.detectAndEmbed(trunc));
    expect([e?.code, e?.message]).toEqual(['BAD_IMAGE', expect.stringMatching(/cut\.jpg: /)]);
    const txt = path.join(tmp, 'readme.txt');
    fs.writeFileSync(txt, 'hello, not a picture');
    e = await err(fe.detectAndEmbed(txt));
    expect(e?.code).toBe('BAD_IMAGE');
    expect(e?.message).toMatch(/readme\.txt: /);

    const modelsDir = await ensureModels();
    const dir = fs.mkdtempSync(path.join(tmp, 'models-'));
    for (const f of ['fr_detect.onnx', 'fr_landmark.onnx', 'fr_feature.onnx']) fs.copyFileSync(path.join(modelsDir, f), path.join(dir, f));
    const feat = fs.readFileSync(path.join(dir, 'fr_feature.onnx'));
    feat.fill(0xab, 0, 256);
    fs.writeFileSync(path.join(dir, 'fr_feature.onnx'), feat);
    e = await err(FaceEmbedder.load(dir));
    expect(e).toBeInstanceOf(AppError);
    expect(e?.code).toBe('BAD_MODEL');
    expect(e?.message).toMatch(/fr_feature\.onnx: cannot load model/);
    fs.rmSync(path.join(dir, 'fr_landmark.onnx'));
    e = await err(FaceEmbedder.load(dir));
    expect(e?.code).toBe('MODEL_MISSING');
    expect(e?.message).toMatch(/fr_landmark\.onnx/);
  });
});
