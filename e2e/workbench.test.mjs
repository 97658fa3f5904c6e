// The whole workbench flow in Chromium via serve mode, on real photos: scan, embed faces, cluster, map, open a cluster,
// name it, merge two, move an item, undo, redo, reload and find the state intact. Screenshots of each view.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, openServed } from './harness.mjs';

let server, browser, page, problems;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
// one API call: the method's one options object as the JSON body
const { call } = pageApi(() => page);
const waitJobs = () => page.waitForFunction(() => !document.querySelector('[data-testid=jobbar]'), null, { timeout: 240_000 });

before(async () => {
  ({ server, browser, page, problems } = await openServed());
});
after(async () => { await browser?.close(); await server?.stop(); });

test('scan, embed, cluster, map, curate with undo/redo, reload', async () => {
  const photos = join(server.dir, 'faces');
  mkdirSync(photos);
  for (const p of readdirSync(join(SHARED, 'data/faces-london')).sort().slice(0, 10)) cpSync(join(SHARED, 'data/faces-london', p), join(photos, p), { recursive: true });

  await page.goto(server.url);
  await page.getByTestId('folder-input').fill(photos);
  await page.getByTestId('add-folder').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '20', null, { timeout: 60_000 });
  await waitJobs();
  await page.getByTestId('embed-face').click();
  await page.getByTestId('jobbar').waitFor({ timeout: 10_000 }).catch(() => {});
  await waitJobs();
  await page.waitForFunction(() => document.querySelector('[data-testid=models]')?.textContent.includes('face'), null, { timeout: 30_000 });
  await shot('library');

  // the photos are the one selectable grid: a click selects, Esc clears (double-click / Enter open the photo viewer,
  // components/PhotoViewer.vue, where the face boxes are shown)
  await page.locator('[data-testid=thumb]').first().click();
  assert.equal(await page.getByTestId('grid-selected').textContent(), '1 selected');
  await page.keyboard.press('Escape');
  await page.getByTestId('grid-actions').waitFor({ state: 'detached' });

  // cluster from Tune: k-means, k = 10, labels from folders
  await page.getByTestId('nav-tune').click();
  await page.getByTestId('tune-model').selectOption('face');
  await page.getByTestId('tune-preset').selectOption('custom'); // the purpose presets come first (issue 18)
  await page.getByTestId('tune-algo').selectOption('kmeans');
  await page.getByTestId('tune-k').fill('10');
  await page.getByTestId('run-cluster').click();
  await page.getByTestId('jobbar').waitFor({ timeout: 10_000 }).catch(() => {});
  await waitJobs();
  await page.getByTestId('run-sweep').click();
  await page.waitForSelector('[data-testid=tune-view] canvas', { timeout: 120_000 });
  await waitJobs();
  await shot('tune');

  // map: compute and watch it form
  await page.getByTestId('nav-map').click();
  await page.getByTestId('map-model').selectOption('face');
  await page.getByTestId('compute-map').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=map-view]')?.dataset.points) === 20, null, { timeout: 120_000 });
  await waitJobs();
  await page.waitForSelector('[data-testid=map-view] canvas');
  await shot('map');

  // clusters: open one, name it
  await page.getByTestId('nav-clusters').click();
  await page.getByTestId('cluster-row').first().waitFor();
  await shot('clusters');
  const rows = page.getByTestId('cluster-row');
  assert.equal(await rows.count(), 10);
  const first = Number(await rows.nth(0).getAttribute('data-cluster'));
  const second = Number(await rows.nth(1).getAttribute('data-cluster'));
  const third = Number(await rows.nth(2).getAttribute('data-cluster'));
  await rows.nth(0).dblclick();
  await page.getByTestId('cluster-detail').waitFor();
  await page.getByTestId('top-samples').locator('img').first().waitFor();
  await page.getByTestId('cluster-name').fill('Person A');
  await page.getByTestId('cluster-name').press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=undo]') && !document.querySelector('[data-testid=undo]').disabled);
  await shot('cluster-detail');

  // merge the second and third clusters
  await page.getByTestId('nav-clusters').click();
  await page.locator(`[data-testid=cluster-row][data-cluster="${second}"]`).click();
  await page.locator(`[data-testid=cluster-row][data-cluster="${third}"]`).click({ modifiers: ['Control'] });
  await page.getByTestId('merge').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=cluster-row]').length === 9);

  // move an item of the named cluster to the merged one
  await page.locator(`[data-testid=cluster-row][data-cluster="${first}"]`).dblclick();
  await page.getByTestId('cluster-detail').waitFor();
  const runId = (await call('listRuns'))[0].id;
  const before = await call('getClusters', { runId });
  const merged = before.find((c) => c.size === 4);
  assert.ok(merged, 'the merged cluster has 4 members');
  await page.getByTestId('top-samples').getByTestId('item').first().click();
  await page.getByTestId('grid-move-target').click();
  await page.locator(`[data-testid=grid-move-option][data-value="${merged.cluster}"]`).click();
  await page.getByTestId('grid-move').click();
  await page.waitForFunction(async ([r, c]) => {
    const res = await fetch('api/getClusters', { method: 'POST', headers: { 'x-constellate-csrf': '1' }, body: JSON.stringify({ runId: r }) });
    return (await res.json()).result.find((x) => x.cluster === c)?.size === 5;
  }, [runId, merged.cluster]);
  const afterEdits = await call('getClusters', { runId });

  // undo three times (move, merge, rename), redo three times
  for (let i = 0; i < 3; i++) { await page.getByTestId('undo').click(); await page.waitForTimeout(300); }
  let now = await call('getClusters', { runId });
  assert.equal(now.length, 10);
  assert.ok(!now.some((c) => c.name === 'Person A'));
  await page.keyboard.press('Control+Shift+Z');
  await page.waitForTimeout(300);
  await page.getByTestId('redo').click();
  await page.waitForTimeout(300);
  await page.getByTestId('redo').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=redo]')?.disabled === true);
  now = await call('getClusters', { runId });
  assert.deepEqual(now, afterEdits);

  // reload: the same view, the same state, the undo history
  await page.reload();
  await page.getByTestId('cluster-detail').waitFor();
  // the detail shows before its cluster's row has loaded: wait for the name (a wrong one fails here after the timeout)
  await page.waitForFunction(() => document.querySelector('[data-testid=cluster-name]')?.value === 'Person A', null, { timeout: 10_000 })
    .catch(() => {});
  assert.equal(await page.getByTestId('cluster-name').inputValue(), 'Person A');
  assert.deepEqual(await call('getClusters', { runId }), afterEdits);
  assert.equal(await page.getByTestId('undo').isDisabled(), false);

  // export the curated groups as folders
  await page.getByTestId('nav-export').click();
  const out = join(server.dir, 'exported');
  await page.getByTestId('export-to').fill(out);
  await page.getByTestId('export-run').click();
  // the folder does not exist yet: the UI asks before creating it
  await page.getByTestId('confirm-create').click();
  await page.getByTestId('export-report').waitFor({ timeout: 60_000 });
  const folders = readdirSync(out);
  assert.ok(folders.includes('Person A'), `export folders: ${folders.join(', ')}`);
  assert.equal(readdirSync(join(out, 'Person A')).length, afterEdits.find((c) => c.name === 'Person A').size);
  await shot('export');

  for (const [nav, name] of [['people', 'people'], ['review', 'review'], ['similar', 'similar']]) {
    await page.getByTestId(`nav-${nav}`).click();
    await page.getByTestId(`${name}-view`).waitFor();
    await page.waitForTimeout(500);
    await shot(name);
  }
  await page.keyboard.press('?');
  await page.getByTestId('help').waitFor();
  await shot('help');
  assert.deepEqual(problems.filter((p) => !p.includes('favicon')), []);
});
