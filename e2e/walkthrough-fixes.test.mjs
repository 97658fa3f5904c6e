// What the new-user walkthrough (e2e/walkthrough.mjs) found, each as a check that failed before its fix: the Library
// view reached while the server is stopped logged two unhandled page errors (the photo grid's page load) and kept
// "Add folder and scan", "Rescan all" and "Back up now" enabled; the empty Clusters view's "Tune" link was the
// browser's dark blue on the dark panel; Tune's photo-model note called "choose the algorithm myself" the preset
// “custom”; a face clustering's toast counted "clusters" and "noise"; Clusters opened while the server is stopped showed an empty table. Screenshots in e2e/artifacts/wf-*.png.
import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, until, openServed } from './harness.mjs';

let server, browser, page, problems;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `wf-${name}.png`) });
const { call } = pageApi(() => page);

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  const dir = join(server.dir, 'faces');
  for (const p of readdirSync(join(SHARED, 'data/faces-london')).sort().slice(0, 2)) cpSync(join(SHARED, 'data/faces-london', p), join(dir, p), { recursive: true });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const roots = await call('addRoots', { paths: [dir] });
  const j = await call('waitJob', { id: (await call('scan', { rootIds: roots.map((r) => r.id) })).id, timeoutMs: 120_000 });
  assert.equal(j.state, 'done');
}, { timeout: 300_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('the empty Clusters view says where to cluster with a link that reads on the dark panel', async () => {
  await page.goto(`${server.url}#view=clusters`);
  const link = page.getByTestId('clusters-view').getByRole('link', { name: 'Tune' });
  await link.waitFor();
  const colour = await link.evaluate((a) => getComputedStyle(a).color);
  const accent = await page.evaluate(() => { const s = document.createElement('span'); s.style.color = 'var(--accent)'; document.body.append(s); const c = getComputedStyle(s).color; s.remove(); return c; });
  assert.equal(colour, accent);
  await link.click();
  await page.getByTestId('tune-view').waitFor();
  assert.deepEqual(problems, []);
});

test('Tune with "choose the algorithm myself" on the photo model: the note does not call that choice a preset', async () => {
  const j = await call('waitJob', { id: (await call('embed', { model: 'photo' })).id, timeoutMs: 240_000 });
  assert.equal(j.state, 'done');
  await page.goto(`${server.url}#view=tune`);
  await page.getByTestId('tune-view').waitFor();
  await page.getByTestId('tune-model').selectOption('photo');
  await page.getByTestId('tune-preset').selectOption('custom');
  const note = await page.getByTestId('tune-model-note').textContent();
  assert.doesNotMatch(note, /“custom”/);
  assert.match(note, /No algorithm or parameter can change that: any of them groups photos that look alike\./);
  await page.getByTestId('tune-preset').selectOption('themes');
  assert.match(await page.getByTestId('tune-model-note').textContent(), /Presets cannot change that: “themes” groups photos that look alike\./);
  await shot('02-tune-custom-note');
  const run = await call('waitJob', { id: (await call('cluster', { model: 'photo', params: { algo: 'kmeans', k: 2, seed: 1 } })).id, timeoutMs: 120_000 });
  assert.equal(run.state, 'done');
  assert.deepEqual(problems, []);
});

test('a finished face clustering is told in people, not clusters', async () => {
  const faces = await call('waitJob', { id: (await call('embed', { model: 'face' })).id, timeoutMs: 240_000 });
  assert.equal(faces.state, 'done');
  const job = await call('cluster', { model: 'face', params: { preset: 'people' } });
  const done = await call('waitJob', { id: job.id, timeoutMs: 120_000 });
  assert.equal(done.state, 'done');
  const people = done.result.clusters, unknown = done.result.noise;
  const want = `run ${done.result.runId}: ${people} ${people === 1 ? 'person' : 'people'}, ${unknown} unknown face${unknown === 1 ? '' : 's'}`;
  await until(async () => (await page.getByTestId('toasts').textContent())?.includes(want), `the toast "${want}"`);
  assert.doesNotMatch(await page.getByTestId('toasts').textContent() ?? '', new RegExp(`run ${done.result.runId}: \\d+ clusters`));
  await shot('04-face-cluster-toast');
  assert.deepEqual(problems, []);
});

test('server stopped: the Library view reached afterwards logs no page error, its write buttons wait for the connection, and Clusters says why it has no rows', async () => {
  // a fresh page on the Map: nothing of the Library view's reads is kept from before
  await page.goto(`${server.url}#view=map`);
  await page.reload();
  await page.getByTestId('map-view').waitFor();
  await server.kill();
  await page.getByTestId('reconnecting').waitFor({ timeout: 20_000 });
  await page.getByTestId('nav-library').click();
  await page.getByTestId('library-view').waitFor();
  await page.waitForTimeout(1500);
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
  await page.getByTestId('folder-input').fill('/somewhere/else');
  for (const id of ['add-folder', 'rescan', 'backup-now', 'embed-photo', 'embed-face']) {
    await until(() => page.getByTestId(id).isDisabled(), `${id} disabled`, 10_000);
    if (id !== 'embed-photo' && id !== 'embed-face') assert.match(await page.getByTestId(id).getAttribute('title') ?? '', /cannot be reached: wait for the connection/);
  }
  await shot('01-library-offline');
  // Clusters, not read before the connection was lost: said, not an empty table
  await page.getByTestId('nav-clusters').click();
  await page.getByTestId('clusters-unreachable').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('clusters-unreachable').textContent(), /cannot be reached \(the connection is lost\): the clusters of this run show as soon as it is back/);
  await shot('03-clusters-offline');
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
});
