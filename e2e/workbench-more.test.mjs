// The workbench, what was left, in Chromium via serve mode on real photos (faces-london in two folders): the sweep
// ranked by the true labels chosen in Tune; a folder that vanished reported by the rescan (which folder, its photos);
// "is this a library?" checked before the library menu asks to open it; a face run exported as each person's original
// photos; the map's date legend in bins that read differently.
// Screenshots in e2e/artifacts/wm-*.png.
import assert from 'node:assert/strict';
import { cpSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, jobWaiter, openServed, viewOpener } from './harness.mjs';

let server, browser, page, problems, faceRun, main, extra, extraRoot;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `wm-${name}.png`) });
const { call } = pageApi(() => page);
const waitJob = jobWaiter(call);
const go = viewOpener(() => page);
const LONDON = join(SHARED, 'data/faces-london');
const people = readdirSync(LONDON).sort().slice(0, 8);
async function open(hash) {
  await page.goto(`${server.url}#${hash}`);
  await page.waitForLoadState('networkidle');
}

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  // two folders: six people in one, two in the other (the one that will vanish)
  main = join(server.dir, 'faces');
  extra = join(server.dir, 'more-faces');
  for (const p of people.slice(0, 6)) cpSync(join(LONDON, p), join(main, p), { recursive: true });
  for (const p of people.slice(6)) cpSync(join(LONDON, p), join(extra, p), { recursive: true });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const roots = await call('addRoots', { paths: [main, extra] });
  extraRoot = roots[1];
  await waitJob(await call('scan', { rootIds: roots.map((r) => r.id) }));
  await waitJob(await call('embed', { model: 'photo' }));
  await waitJob(await call('embed', { model: 'face' }));
  faceRun = (await waitJob(await call('cluster', { model: 'face', params: { preset: 'people' } }))).result.runId;
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('Tune: with "true labels: folder names" the sweep is ranked by AMI against them, says so, and recommends the most agreement', async () => {
  await go('tune');
  await page.getByTestId('tune-model').selectOption('face');
  await page.getByTestId('tune-labels').selectOption('folders');
  await page.getByTestId('sweep-kind').selectOption('silhouette');
  await page.getByTestId('sweep-from').fill('2');
  await page.getByTestId('sweep-to').fill('12');
  await page.getByTestId('sweep-step').fill('1');
  await page.getByTestId('run-sweep').click();
  const scored = page.getByTestId('sweep-scored');
  await scored.waitFor({ timeout: 120_000 });
  assert.match(await scored.textContent(), /scored by agreement with the true labels \(folder names: 16 items, 8 classes\): AMI, ARI beside it/);
  const jobs = (await call('listJobs')).filter((j) => j.kind === 'sweep' && j.state === 'done').sort((a, b) => b.id - a.id);
  const r = jobs[0].result;
  assert.equal(r.scoreName, 'ami');
  assert.deepEqual(jobs[0].params.options.labels, 'folders');
  const top = r.points.filter((p) => !p.rejected).reduce((a, b) => (b.score > a.score ? b : a));
  assert.equal(r.best.value, top.value, 'the best is the most agreement');
  assert.ok(r.points.every((p) => typeof p.ari === 'number'), 'each point carries its ARI');
  // eight people: the labels, not a silhouette of two blobs, decide
  assert.equal(r.best.value, 8, JSON.stringify(r.points.map((p) => [p.value, p.score.toFixed(3)])));
  assert.equal(await page.getByTestId('sweep-best').getAttribute('data-value'), '8');
  assert.match(await page.getByTestId('sweep-best').textContent(), /best: 8 \(8 groups, AMI \d\.\d\d\)/);
  await shot('01-sweep-ami');
  // leaving Tune and coming back: the same chart, with the kind it was made with and what it was scored by
  await go('library');
  await go('tune');
  assert.equal(await page.getByTestId('sweep-kind').inputValue(), 'silhouette');
  assert.equal(await page.getByTestId('tune-labels').inputValue(), 'folders');
  assert.match(await page.getByTestId('sweep-scored').textContent(), /agreement with the true labels \(folder names/);
  assert.match(await page.getByTestId('sweep-kind').locator('option:checked').textContent(), /scored by AMI against the true labels/);
  // without labels the sweep says what it was scored by instead, and how to rank by labels
  await page.getByTestId('tune-labels').selectOption('');
  await page.getByTestId('sweep-to').fill('4');
  await page.getByTestId('run-sweep').click();
  await page.waitForFunction(() => /without labels/.test(document.querySelector('[data-testid=sweep-scored]')?.textContent ?? ''), null, { timeout: 120_000 });
  assert.match(await scored.textContent(), /scored by silhouette in UMAP space, without labels; choose true labels above/);
  assert.deepEqual(problems, []);
});

test('a folder that vanished: the rescan says which folder and how many photos it kept, the others are scanned, nothing counted unreadable', async () => {
  await go('library');
  const before = await call('getInfo');
  renameSync(extra, `${extra}-unplugged`);
  try {
    await page.getByTestId('rescan').click();
    const warning = page.getByTestId('job-warning');
    await warning.waitFor({ timeout: 60_000 });
    const text = await warning.getByTestId('job-error').textContent();
    assert.equal(text, `not scanned: ${extra} (no longer exists): its 4 photos were left as they were. The other folders were scanned. Reconnect the folder and scan again, or remove it from the library.`);
    // the folder's row says it too
    assert.match(await page.getByTestId('folder-vanished').textContent(), /not scanned: no longer exists/);
    await shot('02-vanished-folder');
    const info = await call('getInfo');
    assert.equal(info.photos, before.photos, 'its photos are kept');
    assert.equal(info.errors, 0, 'a vanished folder is not an unreadable file');
    assert.equal(info.missing, 0);
    // the warning stays until dismissed
    await page.reload();
    await page.getByTestId('job-warning').waitFor();
    await page.getByTestId('job-warning').getByTestId('dismiss-job').click();
    await page.getByTestId('job-warning').waitFor({ state: 'detached' });
  } finally {
    renameSync(`${extra}-unplugged`, extra);
  }
  const back = await waitJob(await call('scan', { rootIds: [extraRoot.id] }));
  assert.equal(back.result.vanished, undefined);
  assert.deepEqual(problems, []);
});

test('the library menu checks "is this a library?" before asking: a photo folder and an empty file are refused with the reason, no switch offered', async () => {
  await page.getByTestId('library-menu').click();
  await page.getByTestId('library-panel').waitFor();
  await page.getByTestId('library-path').fill(main);
  await page.getByTestId('library-open').click();
  await page.getByTestId('library-error').waitFor();
  assert.match(await page.getByTestId('library-error').textContent(), /^Cannot open .*faces: .*is a folder, not a library file \(a library is one file.*e2e\.constellate stays open\.$/);
  assert.equal(await page.getByTestId('library-confirm').count(), 0);
  await shot('03-open-folder-refused');
  const empty = join(server.dir, 'empty.constellate');
  writeFileSync(empty, '');
  await page.getByTestId('library-path').fill(empty);
  await page.getByTestId('library-open').click();
  await page.waitForFunction(() => /an empty file, not a library yet/.test(document.querySelector('[data-testid=library-error]')?.textContent ?? ''));
  assert.equal(await page.getByTestId('library-confirm').count(), 0);
  // "New library" on it: asked, as a new library
  await page.getByTestId('library-new').click();
  await page.getByTestId('library-confirm').waitFor();
  assert.match(await page.getByTestId('library-confirm').textContent(), /Open the library .*empty\.constellate instead of e2e\.constellate\?.*a library is already there|Create a new library at .*empty\.constellate/);
  await page.keyboard.press('Escape');
  assert.equal((await call('getInfo')).library, server.library);
  // refusals of a bad argument are answered 4xx by the door: those are the expected failures here
  assert.deepEqual(problems.filter((p) => !/HTTP 400: .*\/api\/checkLibrary$/.test(p)), []);
  problems.length = 0;
});

test('Export of a face run: the original photos of each person (linked), once each, instead of crops', async () => {
  await open(`view=export&run=${faceRun}`);
  await page.getByTestId('export-view').waitFor();
  await page.getByTestId('export-face-note').waitFor();
  assert.equal(await page.getByTestId('export-link').count(), 0, 'crops: no link choice');
  await page.getByTestId('export-faces').selectOption('photos');
  await page.getByTestId('export-link').selectOption('symlink');
  assert.equal(await page.getByTestId('export-face-note').count(), 0);
  const out = join(server.dir, 'people-photos');
  mkdirSync(out);
  await page.getByTestId('export-to').fill(out);
  await page.getByTestId('export-run').click();
  await page.getByTestId('export-report').waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId('export-files').textContent(), /^\d+ original photos \(symbolic links, each once per person\)$/);
  await shot('04-export-originals');
  const written = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => /\.jpg$/i.test(f));
  assert.ok(written.length >= 8, written.join(', '));
  for (const f of written) {
    assert.ok(lstatSync(join(out, f)).isSymbolicLink(), `${f} is a link`);
    assert.match(readlinkSync(join(out, f)), /faces(-london)?\/|more-faces\//);
    assert.doesNotMatch(f, /-face\d+\.jpg$/, 'not a crop');
  }
  assert.deepEqual(problems, []);
});

test('Map: the date legend bins read differently (photos of one day are binned to the second)', async () => {
  const job = await call('computeMap', { model: 'photo', params: { method: 'pca' } });
  await waitJob(job);
  await open('view=map&model=photo');
  await page.getByTestId('map-field').selectOption('date');
  await page.getByTestId('legend-entry').first().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=map-view]')?.dataset.field === 'date');
  const labels = (await page.locator('[data-testid=legend-entry] .legend-label').allTextContents()).filter((l) => l !== 'no value');
  assert.ok(labels.length >= 1);
  assert.equal(new Set(labels).size, labels.length, labels.join(' | '));
  for (const l of labels) assert.doesNotMatch(l, /^(\d{4}-\d\d-\d\d) – \1$/, `a bin that says nothing: ${l}`);
  await shot('05-map-date-legend');
  // text search (what it needs, its results): e2e/text-search.test.mjs
  assert.deepEqual(problems, []);
});
