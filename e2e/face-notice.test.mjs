// The face folder notice in Chromium via serve mode, on real photos: a library of two London people, a folder of rose
// photos (the detector finds petals) and a folder of one face copied four times; after "Find and embed faces" the
// Library view names the two folders that look like no people and excludes one in a click (the library's setting).
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, openServed } from './harness.mjs';

let server, browser, page, problems;
const { call } = pageApi(() => page);
const waitJobs = () => page.waitForFunction(() => !document.querySelector('[data-testid=jobbar]'), null, { timeout: 240_000 });

before(async () => {
  ({ server, browser, page, problems } = await openServed());
});
after(async () => { await browser?.close(); await server?.stop(); });

test('a face embed flags the folders of petals and copies, and one click excludes a folder', async () => {
  const photos = join(server.dir, 'photos');
  for (const p of readdirSync(join(SHARED, 'data/faces-london')).sort().slice(0, 2)) cpSync(join(SHARED, 'data/faces-london', p), join(photos, p), { recursive: true });
  mkdirSync(join(photos, 'roses'), { recursive: true });
  for (const f of readdirSync(join(SHARED, 'data/photos-flowers/roses')).sort().slice(0, 20)) cpSync(join(SHARED, 'data/photos-flowers/roses', f), join(photos, 'roses', f));
  mkdirSync(join(photos, 'copies'));
  for (let i = 0; i < 4; i++) cpSync(join(SHARED, 'data/faces-orl/s1/1.png'), join(photos, 'copies', `c${i}.png`));

  await page.goto(server.url);
  await page.getByTestId('folder-input').fill(photos);
  await page.getByTestId('add-folder').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '28', null, { timeout: 60_000 });
  await waitJobs();
  assert.equal(await page.getByTestId('face-folder-notice').count(), 0);
  await page.getByTestId('embed-face').click();
  await page.getByTestId('jobbar').waitFor({ timeout: 10_000 }).catch(() => {});
  await waitJobs();
  await page.getByTestId('face-folder-notice').waitFor({ timeout: 30_000 });
  const rows = await page.getByTestId('face-folder-flagged').allTextContents();
  assert.deepEqual(rows.map((r) => r.match(/photos\/([a-z]+)/)?.[1]).sort(), ['copies', 'roses'], rows.join('\n'));
  assert.match(await page.getByTestId('face-folder-notice').textContent(), /quality floor \(now default 2\.2\)/);
  await page.screenshot({ path: join(ARTIFACTS, 'face-notice.png') });
  await page.getByTestId('face-folder-flagged').filter({ hasText: 'roses' }).getByTestId('face-folder-exclude').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=face-folder-exclude]')].some((b) => b.textContent === 'Excluded'));
  assert.deepEqual((await call('getSettings', {})).faceExcludedFolders, [join(photos, 'roses')]);
  // the notice stays with the library: a reload of the UI shows the last face embed's folders again
  await page.reload();
  await page.getByTestId('face-folder-notice').waitFor({ timeout: 30_000 });
  const again = await page.getByTestId('face-folder-flagged').allTextContents();
  assert.deepEqual(again.map((r) => r.match(/photos\/([a-z]+)/)?.[1]).sort(), ['copies', 'roses'], again.join('\n'));
  assert.deepEqual(problems, []);
});
