/**
 * Face quality floor: the distribution of the detector score, the 5-point alignment residual, the blur (Laplacian
 * variance of the aligned crop) and the feature norm (the quality FaceEmbedder filters on) per shared set, and what
 * each floor keeps. `npm run bench:face-quality [-- DIR ...]` (default: photos-flowers, faces-london, faces-orl).
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { ARCFACE_TEMPLATE_112, applyAffine, landmarks68To5, umeyama } from '../src-main/algo/face-align.ts';
import { FACE_MIN_QUALITY, FaceEmbedder } from '../src-main/core/models/face.ts';
import { defaultModelsDir } from '../src-main/core/models/files.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';

const sets = process.argv.slice(2).length ? process.argv.slice(2)
  : ['photos-flowers', 'faces-london', 'faces-orl'].map((s) => sharedPath('data', s));
const fe = await FaceEmbedder.load(defaultModelsDir(), { minQuality: 0, intraOpNumThreads: 1 });
const tmpl = ARCFACE_TEMPLATE_112.flat();
type Row = { score: number; resid: number; blur: number; quality: number; file: string };
const bySet = new Map<string, Row[]>();
for (const dir of sets) {
  const rows: Row[] = [];
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  for (const f of files) {
    for (const r of await fe.detectAndEmbed(join(dir, f))) {
      const five = landmarks68To5(r.landmarks);
      const m = umeyama(five, tmpl);
      let e = 0;
      for (let i = 0; i < 5; i++) { const [x, y] = applyAffine(m, five[2 * i]!, five[2 * i + 1]!); e += (x - tmpl[2 * i]!) ** 2 + (y - tmpl[2 * i + 1]!) ** 2; }
      const { data, info } = await sharp(r.alignedJpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
      let s = 0, s2 = 0, n = 0;
      const w = info.width;
      for (let y = 1; y < info.height - 1; y++) for (let x = 1; x < w - 1; x++) {
        const v = 4 * data[y * w + x]! - data[y * w + x - 1]! - data[y * w + x + 1]! - data[(y - 1) * w + x]! - data[(y + 1) * w + x]!;
        s += v; s2 += v * v; n++;
      }
      rows.push({ score: r.score, resid: Math.sqrt(e / 5), blur: s2 / n - (s / n) ** 2, quality: r.quality, file: f });
    }
  }
  bySet.set(basename(dir), rows);
}
await fe.release();
const q = (v: number[]) => { const s = v.slice().sort((a, b) => a - b); return [0, 0.1, 0.5, 0.9, 1].map((p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2)).join(' / '); };
console.log('set | detections | score min/p10/median/p90/max | alignment residual (px of 112) | blur | feature norm');
for (const [set, rows] of bySet) {
  console.log(`${set} | ${rows.length} | ${q(rows.map((r) => r.score))} | ${q(rows.map((r) => r.resid))} | ${q(rows.map((r) => r.blur))} | ${q(rows.map((r) => r.quality))}`);
}
console.log('\nfloor | ' + [...bySet.keys()].join(' | '));
for (const t of [0, 2.0, FACE_MIN_QUALITY, 2.5, 3.0]) {
  console.log(`quality >= ${t}${t === FACE_MIN_QUALITY ? ' (default)' : ''} | ` + [...bySet.values()].map((rows) => `${rows.filter((r) => r.quality >= t).length}/${rows.length}`).join(' | '));
}
