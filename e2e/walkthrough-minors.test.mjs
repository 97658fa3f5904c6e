// The last minors of the new-user walkthrough (e2e/walkthrough.mjs), each a check that failed before its fix:
// Duplicates opened on the face model although the library had photo embeddings; Tune offered "Assign" on runs with
// nothing new to assign; the empty Review queue card was a heading and nothing else; with the server stopped,
// "Rename run", "Delete run" and Redo stayed enabled. Screenshots in e2e/artifacts/wm-*.png.
import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, until, jobWaiter, openServed } from './harness.mjs';

let server, browser, page, problems, photoRun, faceRun;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `wm-${name}.png`) });
const { call } = pageApi(() => page);
const people = readdirSync(join(SHARED, 'data/faces-london')).sort();
const waitJob = jobWaiter(call);

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  const dir = join(server.dir, 'faces');
  for (const p of people.slice(0, 2)) cpSync(join(SHARED, 'data/faces-london', p), join(dir, p), { recursive: true });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const roots = await call('addRoots', { paths: [dir] });
  await waitJob(await call('scan', { rootIds: roots.map((r) => r.id) }));
  await waitJob(await call('embed', { model: 'photo' }));
  await waitJob(await call('embed', { model: 'face' }));
  photoRun = (await waitJob(await call('cluster', { model: 'photo', params: { algo: 'kmeans', k: 2, seed: 1 } }))).result.runId;
  // the face run last: the newest run, the one a fresh page puts on screen
  faceRun = (await waitJob(await call('cluster', { model: 'face', params: { preset: 'people' } }))).result.runId;
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('Duplicates opens on the photo model when the library has photo embeddings, though faces were being worked on', async () => {
  // as the walkthrough went: faces clustered in Tune, then Duplicates
  await page.goto(`${server.url}#view=tune`);
  await page.reload();
  await page.getByTestId('tune-view').waitFor();
  await page.getByTestId('tune-model').selectOption('face');
  await page.getByTestId('nav-duplicates').click();
  await page.getByTestId('duplicates-view').waitFor();
  await until(async () => (await page.getByTestId('dup-model').inputValue()) !== '', 'a model in the Duplicates picker');
  await page.waitForTimeout(500);
  assert.equal(await page.getByTestId('dup-model').inputValue(), 'photo');
  assert.equal(await page.getByTestId('dup-faces-note').count(), 0);
  // the face model stays a choice: picked, it stays
  await page.getByTestId('dup-model').selectOption('face');
  await page.waitForTimeout(300);
  assert.equal(await page.getByTestId('dup-model').inputValue(), 'face');
  await shot('01-duplicates-model');
  assert.deepEqual(problems, []);
});

test('an empty Review queue says why it is empty and what to do next', async () => {
  await page.goto(`${server.url}#view=review&run=${photoRun}`);
  await page.reload();
  await page.getByTestId('review-view').waitFor();
  // no member of a run is below similarity -1: the queue is empty
  await page.getByTestId('review-max-sim').fill('-1');
  const why = page.getByTestId('review-queue-empty');
  await why.waitFor({ timeout: 10_000 });
  assert.match(await why.textContent() ?? '', new RegExp(`Run ${photoRun} has no noise and no members below similarity -1(\\.00)?: raise the similarity bound above`));
  await shot('02-review-empty');
  // a bound that lets members in: the queue shows them, no empty-queue words
  await page.getByTestId('review-max-sim').fill('1');
  await page.getByTestId('review-item').waitFor({ timeout: 10_000 });
  assert.equal(await why.count(), 0);
  assert.deepEqual(problems, []);
});

test('Tune offers Assign only when the run has new items, and says so when it has none', async () => {
  await page.goto(`${server.url}#view=tune`);
  await page.reload();
  await page.getByTestId('tune-view').waitFor();
  for (const id of [photoRun, faceRun]) {
    const b = page.getByTestId(`assign-run-${id}`);
    await b.waitFor();
    assert.equal(await b.isDisabled(), true, `run ${id}: Assign with nothing new`);
    assert.equal((await b.textContent())?.trim(), 'nothing new to assign');
    assert.match(await b.getAttribute('title') ?? '', new RegExp(`already in run ${id}: embed new photos first`));
  }
  await shot('03-tune-nothing-to-assign');
  // new photos embedded: the photo run has them to assign, the face run (no new faces embedded) still nothing
  const more = join(server.dir, 'more');
  cpSync(join(SHARED, 'data/faces-london', people[2]), join(more, people[2]), { recursive: true });
  const roots = await call('addRoots', { paths: [more] });
  await waitJob(await call('scan', { rootIds: roots.map((r) => r.id) }));
  await waitJob(await call('embed', { model: 'photo' }));
  const added = readdirSync(join(more, people[2])).length;
  await page.waitForLoadState('networkidle');
  await page.reload();
  await page.getByTestId('tune-view').waitFor();
  const b = page.getByTestId(`assign-run-${photoRun}`);
  await until(async () => !(await b.isDisabled()), `Assign enabled on run ${photoRun}`);
  assert.equal((await b.textContent())?.trim(), `Assign ${added}`);
  assert.equal(await page.getByTestId(`assign-run-${faceRun}`).isDisabled(), true);
  await b.click();
  await page.getByTestId('tune-assign-result').waitFor({ timeout: 60_000 });
  await until(() => page.getByTestId(`assign-run-${photoRun}`).isDisabled(), `run ${photoRun}: nothing new once assigned`);
  assert.deepEqual(problems, []);
});

test('server stopped: Rename run, Delete run, Undo and Redo wait for the connection', async () => {
  // an edit undone: Redo has something to redo
  const [c] = await call('getClusters', { runId: photoRun });
  await call('editRun', { runId: photoRun, op: { type: 'rename', cluster: c.cluster, name: 'kept' } });
  await call('undo', { runId: photoRun });
  await page.goto(`${server.url}#view=clusters&run=${photoRun}`);
  await page.reload();
  await page.getByTestId('clusters-view').waitFor();
  await until(async () => !(await page.getByTestId('redo').isDisabled()), 'Redo enabled while connected');
  for (const id of ['rename-run', 'delete-run']) assert.equal(await page.getByTestId(id).isDisabled(), false, `${id} enabled while connected`);
  await server.kill();
  await page.getByTestId('reconnecting').waitFor({ timeout: 20_000 });
  for (const id of ['rename-run', 'delete-run', 'undo', 'redo']) {
    await until(() => page.getByTestId(id).isDisabled(), `${id} disabled`, 10_000);
    assert.match(await page.getByTestId(id).getAttribute('title') ?? '', /cannot be reached: wait for the connection/);
  }
  await shot('04-clusters-offline');
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
});
