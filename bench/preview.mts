/**
 * Viewer-size previews (issue 19): time to render a photo to the viewer's JPEG (EXIF rotation, at most 1600 px),
 * the first view of a photo in the viewer (later views read the cached file). Real photos: a faces-london photo
 * (1024 px) and the same photo made a 4000x3000 phone photo with EXIF orientation 6.
 *   npx tsx bench/preview.mts [--runs 7]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { renderPreview } from '../src-main/core/preview.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7;
const london = readFileSync(sharedPath('data/faces-london/person-001/neutral.jpg'));
const phone = await sharp(london).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer();
console.log(`load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const [name, buf] of [['faces-london 1024x1024', london], ['4000x3000 JPEG, orientation 6', phone]] as const) {
  await renderPreview(name, buf);
  const t: number[] = [];
  let out: Buffer = Buffer.alloc(0);
  for (let i = 0; i < runs; i++) { const t0 = performance.now(); out = await renderPreview(name, buf); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  const m = await sharp(out).metadata();
  console.log(`${name} (${(buf.length / 1024).toFixed(0)} KiB): median ${t[runs >> 1].toFixed(1)} ms, max ${t[runs - 1].toFixed(1)} ms -> ${m.width}x${m.height}, ${(out.length / 1024).toFixed(0)} KiB`);
}
console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
