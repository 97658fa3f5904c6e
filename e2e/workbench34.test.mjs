// Issue 34 in Chromium via serve mode, on real photos (faces-london): one split with its preview everywhere (Clusters
// opens People's), what the model separates (Tune, each run), Ctrl+Z in the Library, Similar switched from a face to
// the photo model, readable refusals, Tune's purpose and remembered values, the navigation by keyboard, and People
// visited while the server is down. Screenshots in e2e/artifacts/w34-*.png.
import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, until, jobWaiter, openServed, viewOpener } from './harness.mjs';

let server, browser, page, problems, photoRun, faceRun, photos;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `w34-${name}.png`) });
const { call } = pageApi(() => page);
const waitJob = jobWaiter(call);
const go = viewOpener(() => page);
const notes = () => page.getByTestId('note').allTextContents();
const LONDON = join(SHARED, 'data/faces-london');
const everyone = readdirSync(LONDON).sort();
const edits = async (runId) => (await call('getHistory', { runId })).edits.filter((e) => !e.undone).length;
/** opens the app at a view (the address keeps view, run, cluster, item, model) */
async function open(hash) {
  await page.goto(`${server.url}#${hash}`);
  await page.waitForLoadState('networkidle');
}

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  photos = join(server.dir, 'faces');
  for (const p of everyone.slice(0, 8)) cpSync(join(LONDON, p), join(photos, p), { recursive: true });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [photos] });
  await waitJob(await call('scan', { rootIds: [root.id] }));
  await waitJob(await call('embed', { model: 'photo' }));
  await waitJob(await call('embed', { model: 'face' }));
  photoRun = (await waitJob(await call('cluster', { model: 'photo', params: { algo: 'kmeans', k: 2, seed: 0 } }))).result.runId;
  faceRun = (await waitJob(await call('cluster', { model: 'face', params: { preset: 'people' } }))).result.runId;
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('the navigation is reachable with Tab and opens with Enter', async () => {
  await page.locator('body').click({ position: { x: 700, y: 600 } });
  let on = '';
  for (let i = 0; i < 40 && on !== 'nav-clusters'; i++) {
    await page.keyboard.press('Tab');
    on = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
  }
  assert.equal(on, 'nav-clusters', 'Tab reaches the Clusters item');
  await page.keyboard.press('Enter');
  await page.getByTestId('clusters-view').waitFor();
  await shot('01-nav-focus');
});

test('Tune says what the model separates; the purpose follows the kind; a refused value is said plainly and not remembered', async () => {
  await go('tune');
  await page.getByTestId('tune-model').selectOption('photo');
  const note = page.getByTestId('tune-model-note');
  assert.equal(await note.getAttribute('data-level'), 'limited');
  assert.match(await note.textContent(), /style and colour/);
  assert.match(await note.textContent(), /catalog model/);
  assert.match(await note.textContent(), /your own embeddings/);
  assert.match(await note.textContent(), /labeling session/);
  await page.getByTestId('tune-preset').selectOption('objects');
  await shot('02-tune-photo-note');
  // faces chosen: the photo preset does not stay
  await page.getByTestId('tune-model').selectOption('face');
  assert.equal(await page.getByTestId('tune-preset').inputValue(), 'people');
  assert.equal(await page.getByTestId('tune-model-note').getAttribute('data-level'), 'fit');
  // a refused value: a sentence naming the parameter, and not brought back after leaving Tune
  await page.getByTestId('tune-preset').selectOption('custom');
  await page.getByTestId('tune-algo').selectOption('hdbscan');
  await page.getByTestId('tune-mcs').fill('5');
  await page.getByTestId('tune-mcs').fill('1');
  await page.getByTestId('run-cluster').click();
  const err = await page.getByTestId('tune-error').textContent();
  assert.match(err, /^min cluster size: must be a whole number of at least 2 \(got 1\)$/);
  await page.getByTestId('tune-algo').selectOption('dbscan');
  await page.getByTestId('tune-eps').fill('-0.2');
  await page.getByTestId('run-cluster').click();
  assert.equal(await page.getByTestId('tune-error').textContent(), 'radius (eps): must be at least 0 (got -0.2)');
  await shot('03-tune-refusal');
  await page.getByTestId('tune-algo').selectOption('hdbscan');
  await go('library');
  await go('tune');
  assert.equal(await page.getByTestId('tune-mcs').inputValue(), '5', 'the refused 1 is not remembered');
  assert.deepEqual(problems, []);
});

test('Clusters: "Split" opens the preview (nothing changes until Apply), names the new part, says what happened, one edit', async () => {
  const [big] = (await call('getClusters', { runId: photoRun })).sort((a, b) => b.size - a.size);
  await open(`view=cluster&run=${photoRun}&cluster=${big.cluster}`);
  await page.getByTestId('cluster-detail').waitFor();
  // the run says what its model separates
  await page.getByTestId('run-model-note').waitFor({ state: 'detached' }).catch(() => {});
  const n = await edits(photoRun);
  await page.getByTestId('split').click();
  await page.getByTestId('split-preview').waitFor();
  assert.equal((await call('getCluster', { runId: photoRun, cluster: big.cluster })).size, big.size, 'opening the split changes nothing');
  await page.getByTestId('split-compute').click();
  await page.getByTestId('split-part').nth(1).waitFor();
  const sizes = await page.getByTestId('split-part').evaluateAll((els) => els.map((e) => Number(e.dataset.size)));
  assert.equal(sizes.reduce((a, b) => a + b, 0), big.size);
  assert.match(await page.getByTestId('split-part').first().textContent(), /photos/);
  assert.equal(await edits(photoRun), n, 'a preview is not an edit');
  await page.getByTestId('split-part-name').nth(1).fill('Second half');
  await shot('04-clusters-split-preview');
  await page.getByTestId('split-apply').click();
  await until(async () => (await notes()).some((t) => /Split into 2 parts: part 1 stays here .*part 2 → Second half/.test(t)), 'the split message');
  const after = await call('getClusters', { runId: photoRun });
  assert.equal(after.find((c) => c.name === 'Second half')?.size, sizes[1]);
  assert.equal(await edits(photoRun), n + 1, 'one edit');
  await page.getByTestId('split-preview').waitFor({ state: 'detached' });
  await shot('05-clusters-split-applied');
  // the run's groups say what the built-in photo model separates
  await go('clusters');
  assert.match(await page.getByTestId('run-model-note').textContent(), /style and colour/);
  await shot('06-clusters-run-note');
  assert.deepEqual(problems, []);
});

test('Ctrl+Z in the Library undoes nothing (no run is on screen) and says where the last edit was', async () => {
  const n = await edits(photoRun);
  await go('library');
  await page.keyboard.press('Control+z');
  await until(async () => (await notes()).some((t) => /Nothing to undo in the Library/.test(t)), 'the Library note');
  assert.ok((await notes()).some((t) => new RegExp(`last edit was in run ${photoRun}`).test(t)));
  await page.waitForTimeout(300);
  assert.equal(await edits(photoRun), n, 'the split is still there');
  assert.equal(await page.getByTestId('undo').isDisabled(), true);
  await shot('07-library-ctrl-z');
  // in Clusters, on that run, Ctrl+Z undoes it
  await go('clusters');
  await page.keyboard.press('Control+z');
  await until(async () => (await edits(photoRun)) === n - 1, 'undo in Clusters');
  assert.deepEqual(problems, []);
});

test('Similar: a face switched to the photo model shows photos like its photo, never the old face results or a raw error', async () => {
  const faces = await call('getItems', { kind: 'face', ids: [1, 2, 3, 4], runId: faceRun });
  const face = faces[0];
  await open(`view=similar&item=${face.item}&kind=face&model=face`);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=similar-view]')?.dataset.results) > 0);
  await page.getByTestId('similar-model').selectOption('photo');
  await page.getByTestId('similar-query-note').waitFor();
  await page.waitForFunction((p) => document.querySelector('[data-testid=similar-view]')?.dataset.for === `item ${p}` && Number(document.querySelector('[data-testid=similar-view]')?.dataset.results) > 0, face.photoId);
  const kinds = await page.locator('[data-testid=similar-view] [data-testid=item]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-kind')))]);
  assert.ok(!kinds.includes('face'), `photos only, got ${kinds}`);
  assert.equal(await page.getByTestId('toast').count(), 0, 'no error toast');
  await shot('08-similar-face-to-photo');
  // a photo asked of the face model: said in the view, no results, no toast
  await open(`view=similar&item=${face.photoId}&kind=photo&model=face`);
  await page.getByTestId('similar-problem').waitFor();
  assert.match(await page.getByTestId('similar-problem').textContent(), /compares faces and this is a photo/);
  assert.equal(await page.getByTestId('similar-view').getAttribute('data-results'), '0');
  assert.equal(await page.getByTestId('toast').count(), 0);
  await shot('09-similar-photo-on-face-model');
  assert.deepEqual(problems, []);
});

test('words: a face run says "person", never "cluster N"; counts are singular when one', async () => {
  await open(`view=review&run=${faceRun}`);
  await page.getByTestId('review-view').waitFor();
  await page.waitForLoadState('networkidle');
  const text = await page.getByTestId('review-view').textContent();
  assert.doesNotMatch(text, /cluster \d/);
  await shot('10-review-words');
  assert.deepEqual(problems, []);
});

test('People: "1 face", undo titles in person words, and a person emptied by rejects goes back to People with a note, not a red toast', async () => {
  const people = await call('listPeople', { runId: faceRun });
  const p = people.find((x) => x.size === 2);
  assert.ok(p, 'a person with two faces');
  await open(`view=people`);
  await page.getByTestId('people-view').waitFor();
  await page.locator(`[data-testid=person][data-cluster="${p.cluster}"]`).getByTestId('person-open').click();
  const detail = page.locator(`[data-testid=person-detail][data-cluster="${p.cluster}"]`);
  await detail.waitFor();
  await detail.getByTestId('grid').getByTestId('item').first().click();
  await detail.getByTestId('grid-reject').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=person-detail-size]')?.textContent === '1 face');
  // the undo button says what it would undo in this run's words
  await page.waitForFunction(() => !document.querySelector('[data-testid=undo]')?.disabled);
  assert.doesNotMatch(await page.getByTestId('undo').getAttribute('title'), /cluster \d/);
  await detail.getByTestId('grid').getByTestId('item').first().click();
  await detail.getByTestId('grid-reject').click();
  await until(async () => (await notes()).some((t) => /has no faces left/.test(t)), 'the note');
  await page.getByTestId('people-view').waitFor();
  assert.equal(await page.locator('[data-testid=person-detail]').count(), 0);
  assert.equal(await page.getByTestId('toast').count(), 0, 'no red toast');
  await shot('20-person-emptied');
  // the reads that found the person gone are how the view learns it (404 / 400 answers, said as the note above)
  assert.deepEqual(problems.filter((p) => !/HTTP 404: .*\/api\/getCluster$|HTTP 400: .*\/api\/getSuggestions$/.test(p)), []);
  problems.length = 0;
});

test('Duplicates: a model switch keeps a run to edit; faces say keep-best would take real faces out; keep best in all asks first', async () => {
  await open(`view=duplicates&run=${faceRun}&model=face`);
  await page.getByTestId('duplicates-view').waitFor();
  // faces: the same person's two photos are not copies; said before anything is kept
  await page.getByTestId('dup-faces-note').waitFor();
  assert.match(await page.getByTestId('dup-faces-note').textContent(), /same person in two different photos/);
  await page.waitForFunction((r) => document.querySelector('[data-testid=run-picker]')?.value === String(r), faceRun);
  await shot('12-duplicates-faces');
  // to the photo model: the picker shows the photo run, keep-best is there
  await page.getByTestId('dup-model').selectOption('photo');
  await page.waitForFunction((r) => document.querySelector('[data-testid=run-picker]')?.value === String(r), photoRun);
  assert.equal(await page.getByTestId('dup-no-run').count(), 0);
  await page.getByTestId('dup-threshold').fill('0.9');
  await page.getByTestId('find-duplicates').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=duplicates-view]')?.dataset.groups !== '');
  const groups = Number(await page.getByTestId('duplicates-view').getAttribute('data-groups'));
  assert.ok(groups >= 1, 'the neutral and smiling photos of a person are near-duplicates for the photo model');
  // the keep tile still shows its folder
  assert.match(await page.getByTestId('dup-group').first().textContent(), /keep · person-/);
  const n = await edits(photoRun);
  await page.getByTestId('dup-keep-all').click();
  await page.getByTestId('dup-keep-all-ask').waitFor();
  await shot('13-duplicates-confirm');
  await page.waitForTimeout(300);
  assert.equal(await edits(photoRun), n, 'one click rejects nothing');
  await page.getByTestId('dup-keep-all-cancel').click();
  await page.getByTestId('dup-keep-all').waitFor();
  assert.equal(await edits(photoRun), n);
  assert.deepEqual(problems, []);
});

test('"Move to…": a searchable list, named groups first, with thumbnails; "New group" asks for a name', async () => {
  const cs = (await call('getClusters', { runId: photoRun })).sort((a, b) => b.size - a.size);
  const [from, to] = cs;
  await call('editRun', { runId: photoRun, op: { type: 'rename', cluster: to.cluster, name: 'Zed named' } });
  const n = await edits(photoRun);
  await open(`view=cluster&run=${photoRun}&cluster=${from.cluster}`);
  await page.getByTestId('cluster-detail').waitFor();
  await page.getByTestId('grid').getByTestId('item').nth(0).click();
  await page.getByTestId('grid-move-target').click();
  await page.getByTestId('grid-move-list').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=grid-move-option] img'));
  const labels = await page.getByTestId('grid-move-option').allTextContents();
  assert.match(labels[0], /^Zed named \(/, `named first: ${labels}`);
  assert.ok(labels.some((l) => /a new group/.test(l)) && labels.some((l) => /noise/.test(l)));
  await page.getByTestId('grid-move-target').fill('zed');
  assert.equal(await page.getByTestId('grid-move-option').count(), 1);
  await shot('17-move-picker');
  await page.keyboard.press('Enter');
  await page.getByTestId('grid-move').click();
  await until(async () => (await call('getCluster', { runId: photoRun, cluster: to.cluster })).size === to.size + 1, 'moved');
  assert.equal(await edits(photoRun), n + 1);
  // New group… asks for a name
  await page.getByTestId('grid').getByTestId('item').nth(0).click();
  await page.getByTestId('grid-new-group').click();
  await page.getByTestId('grid-new-name').fill('Picked by hand');
  await shot('18-new-group-name');
  await page.keyboard.press('Enter');
  await until(async () => (await call('getClusters', { runId: photoRun })).some((c) => c.name === 'Picked by hand' && c.size === 1), 'the named new group');
  assert.deepEqual(problems, []);
});

test('a cancelled embed says what was kept and that Embed continues, with its parameters in words', async () => {
  const more = join(server.dir, 'more');
  for (const p of everyone.slice(8, 20)) cpSync(join(LONDON, p), join(more, p), { recursive: true });
  await open('view=library');
  const [root] = await call('addRoots', { paths: [more] });
  await waitJob(await call('scan', { rootIds: [root.id] }));
  const job = await call('embed', { model: 'photo' });
  await call('cancelJob', { id: job.id });
  const j = await call('waitJob', { id: job.id, timeoutMs: 60_000 });
  assert.equal(j.state, 'cancelled');
  await page.getByTestId('jobs-button').click();
  const entry = page.locator(`[data-testid=job-entry][data-job="${job.id}"]`);
  await entry.waitFor();
  assert.match(await entry.getByTestId('job-result').textContent(), /cancelled.*kept.*Embed again continues/);
  const params = await entry.getByTestId('job-params').textContent();
  assert.doesNotMatch(params, /[{}"]/, 'no raw JSON');
  assert.match(params, /model photo/);
  await shot('14-embed-cancelled');
  await page.getByTestId('jobs-button').click();
  assert.deepEqual(problems, []);
});

test('Map: a wheel step zooms by at most 1.5x, zooming out returns to the whole map, Fit resets; a map finished after a reload is shown', async () => {
  await open('view=map&model=photo');
  const job = await call('computeMap', { model: 'photo', params: { method: 'pca' } });
  // a reload while the job runs: the finished map is shown when it ends
  await page.reload();
  await page.getByTestId('map-view').waitFor();
  const done = await waitJob(job);
  await page.waitForFunction((id) => document.querySelector('[data-testid=map-view]')?.dataset.mapId === String(id), done.result.id, { timeout: 30_000 })
    .catch(async (e) => { await shot('fail-map'); throw new Error(`${e.message}: map ${done.result.id}, shown ${await page.getByTestId('map-view').getAttribute('data-map-id')}`); });
  assert.equal(Number(await page.getByTestId('map-view').getAttribute('data-points')), done.result.n);
  await page.getByTestId('atlas-canvas').waitFor();
  const view = () => page.evaluate(() => { const v = document.querySelector('.atlas').atlas.view; return { ...v }; });
  const box = await page.getByTestId('atlas-canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.3);
  const z0 = (await view()).zoom;
  await page.mouse.wheel(0, -2000);
  await page.waitForTimeout(100);
  const z1 = (await view()).zoom;
  assert.ok(z1 > z0 && z1 <= z0 * 1.5 + 1e-9, `one step zooms by at most 1.5x (${z0} -> ${z1})`);
  for (let i = 0; i < 4; i++) { await page.mouse.wheel(0, -2000); await page.waitForTimeout(50); }
  assert.ok((await view()).zoom > 3);
  await shot('15-map-zoomed');
  for (let i = 0; i < 8; i++) { await page.mouse.wheel(0, 2000); await page.waitForTimeout(50); }
  const back = await view();
  assert.ok(back.zoom <= 1, `zoomed out (${back.zoom})`);
  // centred again: the whole map is in view
  const centred = await page.evaluate(() => { const a = document.querySelector('.atlas').atlas; const b = a.bounds; return Math.abs(a.view.cx - (b.x0 + b.x1) / 2) < 1e-9 && Math.abs(a.view.cy - (b.y0 + b.y1) / 2) < 1e-9; });
  assert.ok(centred);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -2000);
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.down(); await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.6, { steps: 4 }); await page.mouse.up();
  await page.getByTestId('map-fit').click();
  const fitted = await view();
  assert.equal(fitted.zoom, 1);
  await shot('16-map-fit');
  assert.deepEqual(problems, []);
});

test('Export: a face run says its folders hold crops (no link choice); a refusal is not shown under an older success', async () => {
  await open(`view=export&run=${faceRun}`);
  await page.getByTestId('export-view').waitFor();
  await page.getByTestId('export-face-note').waitFor();
  assert.equal(await page.getByTestId('export-link').count(), 0);
  const out = join(server.dir, 'export-faces');
  await page.getByTestId('export-to').fill(out);
  await page.getByTestId('export-run').click();
  await page.getByTestId('confirm-create').click();
  await page.getByTestId('export-report').waitFor({ timeout: 60_000 });
  // then a refused one: its error alone, not below the older export's report
  await page.getByTestId('export-to').fill('relative/dir');
  await page.getByTestId('export-run').click();
  await page.getByTestId('export-error').waitFor();
  assert.equal(await page.getByTestId('export-report').count(), 0);
  await shot('19-export-refused');
  // a photo run offers the link choice
  await open(`view=export&run=${photoRun}`);
  await page.getByTestId('export-link').waitFor();
  assert.equal(await page.getByTestId('export-face-note').count(), 0);
  // the refused relative path is the one expected 400 (the door's answer to a bad argument)
  assert.deepEqual(problems.filter((p) => !/HTTP 400: .*\/api\/checkExportTarget$/.test(p)), []);
  problems.length = 0;
});

test('People while the server is down: says the library cannot be reached, not "No people in this run", no page errors', async () => {
  await open('view=library');
  await page.getByTestId('library-view').waitFor();
  assert.equal(await page.getByTestId('embed-photo').isDisabled(), false);
  await server.kill();
  await page.getByTestId('reconnecting').waitFor({ timeout: 20_000 });
  // nothing can be started while the library cannot be reached
  await page.waitForFunction(() => document.querySelector('[data-testid=embed-photo]')?.disabled && document.querySelector('[data-testid=embed-face]')?.disabled);
  await go('tune');
  assert.equal(await page.getByTestId('run-cluster').isDisabled(), true);
  await go('people');
  await page.waitForTimeout(1500);
  const text = await page.getByTestId('people-view').textContent();
  assert.doesNotMatch(text, /No people in this run/);
  assert.match(text, /cannot be reached|can't be reached|connection/i);
  await shot('11-people-server-down');
  // the refused connections are the browser's own lines about the server being down; anything else is a fault
  const errors = problems.filter((p) => p.startsWith('pageerror') || (p.startsWith('console') && !/ERR_CONNECTION_REFUSED/.test(p)));
  assert.deepEqual(errors, []);
});
