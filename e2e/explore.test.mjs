// Exploration in Chromium (serve mode, software WebGL through SwiftShader) on real faces (faces-london, 10 people, with
// a resized copy of two photos as near-duplicates): the atlas in the Map view coloured by folder, a legend toggle, a
// rectangle and a lasso selection listed in the grid beside the map, reject + undo from that grid, the selection kept
// across views, a click opening the cluster with the item marked, Similar with k and an action + undo, "more like
// these", near-duplicates keep best + undo, search as a selection, and a map computed with new settings.
// Screenshots: e2e/artifacts/explore-*.png.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { ARTIFACTS, SHARED, chromiumPath, startServe, watchPage, pageApi, viewOpener } from './harness.mjs';

let server, browser, page, problems, runId;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `explore-${name}.png`) });
const { raw, call } = pageApi(() => page);
const waitJob = (id) => call('waitJob', { id, timeoutMs: 300_000 });
const go = viewOpener(() => page);
const mapAttr = (k) => page.getByTestId('map-view').getAttribute(`data-${k}`);
const noiseCount = async () => (await call('getClusterMembers', { runId, cluster: -1, offset: 0, limit: 1 })).total;
/** the atlas canvas' box and the screen position of map item i (through the renderer the component hangs on its element) */
const canvasBox = () => page.getByTestId('atlas-canvas').boundingBox();
const itemOnScreen = (i) => page.evaluate((i) => document.querySelector('.atlas').atlas.screenOf(i), i);

before(async () => {
  server = await startServe();
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-background-networking', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  problems = watchPage(page);
  const faces = join(server.dir, 'faces');
  mkdirSync(faces);
  const people = readdirSync(join(SHARED, 'data/faces-london')).sort().slice(0, 10);
  for (const p of people) cpSync(join(SHARED, 'data/faces-london', p), join(faces, p), { recursive: true });
  // near-duplicates: a resized, re-encoded copy of the first photo of two people
  for (const p of people.slice(0, 2)) {
    const f = readdirSync(join(faces, p)).sort()[0];
    const m = await sharp(join(faces, p, f)).metadata();
    await sharp(join(faces, p, f)).resize(Math.round(m.width * 0.8)).jpeg({ quality: 85 }).toFile(join(faces, p, `copy-${f.replace(/\.\w+$/, '')}.jpg`));
  }
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [faces] });
  assert.equal((await waitJob((await call('scan', { rootIds: [root.id] })).id)).state, 'done');
  assert.equal((await waitJob((await call('embed', { model: 'face' })).id)).state, 'done');
  runId = (await waitJob((await call('cluster', { model: 'face', params: { algo: 'kmeans', k: 8, nInit: 3 } })).id)).result.runId;
  assert.equal((await waitJob((await call('computeMap', { model: 'face', params: { method: 'pca', seed: 0 } })).id)).state, 'done');
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('atlas: colour by folder, legend toggle, rectangle and lasso into the grid, reject + undo, selection survives views', { timeout: 300_000 }, async () => {
  await go('map');
  await page.getByTestId('map-model').selectOption('face');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=map-view]')?.dataset.points) === 22, null, { timeout: 30_000 });
  await page.getByTestId('atlas-canvas').waitFor();
  assert.equal(await mapAttr('field'), 'cluster');
  await page.waitForTimeout(500);
  await shot('cluster');
  await page.getByTestId('map-field').selectOption('folder');
  await page.waitForFunction(() => document.querySelector('[data-testid=map-view]')?.dataset.field === 'folder');
  const legend = (await mapAttr('legend')).split('|');
  assert.equal(legend.length, 10, `one legend entry per person folder: ${legend}`);
  assert.equal(legend.reduce((a, l) => a + Number(l.split(':').pop()), 0), 22, 'the counts add up to the items');
  assert.equal(legend.filter((l) => l.endsWith(':3')).length, 2, 'the two folders with a copy count 3');
  await shot('folder');
  // toggle: hide the first folder, show it again
  const first = page.getByTestId('legend-entry').first();
  const code = await first.getAttribute('data-code');
  await first.click();
  assert.equal(await mapAttr('hidden'), code);
  await shot('folder-hidden');
  await first.click();
  assert.equal(await mapAttr('hidden'), '');
  // legend filter
  await page.getByTestId('legend-filter').fill('person-00');
  assert.ok((await page.getByTestId('legend-entry').count()) < 10);
  await page.getByTestId('legend-filter').fill('');

  // rectangle around everything: all 22 in the grid beside the map
  const box = await canvasBox();
  await page.getByTestId('mode-rect').click();
  await page.mouse.move(box.x + 3, box.y + 3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(box.x + box.width - 3, box.y + box.height - 3, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('[data-testid=selection-count]')?.textContent === '22');
  assert.equal(await mapAttr('selected'), '22');
  // lasso around item 0 only (a small ring around its position)
  const [x0, y0] = await itemOnScreen(0);
  await page.getByTestId('mode-lasso').click();
  const ring = Array.from({ length: 13 }, (_, k) => [box.x + x0 + 12 * Math.cos((2 * Math.PI * k) / 12), box.y + y0 + 12 * Math.sin((2 * Math.PI * k) / 12)]);
  await page.mouse.move(...ring[0]);
  await page.mouse.down();
  for (const p of ring.slice(1)) await page.mouse.move(...p);
  await page.mouse.up();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=selection-count]')?.textContent) < 22);
  const lassoed = Number(await page.getByTestId('selection-count').textContent());
  assert.ok(lassoed >= 1 && lassoed <= 4, `the lasso took the items near item 0 (${lassoed})`);
  await page.locator('[data-testid=selection-grid] [data-testid=item]').first().waitFor();
  assert.equal(await page.locator('[data-testid=selection-grid] [data-testid=item]').count(), lassoed, 'the grid lists the selection');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=selection-grid] img')].every((i) => i.complete && i.naturalWidth > 0));
  await shot('lasso');

  // reject the selection from the grid bar, then undo
  const before = await noiseCount();
  await page.getByTestId('selection-reject').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=note]')].some((n) => /reject/i.test(n.textContent ?? '')) || document.querySelector('[data-testid=undo]:not([disabled])'));
  for (let t = 0; t < 50 && (await noiseCount()) !== before + lassoed; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before + lassoed, 'rejected to noise');
  await page.getByTestId('undo').click();
  await page.getByTestId('note').filter({ hasText: /Undid in run/ }).first().waitFor();
  for (let t = 0; t < 50 && (await noiseCount()) !== before; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before, 'undo put them back');

  // the selection survives switching views and a reload
  await go('library');
  await go('map');
  await page.waitForFunction((n) => document.querySelector('[data-testid=selection-count]')?.textContent === String(n), lassoed);
  await page.reload();
  await page.getByTestId('map-view').waitFor();
  await page.waitForFunction((n) => document.querySelector('[data-testid=selection-count]')?.textContent === String(n), lassoed, { timeout: 20_000 });
});

test('a click on the atlas opens the cluster with the item marked', { timeout: 120_000 }, async () => {
  await page.getByTestId('mode-pan').click();
  await page.getByTestId('map-field').selectOption('cluster');
  await page.waitForFunction(() => document.querySelector('[data-testid=map-view]')?.dataset.field === 'cluster');
  await page.waitForTimeout(300);
  const box = await canvasBox();
  const [x, y] = await itemOnScreen(5);
  await page.mouse.move(box.x + x, box.y + y);
  await page.getByTestId('map-hover').waitFor({ timeout: 10_000 });
  await shot('hover');
  await page.mouse.click(box.x + x, box.y + y);
  await page.getByTestId('cluster-detail').waitFor();
  await page.getByTestId('cluster-clicked').waitFor();
  const item = Number(await page.getByTestId('cluster-clicked').getAttribute('data-item'));
  const map = await call('listMaps', { model: 'face' });
  assert.ok(Number.isInteger(item) && item > 0 && map.length === 1);
  await shot('cluster-opened');
});

test('Similar: k chosen, an action with undo, more like these, select on the map', { timeout: 120_000 }, async () => {
  await go('map');
  await page.locator('[data-testid=selection-grid] [data-testid=item]').first().click();
  await page.getByTestId('grid-similar').click();
  await page.getByTestId('similar-view').waitFor();
  await page.getByTestId('similar-k').fill('5');
  await page.waitForFunction(() => document.querySelector('[data-testid=similar-view]')?.dataset.results === '5');
  await page.getByTestId('similar-k').fill('3');
  await page.waitForFunction(() => document.querySelector('[data-testid=similar-view]')?.dataset.results === '3');
  await page.locator('[data-testid=similar-view] [data-testid=item]').first().waitFor();
  assert.equal(await page.locator('[data-testid=similar-view] [data-testid=selection-grid] [data-testid=item]').count(), 3);
  await shot('similar');
  // reject one neighbour from the grid, then undo
  const before = await noiseCount();
  await page.locator('[data-testid=similar-view] [data-testid=selection-grid] [data-testid=item]').first().click();
  await page.getByTestId('grid-reject').click();
  for (let t = 0; t < 50 && (await noiseCount()) !== before + 1; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before + 1);
  await page.getByTestId('undo').click();
  for (let t = 0; t < 50 && (await noiseCount()) !== before; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before);
  // the neighbours as the map's selection
  await page.getByTestId('similar-select').click();
  await page.getByTestId('map-view').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=selection-count]')?.textContent === '3');
  // more like these: the whole selection
  await page.getByTestId('selection-more').click();
  await page.getByTestId('similar-view').waitFor();
  await page.waitForFunction(() => /^selection of 3/.test(document.querySelector('[data-testid=similar-view]')?.dataset.for ?? ''));
  assert.equal(await page.getByTestId('similar-view').getAttribute('data-results'), '3');
  await shot('more-like-these');
});

test('near-duplicates: groups at their true minimum, keep best + undo, keep best in all + undo', { timeout: 180_000 }, async () => {
  await go('duplicates');
  await page.getByTestId('dup-threshold').fill('0.9');
  await page.getByTestId('find-duplicates').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=duplicates-view]')?.dataset.groups !== '');
  const groups = await page.getByTestId('dup-group').count();
  assert.ok(groups >= 2, `the two resized copies are found (${groups} groups)`);
  for (const g of await page.getByTestId('dup-group').all()) assert.ok(Number(await g.getAttribute('data-min-sim')) >= 0.9);
  await page.getByTestId('dup-compare').first().click();
  await page.getByTestId('dup-compare-table').waitFor();
  await shot('duplicates-compare');
  const before = await noiseCount();
  await page.getByTestId('dup-keep').first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid=dup-group]')?.dataset.open === 'false');
  const size = await page.getByTestId('dup-group').first().locator('[data-testid=item]').count();
  for (let t = 0; t < 50 && (await noiseCount()) !== before + size - 1; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before + size - 1, 'the rest of the group rejected');
  await page.getByTestId('undo').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=dup-group]')?.dataset.open === 'true');
  for (let t = 0; t < 50 && (await noiseCount()) !== before; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before);
  // a bulk reject asks first: one click changes nothing
  await page.getByTestId('dup-keep-all').click();
  await page.getByTestId('dup-keep-all-ask').waitFor();
  assert.match(await page.getByTestId('dup-keep-all-ask').textContent(), /Reject \d+ items? in \d+ groups?/);
  await page.waitForTimeout(200);
  assert.equal(await noiseCount(), before, 'one click rejects nothing');
  await page.getByTestId('dup-keep-all-confirm').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=duplicates-view]')?.dataset.open === '0');
  await shot('duplicates-kept');
  await page.getByTestId('undo').click();
  await page.waitForFunction((n) => document.querySelector('[data-testid=duplicates-view]')?.dataset.open === String(n), groups);
  for (let t = 0; t < 50 && (await noiseCount()) !== before; t++) await page.waitForTimeout(100);
  assert.equal(await noiseCount(), before);
});

test('search by folder and file name is a selection on the map; the text box takes words', { timeout: 120_000 }, async () => {
  await go('map');
  await page.getByTestId('map-field').selectOption('folder');
  await page.waitForFunction(() => document.querySelector('[data-testid=map-view]')?.dataset.field === 'folder');
  const folder = (await mapAttr('legend')).split('|').find((l) => l.endsWith(':3')).split(':')[0];
  await page.getByTestId('search-folder').fill(folder.split('/').pop());
  await page.getByTestId('search-run').click();
  // the selection may already hold 3 (the Similar test's): wait for the search's own answer
  await page.waitForFunction(() => /found/.test(document.querySelector('[data-testid=search-note]')?.textContent ?? ''));
  await page.waitForFunction(() => document.querySelector('[data-testid=selection-count]')?.textContent === '3');
  assert.equal(await mapAttr('selected'), '3');
  assert.match(await page.getByTestId('search-note').textContent(), /3 found/);
  await page.getByTestId('search-folder').fill('');
  await page.getByTestId('search-file').fill('copy-');
  await page.getByTestId('search-run').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=selection-count]')?.textContent === '2');
  // text search takes words; what it needs is said on refusal (e2e/text-search.test.mjs)
  assert.equal(await page.getByTestId('search-text').isDisabled(), false);
  assert.match(await page.getByTestId('search-text').getAttribute('title'), /CLIP/);
  await shot('search');
});

test('map settings: compute a UMAP map with chosen neighbours, min_dist and seed; pick among stored maps', { timeout: 300_000 }, async () => {
  await page.getByTestId('map-method').selectOption('umap');
  await page.getByTestId('map-neighbors').fill('5');
  await page.getByTestId('map-min-dist').fill('0.3');
  await page.getByTestId('map-seed').fill('3');
  await page.getByTestId('compute-map').click();
  await page.waitForFunction(() => /^umap .*seed=3 nNeighbors=5 minDist=0.3/.test(document.querySelector('[data-testid=map-view]')?.dataset.setting ?? ''), null, { timeout: 240_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=map-view]')?.dataset.points) === 22);
  const maps = await call('listMaps', { model: 'face' });
  assert.equal(maps.length, 2);
  assert.equal(await page.locator('[data-testid=map-pick] option').count(), 2);
  await page.waitForTimeout(500);
  await shot('umap');
  const pca = maps.find((m) => m.method === 'pca');
  await page.getByTestId('map-pick').selectOption(String(pca.id));
  await page.waitForFunction((id) => document.querySelector('[data-testid=map-view]')?.dataset.mapId === String(id), pca.id);
  assert.equal(await page.getByTestId('map-method').inputValue(), 'pca');
  assert.deepEqual(problems, []);
});
