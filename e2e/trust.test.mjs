// A workbench you can trust all day (issue 17), in Chromium via serve mode on real faces: failures shown where they
// happen, undo scoped to the run on screen and saying what it did, every view in sync with the library after edits,
// People leaving the Clusters run alone, paths (~, relative, a missing export folder), and a lost server.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, startServe, pageApi, openServed, viewOpener } from './harness.mjs';

let server, browser, page, problems, faces;
let runA, runB;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `trust-${name}.png`) });
const { raw, call } = pageApi(() => page);
const waitJob = async (id) => { const j = await call('waitJob', { id, timeoutMs: 200_000 }); return j; };
const note = () => page.getByTestId('note').last().textContent();
/** the newest toast once it matches `re` (the list follows an undo from its change event, before the call's answer
 * brings the toast): its text, or the newest toast's text when none matched in 10 s */
const noteMatching = async (re) => {
  await page.waitForFunction((src) => [...document.querySelectorAll('[data-testid=note]')].some((n) => new RegExp(src).test(n.textContent)), re.source, { timeout: 10_000 }).catch(() => {});
  return (await page.getByTestId('note').allTextContents()).reverse().find((t) => re.test(t)) ?? note();
};
const go = viewOpener(() => page);

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  faces = join(server.dir, 'faces');
  mkdirSync(faces);
  for (const p of readdirSync(join(SHARED, 'data/faces-london')).sort().slice(0, 10)) cpSync(join(SHARED, 'data/faces-london', p), join(faces, p), { recursive: true });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [faces] });
  assert.equal((await waitJob((await call('scan', { rootIds: [root.id] })).id)).state, 'done');
  assert.equal((await waitJob((await call('embed', { model: 'face' })).id)).state, 'done');
  runA = (await waitJob((await call('cluster', { model: 'face', params: { algo: 'kmeans', k: 10, nInit: 3 } })).id)).result.runId;
  runB = (await waitJob((await call('cluster', { model: 'face', params: { algo: 'kmeans', k: 8, nInit: 3, seed: 5 } })).id)).result.runId;
  assert.equal((await waitJob((await call('computeMap', { model: 'face', params: { method: 'pca', seed: 0 } })).id)).state, 'done');
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 400_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('the failing Tune parameters show their message at the field, before and after submit', async () => {
  await go('tune');
  await page.getByTestId('tune-model').selectOption('face');
  await page.getByTestId('tune-preset').selectOption('custom'); // the purpose presets come first (issue 18)
  await page.getByTestId('tune-algo').selectOption('kmeans');
  // the contract's refusals in words: the parameter's plain name, no schema jargon
  for (const [k, re] of /** @type {Array<[string, RegExp]>} */ ([['0', /^number of groups \(k\): must be a whole number of at least 1 \(got 0\)$/], ['-3', /^number of groups \(k\): must be a whole number of at least 1 \(got -3\)$/], ['999', /k: 999 clusters asked for 20 points/]])) {
    await page.getByTestId('tune-k').fill(k);
    await page.getByTestId('run-cluster').click();
    await page.getByTestId('tune-error').waitFor();
    assert.match(await page.getByTestId('tune-error').textContent(), re);
    assert.equal(await page.getByTestId('tune-error').getAttribute('data-field'), 'k');
    assert.match(await page.getByTestId('tune-k').getAttribute('class'), /invalid/);
  }
  await shot('tune-k-error');
  await page.getByTestId('tune-algo').selectOption('hdbscan');
  await page.getByTestId('tune-mcs').fill('1');
  await page.getByTestId('run-cluster').click();
  assert.match(await page.getByTestId('tune-error').textContent(), /^min cluster size: must be a whole number of at least 2 \(got 1\)$/);
  await page.getByTestId('tune-algo').selectOption('dbscan');
  await page.getByTestId('tune-eps').fill('-0.2');
  await page.getByTestId('run-cluster').click();
  assert.match(await page.getByTestId('tune-error').textContent(), /^radius \(eps\): must be at least 0 \(got -0\.2\)$/);
  assert.match(await page.getByTestId('tune-eps').getAttribute('class'), /invalid/);
  await shot('tune-eps-error');
  // the form persists across views and reloads (per library), but never a refused value (issue 34): eps is back at its last accepted one
  await go('clusters');
  await go('tune');
  assert.equal(await page.getByTestId('tune-algo').inputValue(), 'dbscan');
  assert.equal(await page.getByTestId('tune-eps').inputValue(), '0.3');
  await page.reload();
  await page.getByTestId('tune-view').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=tune-algo]')?.value === 'dbscan');
  await page.getByTestId('tune-algo').selectOption('kmeans');
  await page.getByTestId('tune-k').fill('10');
});

test('a failed job stays visible (red bar, jobs panel with its parameters and error) until dismissed', async () => {
  const job = await call('downloadCatalogModel', { id: 'dinov2-small' });
  const done = await waitJob(job.id);
  assert.equal(done.state, 'failed', `the download has no network here: ${JSON.stringify(done)}`);
  const bar = page.locator(`[data-testid=job-failed][data-job="${job.id}"]`);
  await bar.waitFor({ timeout: 10_000 });
  assert.equal(await bar.getByTestId('job-error').textContent(), done.error.message);
  await page.getByTestId('jobs-button').click();
  const entry = page.locator(`[data-testid=job-entry][data-job="${job.id}"]`);
  await entry.waitFor();
  assert.match(await entry.textContent(), /download · failed/);
  assert.match(await entry.textContent(), /dinov2-small/);
  await shot('job-failed');
  await page.keyboard.press('Escape');
  await page.getByTestId('jobs-panel').waitFor({ state: 'detached' });
  // still there after a reload, gone once dismissed (and stays gone)
  await page.reload();
  await bar.waitFor();
  await bar.getByTestId('dismiss-job').click();
  await bar.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByTestId('library-view').or(page.getByTestId('tune-view')).first().waitFor();
  await page.waitForTimeout(500);
  assert.equal(await bar.count(), 0);
});

test('People keeps its own run; Ctrl+Z in another view says what it undid and in which run', async () => {
  await go('clusters');
  await page.getByTestId('run-picker').selectOption(String(runA));
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=cluster-row]').length === n, 10);
  await go('people');
  // People shows the newest face run (B) and leaves Clusters / Export on run A
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(runB));
  const input = page.getByTestId('person-name').first();
  const cluster = Number(await input.getAttribute('data-cluster'));
  await input.fill('Anna');
  await input.press('Enter');
  // Enter left the field: the next key is a command, not a letter in the name
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'BODY');
  await page.waitForFunction(() => !document.querySelector('[data-testid=undo]').disabled);
  await go('clusters');
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(runA));
  await go('export');
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(runA));
  // Ctrl+Z on run A (on screen in Review): nothing there, and it says where the last edit was
  await go('review');
  await page.keyboard.press('Control+z');
  await page.getByTestId('note').last().waitFor();
  assert.equal(await note(), `Nothing to undo in run ${runA} (your last edit was in run ${runB}: rename 'person ${cluster}' → 'Anna')`);
  assert.equal((await call('getClusters', { runId: runB })).find((c) => c.cluster === cluster).name, 'Anna');
  await shot('undo-elsewhere');
  await go('people');
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=note]')].some((n) => n.textContent.startsWith('Undid')));
  const undid = await page.evaluate(() => [...document.querySelectorAll('[data-testid=note]')].map((n) => n.textContent).find((t) => t.startsWith('Undid')));
  assert.equal(undid, `Undid in run ${runB}: rename 'person ${cluster}' → 'Anna'`);
  assert.equal((await call('getClusters', { runId: runB })).find((c) => c.cluster === cluster).name, null);
  await page.waitForFunction((c) => document.querySelector(`[data-testid=person-name][data-cluster="${c}"]`)?.value === '', cluster);
  // the history panel lists the session's edits with their run
  await page.keyboard.press('h');
  await page.getByTestId('history-panel').waitFor();
  assert.match(await page.getByTestId('history-panel').textContent(), new RegExp(`run ${runB} · undo: rename 'person ${cluster}' → 'Anna'`));
  await shot('history');
  await page.keyboard.press('Escape');
  // reload: People keeps run B, Clusters keeps run A
  await page.reload();
  await page.getByTestId('people-view').waitFor();
  await page.waitForFunction((r) => document.querySelector('[data-testid=run-picker]')?.value === String(r), runB);
  await go('clusters');
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(runA));
});

/** What the map shows, and what it must show from getAssignments + getClusters (the 20 largest named, the rest "other"). */
async function mapAgrees(runId) {
  const want = await page.evaluate(async (r) => {
    const post = (m, a) => fetch(`api/${m}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-constellate-csrf': '1' }, body: JSON.stringify(a) });
    const cs = (await (await post('getClusters', { runId: r })).json()).result;
    const sizes = cs.map((c) => [c.cluster, c.size]).sort((a, b) => b[1] - a[1]);
    // a face run's unnamed groups read "person N" on the map, as in People
    return { names: Object.fromEntries(cs.map((c) => [c.cluster, c.name ?? `person ${c.cluster}`])), sizes };
  }, runId);
  const sig = await page.getByTestId('map-view').getAttribute('data-assign-sig');
  const legend = (await page.getByTestId('map-view').getAttribute('data-legend')).split('|').filter(Boolean);
  const counts = Object.fromEntries(legend.map((l) => { const i = l.lastIndexOf(':'); return [l.slice(0, i), Number(l.slice(i + 1))]; }));
  const expected = Object.fromEntries(want.sizes.map(([c, n]) => [want.names[c], n]));
  const noise = 20 - want.sizes.reduce((a, [, n]) => a + n, 0);
  if (noise) expected.noise = noise;
  return { ok: JSON.stringify(Object.entries(counts).sort()) === JSON.stringify(Object.entries(expected).sort()), counts, expected, sig };
}
async function waitMapAgrees(runId, what) {
  let last;
  for (let i = 0; i < 50; i++) { last = await mapAgrees(runId); if (last.ok) return last; await page.waitForTimeout(100); }
  assert.fail(`${what}: the map legend ${JSON.stringify(last.counts)} is not the library's ${JSON.stringify(last.expected)}`);
}

test('after move, merge, undo and redo the map legend and colours match getAssignments', async () => {
  await go('map');
  await page.getByTestId('map-model').selectOption('face');
  // the method of the map that exists (PCA), not "no umap map yet"
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=map-view]')?.dataset.points) === 20);
  assert.equal(await page.getByTestId('map-method').inputValue(), 'pca');
  await page.getByTestId('run-picker').selectOption(String(runA));
  await waitMapAgrees(runA, 'at first');
  const cs = await call('getClusters', { runId: runA });
  const [a, b] = cs;
  const item = (await call('getClusterMembers', { runId: runA, cluster: b.cluster })).items[0].item;
  await call('editRun', { runId: runA, op: { type: 'move', items: [item], to: 'new', name: 'Moved' } });
  const moved = await waitMapAgrees(runA, 'after a move to a new cluster');
  assert.ok(moved.counts.Moved === 1);
  await call('editRun', { runId: runA, op: { type: 'merge', clusters: [a.cluster, b.cluster] } });
  await waitMapAgrees(runA, 'after a merge');
  await shot('map-after-merge');
  await page.getByTestId('undo').click();
  await waitMapAgrees(runA, 'after undo');
  await page.getByTestId('undo').click();
  const back = await waitMapAgrees(runA, 'after the second undo');
  assert.ok(!('Moved' in back.counts), 'the moved-to cluster left the legend');
  await page.getByTestId('redo').click();
  await waitMapAgrees(runA, 'after redo');
  // the run picker's count is the run's count now
  const run = (await call('listRuns')).find((r) => r.id === runA);
  await page.waitForFunction(([r, n]) => document.querySelector(`[data-testid=run-picker] option[value="${r}"]`)?.dataset.clusters === String(n), [runA, run.clusters]);
  // coming back keeps the method
  await go('library');
  await go('map');
  assert.equal(await page.getByTestId('map-method').inputValue(), 'pca');
  await page.getByTestId('undo').click();
  await waitMapAgrees(runA, 'undo after coming back');
});

test('Clusters: M merges the selected clusters, shift-click selects a range, the list keeps up', async () => {
  await go('clusters');
  await page.getByTestId('run-picker').selectOption(String(runA));
  const rows = page.getByTestId('cluster-row');
  await rows.first().waitFor();
  const n = await rows.count();
  await rows.nth(0).click();
  await rows.nth(2).click({ modifiers: ['Shift'] });
  assert.equal(await page.locator('[data-testid=cluster-row].sel').count(), 3);
  await page.keyboard.press('m');
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=cluster-row]').length === k, n - 2);
  await page.getByTestId('note').last().waitFor().catch(() => {});
  await shot('clusters-after-m');
  await page.keyboard.press('Control+z');
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=cluster-row]').length === k, n);
  assert.match(await noteMatching(new RegExp(`^Undid in run ${runA}: merge `)), new RegExp(`^Undid in run ${runA}: merge `));
});

test('the selectable grid: shift-click range, ctrl-click, keyboard, action bar (new group) as one undoable edit', async () => {
  const cs = await call('getClusters', { runId: runA });
  const three = cs.slice(0, 3).map((c) => c.cluster);
  await call('editRun', { runId: runA, op: { type: 'merge', clusters: three, into: three[0] } });
  const size = (await call('getClusters', { runId: runA })).find((c) => c.cluster === three[0]).size;
  assert.ok(size >= 5, `a cluster of ${size} to select in`);
  await page.evaluate((c) => { location.hash = `#view=cluster&cluster=${c}`; }, three[0]);
  await page.getByTestId('cluster-detail').waitFor();
  const tiles = page.getByTestId('grid').getByTestId('item');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=grid] [data-testid=item]').length === n, size);
  await tiles.nth(0).click();
  await tiles.nth(3).click({ modifiers: ['Shift'] });
  assert.equal(await page.getByTestId('grid-selected').textContent(), '4 selected');
  await tiles.nth(1).click({ modifiers: ['Control'] });
  assert.equal(await page.getByTestId('grid-selected').textContent(), '3 selected');
  // keyboard: focus moves with the arrows, space toggles, shift+arrow extends, Esc clears
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight'); // from the last click (index 1) to index 4
  assert.equal(await page.getByTestId('grid').getAttribute('data-focus'), '4');
  await page.keyboard.press('Space');
  assert.equal(await page.getByTestId('grid-selected').textContent(), '4 selected');
  await page.keyboard.press('Escape');
  await page.getByTestId('grid-actions').waitFor({ state: 'detached' });
  await page.keyboard.press('Shift+ArrowRight');
  assert.equal(await page.getByTestId('grid-selected').textContent(), '2 selected');
  const picked = await page.evaluate(() => [...document.querySelectorAll('[data-testid=grid] .tile.selected')].map((t) => Number(t.dataset.item)));
  assert.equal(picked.length, 2);
  await shot('grid-selection');
  await page.getByTestId('grid-new-group').click();
  await page.getByTestId('grid-new-create').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=grid] [data-testid=item]').length === n, size - 2);
  const after = await call('getClusters', { runId: runA });
  const created = after.find((c) => c.size === 2 && !cs.some((x) => x.cluster === c.cluster));
  assert.ok(created, 'a new group of the 2 selected');
  await page.keyboard.press('Control+z');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=grid] [data-testid=item]').length === n, size);
  assert.match(await noteMatching(new RegExp(`^Undid in run ${runA}: move 2 items to a new person$`)), new RegExp(`^Undid in run ${runA}: move 2 items to a new person$`));
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=note]')].some((n) => /^Undid in run \d+: merge /.test(n.textContent)));
});

test('paths: ~ is home, a relative path is refused with the reason, export asks before creating a folder', async () => {
  await go('library');
  await page.getByTestId('folder-input').fill('Pictures/relative');
  await page.getByTestId('add-folder').click();
  await page.getByTestId('toast').waitFor();
  assert.match(await page.getByTestId('toast').textContent(), /"Pictures\/relative" is a relative path; give an absolute path/);
  await page.getByTestId('folder-input').fill('~/constellate-e2e-no-such-folder');
  await page.getByTestId('add-folder').click();
  await page.waitForFunction((p) => document.querySelector('[data-testid=toast]')?.textContent.includes(p), join(homedir(), 'constellate-e2e-no-such-folder'));
  await go('export');
  await page.getByTestId('run-picker').selectOption(String(runA));
  await page.getByTestId('export-to').fill('exports');
  await page.getByTestId('export-run').click();
  await page.getByTestId('export-error').waitFor();
  assert.match(await page.getByTestId('export-error').textContent(), /^to: "exports" is a relative path/);
  assert.match(await page.getByTestId('export-to').getAttribute('class'), /invalid/);
  const plain = join(server.dir, 'a-file');
  writeFileSync(plain, 'x');
  const r = await raw('exportRun', { runId: runA, to: plain, format: 'csv' });
  assert.equal(r.status, 400, 'an export to a file path is a user error (4xx), never 500');
  assert.match(r.error.message, /cannot write there/);
  const out = join(server.dir, 'new', 'export');
  await page.getByTestId('export-to').fill(out);
  await page.getByTestId('export-format').selectOption('csv');
  await page.getByTestId('export-run').click();
  await page.getByTestId('ask-create').waitFor();
  assert.equal(existsSync(out), false);
  await shot('export-ask-create');
  await page.getByTestId('confirm-create').click();
  await page.getByTestId('export-report').waitFor({ timeout: 60_000 });
  assert.equal(existsSync(out), true);
  // a dry run shows its report, also after leaving the view
  const dry = await call('exportRun', { runId: runA, to: join(server.dir, 'dry'), format: 'folders', dryRun: true });
  await waitJob(dry.id);
  await go('library');
  await go('export');
  await page.waitForFunction((id) => document.querySelector('[data-testid=export-report]')?.dataset.job === String(id), dry.id);
  assert.match(await page.getByTestId('export-report').textContent(), /dry run/);
  await shot('export-dry-run');
});

test('import labels asks which run and is one undoable edit', async () => {
  await go('export');
  await page.getByTestId('labels-from').fill(faces);
  await page.getByTestId('labels-run').selectOption(String(runA));
  await page.getByTestId('import-labels').click();
  await page.getByTestId('labels-report').waitFor();
  assert.match(await page.getByTestId('labels-report').textContent(), new RegExp(`in run ${runA}`));
  const named = (await call('getClusters', { runId: runA })).filter((c) => c.name && c.name !== 'Moved');
  assert.ok(named.length > 0);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=note]')].some((n) => /import labels from faces/.test(n.textContent)));
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=note]')].some((n) => /^Undid in run \d+: import labels from faces/.test(n.textContent)));
  assert.equal((await call('getClusters', { runId: runA })).filter((c) => c.name && c.name !== 'Moved').length, 0);
});

test('runs are told apart (model, algorithm, differing parameters, counts now), renamed and deleted with a confirmation naming what goes', async () => {
  await go('clusters');
  const label = (id) => page.locator(`[data-testid=run-picker] option[value="${id}"]`).textContent();
  assert.match(await label(runA), new RegExp(`^run ${runA} · face · kmeans k=10 · \\d+ clusters · \\d+ noise$`));
  assert.match(await label(runB), new RegExp(`^run ${runB} · face · kmeans k=8 seed=5 · 8 clusters · 0 noise$`));
  await page.getByTestId('run-picker').selectOption(String(runB));
  page.once('dialog', (d) => d.accept('Second try'));
  await page.getByTestId('rename-run').click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid=run-picker] option[value="${id}"]`)?.textContent.startsWith('Second try · run'), runB);
  let message = '';
  page.once('dialog', (d) => { message = d.message(); void d.accept(); });
  await page.getByTestId('delete-run').click();
  await page.waitForFunction((id) => !document.querySelector(`[data-testid=run-picker] option[value="${id}"]`), runB);
  assert.match(message, new RegExp(`^Delete run ${runB} \\(face · kmeans, 20 faces\\)\\?`));
  assert.match(message, /removes its 8 clusters, \d+ named or curated groups and \d+ edits of history/);
  assert.deepEqual((await call('listRuns')).map((r) => r.id), [runA]);
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(runA));
  await go('people');
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(runA));
  await shot('runs-after-delete');
});

test('back up now and restore it, with a confirmation', async () => {
  await go('library');
  await page.getByTestId('backup-now').click();
  await page.getByTestId('backup-row').first().waitFor();
  const [c] = await call('getClusters', { runId: runA });
  await call('editRun', { runId: runA, op: { type: 'rename', cluster: c.cluster, name: 'after the backup' } });
  let message = '';
  page.once('dialog', (d) => { message = d.message(); void d.accept(); });
  await page.getByTestId('restore-backup').first().click();
  await page.getByTestId('backup-note').filter({ hasText: 'Restored' }).waitFor();
  assert.match(message, /^Restore the library to the backup of .*\n\nEverything changed since then .* is replaced by the backup's content/);
  assert.equal((await call('getClusters', { runId: runA })).find((x) => x.cluster === c.cluster).name, c.name);
  await shot('backup-restored');
});

test('a slow answer for the cluster left a moment ago never replaces the one opened after it', async () => {
  const cs = (await call('getClusters', { runId: runA })).filter((c) => c.size > 0).sort((a, b) => a.cluster - b.cluster);
  const [c1, c2, c3] = cs.map((c) => c.cluster);
  await page.evaluate(([r, c]) => { location.hash = `#view=cluster&run=${r}&cluster=${c}`; }, [runA, c1]);
  await page.waitForFunction((c) => document.querySelector('[data-testid=cluster-detail]')?.dataset.shown === String(c), c1);
  // the server is slow for c2 only: its answer lands after c3's
  let delayed = 0;
  await page.route('**/api/getCluster', async (route) => {
    if (route.request().postDataJSON()?.cluster === c2) { delayed++; await new Promise((r) => setTimeout(r, 1500)); }
    await route.continue();
  });
  await page.evaluate(([r, c]) => { location.hash = `#view=cluster&run=${r}&cluster=${c}`; }, [runA, c2]);
  await page.waitForTimeout(150);
  await page.evaluate(([r, c]) => { location.hash = `#view=cluster&run=${r}&cluster=${c}`; }, [runA, c3]);
  await page.waitForFunction((c) => document.querySelector('[data-testid=cluster-detail]')?.dataset.shown === String(c), c3);
  await page.waitForTimeout(2500); // c2's answer has landed by now
  await page.unroute('**/api/getCluster');
  assert.equal(delayed, 1);
  assert.equal(await page.getByTestId('cluster-detail').getAttribute('data-shown'), String(c3));
  const members = new Set((await call('getClusterMembers', { runId: runA, cluster: c3, offset: 0, limit: 1000 })).items.map((v) => v.item));
  const top = await page.getByTestId('top-samples').locator('[data-item]').evaluateAll((ts) => ts.map((t) => Number(t.dataset.item)));
  assert.ok(top.length > 0 && top.every((i) => members.has(i)), `top samples ${top} are members of cluster ${c3}`);
  assert.equal(await page.getByTestId('cluster-name').getAttribute('placeholder'), `person ${c3}`);
});

test('a stopped server shows the reconnect banner with the last data; a restart that needs the token says so', async () => {
  await go('clusters');
  const rows = await page.getByTestId('cluster-row').count();
  assert.ok(rows > 0);
  await page.waitForFunction(() => !document.querySelector('[data-testid=toast]'), null, { timeout: 10_000 });
  const port = server.port;
  await server.kill();
  await page.getByTestId('reconnecting').waitFor({ timeout: 15_000 });
  await page.getByTestId('nav-library').click();
  await page.waitForTimeout(1000);
  assert.equal(await page.getByText('No folders yet').count(), 0, 'a lost server is not an empty library');
  assert.equal(await page.getByTestId('photo-count').textContent(), '20');
  await shot('reconnecting-library');
  await page.getByTestId('nav-clusters').click();
  await page.waitForTimeout(1500);
  assert.equal(await page.getByTestId('cluster-row').count(), rows, 'the last data stays on screen');
  const toasts = await page.getByTestId('toast').allTextContents();
  assert.deepEqual(toasts.filter((t) => /fetch|HTTP|connection/i.test(t)), [], `no raw "Failed to fetch": ${toasts}`);
  await shot('reconnecting');
  server = await startServe(['--port', String(port)], { dir: server.dir });
  await page.getByTestId('needs-token').waitFor({ timeout: 20_000 });
  await shot('needs-token');
  await page.goto(server.url);
  await page.getByTestId('clusters-view').or(page.getByTestId('library-view')).first().waitFor();
  assert.equal(await page.getByTestId('reconnecting').count(), 0);
  const serious = problems.filter((p) => !/favicon|requestfailed|ERR_CONNECTION_REFUSED|HTTP 40[0134]|HTTP 409|WebSocket|Failed to load/.test(p));
  assert.deepEqual(serious, []);
});
