// A labeling session in Chromium via serve mode, on real photos (flowers, the built-in photo model): the Label view
// (key 0) shows the named group whose queue holds the most likely members, with counts of decided and left; X marks a
// suggestion "not theirs", Enter confirms the rest and rejects the marked one (the counts move), L learns from the
// decisions, R re-clusters the undecided items in the learned metric (or says why not), and Ctrl+Z undoes a decision.
// Screenshots in e2e/artifacts/label-*.png.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, pageApi, until as untilMs, jobWaiter, openServed } from './harness.mjs';

let server, browser, page, problems, runId;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `label-${name}.png`) });
const { call } = pageApi(() => page);
const waitJob = jobWaiter(call);
const FLOWERS = join(SHARED, 'data/photos-flowers');

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  const photos = join(server.dir, 'photos');
  // names that say nothing about the class
  const classes = readdirSync(FLOWERS).filter((f) => !f.includes('.')).sort().slice(0, 3);
  let n = 0;
  for (const c of classes) for (const f of readdirSync(join(FLOWERS, c)).filter((x) => x.endsWith('.jpg')).sort().slice(0, 10)) {
    mkdirSync(join(photos, `p${n % 4}`), { recursive: true });
    cpSync(join(FLOWERS, c, f), join(photos, `p${n % 4}`, `x${n}.jpg`));
    n++;
  }
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [photos] });
  await waitJob(await call('scan', { rootIds: [root.id] }));
  await waitJob(await call('embed', { model: 'photo' }));
  runId = (await waitJob(await call('cluster', { model: 'photo', params: { algo: 'kmeans', k: 3, seed: 1 } }))).result.runId;
  const clusters = await call('getClusters', { runId });
  for (const [i, c] of clusters.entries()) await call('editRun', { runId, op: { type: 'rename', cluster: c.cluster, name: `group ${i}` } });
  // a few photos of each group sent to noise: the queues have something to offer back
  for (const c of clusters) {
    const m = await call('getClusterMembers', { runId, cluster: c.cluster, offset: 0, limit: 100 });
    if (m.items.length > 4) await call('editRun', { runId, op: { type: 'reject', items: m.items.slice(0, 2).map((v) => v.item) } });
  }
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

const until = (fn, what, ms = 30_000) => untilMs(fn, what, ms);

test('the Label view: the next group to decide, keyboard decisions, counts, learning, undo', async () => {
  await page.keyboard.press('0');
  const view = page.getByTestId('label-view');
  await view.waitFor();
  await until(async () => (await view.getAttribute('data-decided')) !== '', 'the counts');
  await shot('start');
  const counts0 = await until(async () => (await page.getByTestId('label-counts').textContent())?.trim(), 'the counts text');
  // names alone decide nothing: only the photos sent to noise are decided
  const noise = (await call('getRun', { runId })).noise;
  assert.ok(noise > 0);
  assert.equal(counts0, `${noise} decided · ${30 - noise} left · 3 named groups`);
  const offered = Number(await view.getAttribute('data-offered'));
  assert.ok(offered > 0, 'the photos sent to noise are offered back');
  {
    const cluster = Number(await view.getAttribute('data-cluster'));
    const first = Number(await page.getByTestId('item').first().getAttribute('data-item'));
    // X marks the focused (first) suggestion as not theirs; Enter confirms the rest and rejects it
    await page.keyboard.press('x');
    assert.match(await page.getByTestId('label-decide').textContent() ?? '', /reject 1/);
    await shot('marked');
    const decided0 = Number(await view.getAttribute('data-decided'));
    const confirmed0 = (await call('getItemStates', { runId })).byHow.confirmed ?? 0;
    await page.keyboard.press('Enter');
    // the confirmed ones are decided as confirmed (a photo the user had sent to noise was decided already: the count
    // of decided moves only for members the run had placed)
    if (offered > 1) {
      await until(async () => ((await call('getItemStates', { runId })).byHow.confirmed ?? 0) > confirmed0, 'confirmed items decided as confirmed');
      const byHow = (await call('getItemStates', { runId })).byHow;
      const decided = Object.entries(byHow).reduce((n, [how, k]) => n + (how === 'named' ? 0 : k), 0);
      assert.ok(decided >= decided0);
      await until(async () => Number(await view.getAttribute('data-decided')) === decided, 'the view\'s count of decided after the decision');
    }
    const hist = (await call('getHistory', { runId })).edits.filter((e) => !e.undone).map((e) => e.op.type);
    assert.ok(hist.includes('reject-suggestions'), hist.join(','));
    // the rejected one is never offered to that group again
    const again = await call('getSuggestions', { runId, cluster, limit: 200 });
    assert.ok(!again.suggestions.some((s) => s.item === first));
    await shot('decided');
    // Ctrl+Z undoes the last decision (the rejection)
    await page.keyboard.press('Control+z');
    await until(async () => !(await call('getHistory', { runId })).edits.filter((e) => !e.undone).some((e) => e.op.type === 'reject-suggestions'), 'undo of the rejection');
  }
  // L learns from the decisions (confirmed and rejected suggestions; never the names alone)
  await page.keyboard.press('l');
  const card = page.getByTestId('label-learned');
  await card.waitFor({ timeout: 120_000 });
  assert.match(await card.textContent() ?? '', /Metric v\d+: \d+ decisions?/);
  await shot('learned');
  // R re-clusters the undecided items in the learned metric: one 'recluster' edit when the metric is used, else
  // refused with what to do (learn first) or why nothing moved
  const used = !/not used/.test(await card.textContent() ?? '');
  const edits0 = (await call('getHistory', { runId })).edits.length;
  await page.keyboard.press('r');
  if (used) {
    await until(async () => (await call('getHistory', { runId })).edits.length > edits0 || /nothing to re-cluster/.test(await page.locator('body').textContent() ?? ''), 'the re-clustering or why nothing moved');
  } else {
    await until(async () => /learn first/.test(await page.locator('body').textContent() ?? ''), 'the refusal without a learned metric');
    assert.equal((await call('getHistory', { runId })).edits.length, edits0);
  }
  // (a refusal answers 409: expected here, not a problem of the page)
  const refused = problems.findIndex((p) => /HTTP 409: .*\/api\/editRun$/.test(p));
  if (refused >= 0) problems.splice(refused, 1);
  await shot('reclustered');
  assert.deepEqual(problems, []);
});
