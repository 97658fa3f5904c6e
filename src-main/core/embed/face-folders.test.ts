import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbedReport } from '../../common/jobs.ts';
import { groupNearestAbove } from '../../algo/folder-likeness.ts';
import { embedJob } from './embed-job.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';

/** Drawn, anime-like faces: 12 different characters (hair, eyes, mouth vary; a fixed seed), as PNG files. */
async function drawFaces(dir: string, n: number): Promise<void> {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const skin = ['#ffe0c8', '#f5c8a8', '#ffd8b0', '#fbe3d0'][i % 4], hair = ['#222', '#a33', '#35c', '#fc3', '#6a4', '#c6c'][i % 6];
    const ex = 70 + rnd() * 20, ey = 230 + rnd() * 20, er = 28 + rnd() * 14, iris = ['#36c', '#3a6', '#a34', '#639'][i % 4];
    const eye = (x: number) => `<ellipse cx="${x}" cy="${ey}" rx="${er}" ry="${er * 1.4}" fill="white" stroke="#222" stroke-width="4"/><ellipse cx="${x}" cy="${ey + 6}" rx="${er * 0.7}" ry="${er * 1.1}" fill="${iris}"/><circle cx="${x + 8}" cy="${ey - 8}" r="7" fill="white"/>`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512"><rect width="512" height="512" fill="#${(0x808080 + Math.floor(rnd() * 0x7f7f7f)).toString(16)}"/>
      <path d="M120 90 Q256 ${rnd() * 40} 392 90 L420 260 Q256 ${300 + rnd() * 20} 92 260 Z" fill="${hair}"/><ellipse cx="256" cy="280" rx="150" ry="${170 + rnd() * 20}" fill="${skin}"/>
      <path d="M110 200 Q256 ${120 + rnd() * 30} 402 200 L402 150 Q256 60 110 150 Z" fill="${hair}"/>${eye(256 - ex)}${eye(256 + ex)}
      <path d="M250 300 L256 315" stroke="#a66" stroke-width="3"/><path d="M${220 - rnd() * 10} 360 Q256 ${375 + rnd() * 15} ${292 + rnd() * 10} 360" stroke="#833" stroke-width="5" fill="none"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(join(dir, `d${String(i).padStart(2, '0')}.png`));
  }
}

const t = tempDir();
const root = join(t.dir, 'photos');
let report: EmbedReport;
let lib: Library;

beforeAll(async () => {
  // a small mixed library: three London people (2 photos each), a folder of rose photos (the detector finds petals),
  // and a folder holding one ORL photo four times over (four near-identical faces)
  for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 3)) cpSync(sharedPath('data/faces-london', p), join(root, p), { recursive: true });
  mkdirSync(join(root, 'roses'), { recursive: true });
  for (const f of readdirSync(sharedPath('data/photos-flowers/roses')).sort().slice(0, 20)) cpSync(sharedPath('data/photos-flowers/roses', f), join(root, 'roses', f));
  mkdirSync(join(root, 'copies'));
  for (let i = 0; i < 4; i++) cpSync(sharedPath('data/faces-orl/s1/1.png'), join(root, 'copies', `c${i}.png`));
  await drawFaces(join(root, 'drawn'), 12);
  lib = Library.open(join(t.dir, 'lib.constellate'));
  await scanRoots(lib, [lib.addRoot(root).id], testContext());
  report = await embedJob(lib, { model: 'face' }, testContext());
}, 300_000);
afterAll(() => { lib?.close(); t.cleanup(); });

describe('face folder notice', () => {
  it('counts faces and drops per folder and flags the folder of petals, not the people', () => {
    const byName = new Map(report.faceFolders!.map((f) => [f.folder.slice(root.length + 1), f]));
    for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 3)) {
      expect(byName.get(p)).toMatchObject({ faces: 2, rejected: 0, flagged: false, reason: null });
    }
    const roses = byName.get('roses')!;
    expect(roses.rejected).toBeGreaterThanOrEqual(3);
    expect(roses.rejected).toBeGreaterThan(roses.faces);
    expect(roses).toMatchObject({ flagged: true, reason: expect.stringMatching(/fall under the quality floor/) });
    expect(report.rejectedFaces).toBe(report.faceFolders!.reduce((a, f) => a + f.rejected, 0));
    // flagged folders first
    expect(report.faceFolders!.findIndex((f) => !f.flagged)).toBeGreaterThan(report.faceFolders!.findLastIndex((f) => f.flagged));
  });

  it('flags a folder of drawn faces (most of their detections fall under the floor)', () => {
    const drawn = report.faceFolders!.find((f) => f.folder === join(root, 'drawn'))!;
    expect(drawn.faces + drawn.rejected).toBeGreaterThanOrEqual(8);
    expect(drawn).toMatchObject({ flagged: true, reason: expect.stringMatching(/fall under the quality floor/) });
  });

  it('flags a folder of near-identical faces', () => {
    const copies = report.faceFolders!.find((f) => f.folder === join(root, 'copies'))!;
    expect(copies).toMatchObject({ faces: 4, nearIdentical: 4, flagged: true, reason: expect.stringMatching(/4 of 4 faces are near-identical/) });
  });

  it('a second embed with nothing new reports the library as it is: drops are of a job, faces of the library', async () => {
    const again = await embedJob(lib, { model: 'face' }, testContext());
    expect(again.pending).toBe(0);
    const roses = again.faceFolders!.find((f) => f.folder === join(root, 'roses'));
    const first = report.faceFolders!.find((f) => f.folder === join(root, 'roses'))!;
    // the petals were dropped by the first job; what it kept (if anything) is all the library holds of the folder
    expect(roses ? roses.faces : 0).toBe(first.faces);
    expect(roses?.rejected ?? 0).toBe(0);
    expect(again.faceFolders!.find((f) => f.folder === join(root, 'copies'))!.flagged).toBe(true);
  }, 120_000);
});

describe('groupNearestAbove', () => {
  it('counts rows whose nearest neighbour in their group is at or above the threshold', () => {
    // 2-d unit vectors: group 0 holds two equal rows and one orthogonal; group 1 one row equal to group 0's pair
    const X = new Float32Array([1, 0, 1, 0, 0, 1, 1, 0]);
    const r = groupNearestAbove(X, 2, new Int32Array([0, 0, 0, 1]), 2, 0.99);
    expect(Array.from(r.above)).toEqual([2, 0]);
    expect(Array.from(r.used)).toEqual([3, 1]);
  });
  it('refuses a group outside the range and a wrong matrix size', () => {
    expect(() => groupNearestAbove(new Float32Array(4), 2, new Int32Array([0, 2]), 2, 0.5)).toThrow(/row 1: group 2/);
    expect(() => groupNearestAbove(new Float32Array(3), 2, new Int32Array([0, 1]), 2, 0.5)).toThrow(/expected 2 x 2/);
  });
  it('cancels', () => {
    expect(() => groupNearestAbove(new Float32Array(4), 2, new Int32Array([0, 0]), 1, 0.5, { isCancelled: () => true })).toThrow(expect.objectContaining({ code: 'CANCELLED' }));
  });
});
