// Issue 18 in Chromium via serve mode, on real photos: the people preset (no parameters) -> name the groups (folder
// labels) -> add photos -> Assign in Tune -> the unknown faces wait in Review. Screenshots of each step.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ARTIFACTS, SHARED, pageApi, openServed } from './harness.mjs';

let server, browser, page, problems;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const { call } = pageApi(() => page);
const waitJobs = () => page.waitForFunction(() => !document.querySelector('[data-testid=jobbar]'), null, { timeout: 240_000 });
const waitJob = async (job) => { const j = await call('waitJob', { id: job.id }); assert.equal(j.state, 'done', JSON.stringify(j.error)); return j; };

before(async () => {
  ({ server, browser, page, problems } = await openServed());
});
after(async () => { await browser?.close(); await server?.stop(); });

test('people preset, name, add photos, assign, review', async () => {
  const people = readdirSync(join(SHARED, 'data/faces-london')).sort();
  const known = people.slice(0, 5), unknown = people.slice(5, 8);
  const photos = join(server.dir, 'faces');
  for (const p of known) cpSync(join(SHARED, 'data/faces-london', p), join(photos, p), { recursive: true });

  await page.goto(server.url);
  await page.getByTestId('folder-input').fill(photos);
  await page.getByTestId('add-folder').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '10', null, { timeout: 60_000 });
  await waitJobs();
  // where faces are embedded, the quality floor (its default shown) and the excluded folders are offered
  assert.equal(await page.getByTestId('face-quality').getAttribute('placeholder'), 'default 2.2');
  assert.match(await page.getByTestId('face-settings').textContent(), /empty: default 2\.2/);
  await page.getByTestId('embed-face').click();
  await page.getByTestId('jobbar').waitFor({ timeout: 10_000 }).catch(() => {});
  await waitJobs();

  // the people preset is the first choice: no parameter to set
  await page.getByTestId('nav-tune').click();
  await page.getByTestId('tune-model').selectOption('face');
  await page.getByTestId('tune-preset').selectOption('people');
  assert.match(await page.getByTestId('tune-preset-help').textContent(), /one group per person/);
  await page.getByTestId('run-cluster').click();
  await page.getByTestId('tune-preset-why').waitFor({ timeout: 240_000 });
  assert.match(await page.getByTestId('tune-preset-why').textContent(), /identity threshold/);
  await shot('assign-1-preset');
  const runId = (await call('listRuns', {}))[0].id;
  assert.equal((await call('getClusters', { runId })).length, 5);

  // name the groups from the folder tree
  const labels = await call('importLabels', { source: photos });
  assert.equal(labels.seeded[0].named, 5);

  // new photos: mirrored smiling copies of the known people, both photos of three unknown people
  const later = join(photos, 'later');
  for (const p of known) { mkdirSync(join(later, p), { recursive: true }); await sharp(join(SHARED, 'data/faces-london', p, 'smiling.jpg')).flop().toFile(join(later, p, 'mirrored.jpg')); }
  for (const p of unknown) cpSync(join(SHARED, 'data/faces-london', p), join(later, p), { recursive: true });
  await waitJob(await call('scan', {}));
  await waitJob(await call('embed', { model: 'face' }));

  // assign from Tune: one click (reloaded once the views are done fetching what the scan and embed changed: a reload
  // aborts a request in flight, which the page watch would count)
  await page.waitForLoadState('networkidle');
  await page.reload();
  await page.getByTestId('nav-tune').click();
  await page.getByTestId(`assign-run-${runId}`).click();
  await page.getByTestId('tune-assign-result').waitFor({ timeout: 60_000 });
  const text = await page.getByTestId('tune-assign-result').textContent();
  assert.match(text, /5 new photo\(s\) joined 5 group\(s\), 6 left for review/);
  await shot('assign-2-assigned');
  const clusters = await call('getClusters', { runId });
  for (const c of clusters) assert.equal(c.size, 3, `${c.name}: 2 photos and the mirrored one`);

  // the unknown faces wait in Review
  await page.getByTestId('nav-review').click();
  await page.getByTestId('review-item').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('review-view').textContent(), /6 to review/);
  await shot('assign-3-review');
  // undo takes the assignment back
  const u = await call('undo', { runId });
  assert.equal(u.op.type, 'assign');
  assert.deepEqual(problems, []);
});
