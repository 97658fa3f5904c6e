// Libraries and the one selectable grid (issue 17), in Chromium via serve mode on real photos: the Library view's
// photos and the cluster detail in VirtualGrid (one action bar), open a second library from the header menu and see
// its counts, a library that cannot be opened leaves the open one (with the reason), back via the recent list; Tune's
// tables tell runs apart.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, ROOT, SHARED, launch, startServe, watchPage, pageApi, until } from './harness.mjs';

let server, browser, page, problems, libB, runId;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `libraries-${name}.png`) });
const { raw, call } = pageApi(() => page);
const waitJob = (id) => call('waitJob', { id, timeoutMs: 200_000 });
const photoCount = () => page.getByTestId('photo-count').textContent();
const copySome = (from, to, n) => {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from).filter((x) => x.endsWith('.jpg')).sort().slice(0, n)) cpSync(join(from, f), join(to, f));
};

before(async () => {
  server = await startServe();
  // library A (served): 8 daisies and 8 roses; library B (made by the CLI beforehand): 5 tulips
  copySome(join(SHARED, 'data/photos-flowers/daisy'), join(server.dir, 'a', 'daisy'), 8);
  copySome(join(SHARED, 'data/photos-flowers/roses'), join(server.dir, 'a', 'roses'), 8);
  copySome(join(SHARED, 'data/photos-flowers/tulips'), join(server.dir, 'b', 'tulips'), 5);
  libB = join(server.dir, 'second.constellate');
  const cli = spawnSync(process.execPath, [join(ROOT, 'src-main/cli/bin.mjs'), 'scan', join(server.dir, 'b'), '--library', libB, '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1440, height: 920 } });
  problems = watchPage(page);
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [join(server.dir, 'a')] });
  assert.equal((await waitJob((await call('scan', { rootIds: [root.id] })).id)).state, 'done');
  assert.equal((await waitJob((await call('embed', { model: 'photo' })).id)).state, 'done');
  runId = (await waitJob((await call('cluster', { model: 'photo', params: { algo: 'kmeans', k: 2, nInit: 3 } })).id)).result.runId;
  assert.equal((await waitJob((await call('cluster', { model: 'photo', params: { algo: 'kmeans', k: 3, nInit: 3, seed: 4 } })).id)).state, 'done');
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 400_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('the Library view lists its photos in the selectable grid: click, shift-click, ctrl-click, keyboard, one action bar', async () => {
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '16');
  const tiles = page.getByTestId('grid').getByTestId('photo-tile');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=grid] [data-testid=photo-tile]').length === 16);
  await tiles.nth(0).click();
  await tiles.nth(4).click({ modifiers: ['Shift'] });
  assert.equal(await page.getByTestId('grid-selected').textContent(), '5 selected');
  assert.equal(await page.getByTestId('grid-similar').isDisabled(), true);
  await tiles.nth(2).click({ modifiers: ['Control'] });
  assert.equal(await page.getByTestId('grid-selected').textContent(), '4 selected');
  // the actions that make sense for photos outside a run: similar and open (no move or reject: those are run edits)
  assert.deepEqual(await page.getByTestId('grid-actions').locator('button').evaluateAll((bs) => bs.map((b) => b.dataset.testid)), ['grid-similar', 'grid-open', 'grid-clear']);
  await page.getByTestId('library-view').locator('.card').last().scrollIntoViewIfNeeded();
  await shot('library-grid');
  await page.keyboard.press('Escape');
  await page.getByTestId('grid-actions').waitFor({ state: 'detached' });
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Space');
  assert.equal(await page.getByTestId('grid-selected').textContent(), '1 selected');
  // one photo: similar goes to the Similar view on it
  const picked = Number(await page.locator('[data-testid=grid] .tile.selected').getAttribute('data-item'));
  await page.getByTestId('grid-similar').click();
  await page.waitForFunction((id) => location.hash.includes('view=similar') && location.hash.includes(`item=${id}`), picked);
  await page.getByTestId('nav-library').click();
  await page.getByTestId('library-view').waitFor();
});

test('the cluster detail has one action bar (the grid\'s), and its grid selects', async () => {
  const cs = await call('getClusters', { runId });
  const big = cs.slice().sort((a, b) => b.size - a.size)[0];
  await page.evaluate(([r, c]) => { location.hash = `#view=cluster&run=${r}&cluster=${c}`; }, [runId, big.cluster]);
  await page.getByTestId('cluster-detail').waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=grid] [data-testid=item]').length === n, big.size);
  assert.equal(await page.getByTestId('move-target').count(), 0, 'the older toolbar is gone');
  assert.equal(await page.getByTestId('grid-actions').count(), 0);
  await page.getByTestId('grid').getByTestId('item').nth(0).click();
  await page.getByTestId('grid').getByTestId('item').nth(2).click({ modifiers: ['Shift'] });
  assert.equal(await page.getByTestId('grid-actions').count(), 1);
  assert.equal(await page.getByTestId('grid-selected').textContent(), '3 selected');
  await shot('cluster-detail');
  // a move through the bar is one edit; undo takes it back
  // "Move to…" is a searchable list; "a new group…" asks for its name (Enter or Create; empty leaves it unnamed)
  await page.getByTestId('grid-move-target').click();
  await page.locator('[data-testid=grid-move-option][data-value="new"]').click();
  await page.getByTestId('grid-new-create').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=grid] [data-testid=item]').length === n, big.size - 3);
  await page.keyboard.press('Control+z');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=grid] [data-testid=item]').length === n, big.size);
});

test('Tune\'s Runs and Compare tables tell runs apart (model, algorithm, the parameters that differ, counts now)', async () => {
  await page.getByTestId('nav-tune').click();
  await page.getByTestId('tune-view').waitFor();
  const labels = await page.getByTestId('run-label').allTextContents();
  assert.equal(labels.length, 2);
  for (const l of labels) assert.match(l, /^run \d+ · photo · kmeans k=\d .*· \d+ clusters · \d+ noise$/);
  assert.notEqual(labels[0], labels[1]);
  assert.ok(labels.some((l) => l.includes('k=2')) && labels.some((l) => l.includes('k=3')), labels.join(' | '));
  await page.getByTestId('compare-runs').click();
  await page.getByTestId('cmp-a').waitFor();
  assert.deepEqual([await page.getByTestId('cmp-a').textContent(), await page.getByTestId('cmp-b').textContent()].sort(), [...labels].sort());
  await page.getByTestId('runs-table').scrollIntoViewIfNeeded();
  await shot('tune-runs');
});

test('open a second library from the header menu, see its counts; a library that cannot be opened leaves this one', async () => {
  await page.getByTestId('nav-library').click();
  await page.getByTestId('library-view').waitFor();
  assert.equal(await photoCount(), '16');
  await page.getByTestId('library-menu').click();
  await page.getByTestId('library-panel').waitFor();
  assert.equal(await page.getByTestId('library-current').textContent(), server.library);
  // damaged: the reason, and the open library stays
  const bad = join(server.dir, 'damaged.constellate');
  writeFileSync(bad, 'not a database '.repeat(100));
  await page.getByTestId('library-path').fill(bad);
  await page.getByTestId('library-open').click();
  // checked before asking: no "Open … instead?" for a file that is not a library
  await page.getByTestId('library-error').waitFor();
  assert.equal(await page.getByTestId('library-confirm').count(), 0);
  assert.match(await page.getByTestId('library-error').textContent(), /Cannot open .*damaged\.constellate: .*not a Constellate library.*e2e\.constellate stays open/);
  await shot('open-failed');
  assert.equal(await photoCount(), '16');
  assert.equal((await call('getInfo')).library, server.library);
  // a relative path: refused with the reason
  await page.getByTestId('library-path').fill('holidays.constellate');
  await page.getByTestId('library-open').click();
  await page.waitForFunction(() => /relative path/.test(document.querySelector('[data-testid=library-error]')?.textContent ?? ''));

  // the second library
  await page.getByTestId('library-path').fill(libB);
  await page.getByTestId('library-open').click();
  assert.match(await page.getByTestId('library-confirm').textContent(), /Open the library .*second\.constellate instead of e2e\.constellate\?/);
  await shot('open-confirm');
  await page.getByTestId('library-confirm-yes').click();
  await page.getByTestId('library-panel').waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '5');
  assert.equal(await page.locator('.libpath').textContent(), libB);
  // the toasts say what happened in this library only: the switch (the first library's "Undid …" is gone)
  assert.deepEqual(await page.getByTestId('note').allTextContents(), [`Opened ${libB}: 5 photos, 0 faces, 0 runs`]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=grid] [data-testid=photo-tile]').length === 5);
  const titles = await page.locator('[data-testid=grid] [data-testid=thumb]').evaluateAll((is) => is.map((i) => i.title));
  assert.ok(titles.every((t) => t.startsWith('tulips/')), titles.join(', '));
  // nothing of the other library's runs is left on screen
  assert.equal(await page.locator('.nav [data-testid=nav-library] .count').textContent(), '5');
  assert.equal(await page.getByTestId('screen-run').count(), 0);
  await shot('second-library');
});

test('back to the first library through the recent list; its selections come back', async () => {
  await page.getByTestId('library-menu').click();
  const recent = page.getByTestId('recent-library');
  await recent.first().waitFor();
  // the menu shows the list it had, then the one it just asked for: wait for the fresh one
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=recent-library]').length >= 2, null, { timeout: 10_000 }).catch(() => {});
  const paths = await recent.evaluateAll((rs) => rs.map((r) => r.dataset.path));
  assert.deepEqual(paths, [libB, server.library]);
  await shot('recent');
  await page.locator(`[data-testid=recent-library][data-path="${server.library}"]`).getByTestId('recent-open').click();
  await page.getByTestId('library-confirm-yes').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '16');
  assert.equal(await page.locator('.libpath').textContent(), server.library);
  // the run comes back with the library (shown where a run is on screen: the Library view shows none)
  await page.getByTestId('nav-clusters').click();
  await page.getByTestId('clusters-view').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=screen-run]') !== null);
  assert.equal(await page.getByTestId('screen-run').textContent(), `run ${runId}`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=cluster-row]').length > 0);
  await shot('back-to-first');
  // the only failed requests were the refused paths, checked before asking (their 4xx said why on screen)
  assert.deepEqual(problems.filter((p) => !/HTTP 40\d: .*\/api\/checkLibrary$/.test(p)), []);
});

/** Opens a library of the recent list through the header menu; waits for the header to name it. @param {string} path */
async function openRecent(path) {
  await page.getByTestId('library-menu').click();
  await page.locator(`[data-testid=recent-library][data-path="${path}"]`).getByTestId('recent-open').click();
  await page.getByTestId('library-confirm-yes').click();
  await page.waitForFunction((p) => document.querySelector('.libpath')?.textContent === p, path);
}

/** In Clusters, the run on screen once the library's runs have loaded is the one chosen before (run `runId`). */
async function assertScreenRunAfterBack() {
  await page.getByTestId('nav-clusters').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=screen-run]') !== null);
  await page.waitForTimeout(300);
  assert.equal(await page.getByTestId('screen-run').textContent(), `run ${runId}`);
}

test('a run list the first library asked for but the second answered, while the page opened it, changes no saved choice', async () => {
  // the order that once lost the choice, made on purpose: a run list asked of library A is answered by the server after
  // it opened B, and reaches the page before the page hears of the switch (the open's answer and the socket's event held)
  /** @type {import('playwright-core').WebSocketRoute | null} */
  let sock = null;
  let holdEvents = false; const heldEvents = [];
  await page.routeWebSocket(/.*/, (ws) => {
    sock = ws;
    const srv = ws.connectToServer();
    srv.onMessage((m) => { if (holdEvents) heldEvents.push(m); else ws.send(m); });
  });
  await page.reload();
  await page.getByTestId('clusters-view').waitFor();
  await page.waitForFunction((id) => document.querySelector('[data-testid=screen-run]')?.textContent === `run ${id}`, runId);
  const socket = await until(() => sock, 'the page\'s socket');
  const heldRuns = [];
  await page.route('**/api/listRuns*', (route) => { heldRuns.push(route); });
  // a job that ends makes the page ask for the runs again (asked of A, held)
  const [root] = await call('listRoots');
  assert.equal((await waitJob((await call('scan', { rootIds: [root.id] })).id)).state, 'done');
  await until(() => heldRuns.length > 0, 'a run list asked after the job');
  /** @type {import('playwright-core').Route | null} */
  let openRoute = null;
  await page.route('**/api/openLibrary*', (route) => { openRoute = route; });
  await page.getByTestId('library-menu').click();
  await page.locator(`[data-testid=recent-library][data-path="${libB}"]`).getByTestId('recent-open').click();
  await page.getByTestId('library-confirm-yes').click();
  const open = await until(() => openRoute, 'the open request');
  holdEvents = true;
  const opened = await open.fetch();
  assert.equal(opened.status(), 200);
  // the server has B open: the held run lists (asked of A) reach the page first; the server says A is no longer open
  const answers = [];
  for (const r of heldRuns.splice(0)) { const a = await r.fetch(); answers.push(a.status()); await r.fulfill({ response: a }); }
  assert.ok(answers.every((s) => s === 409), answers.join(', '));
  await page.waitForTimeout(400);
  await page.unroute('**/api/listRuns*');
  await open.fulfill({ response: opened });
  await page.unroute('**/api/openLibrary*');
  holdEvents = false;
  for (const m of heldEvents.splice(0)) socket.send(m);
  await page.waitForFunction((p) => document.querySelector('.libpath')?.textContent === p, libB);
  // back to A: the run chosen there comes back, not the newest
  await openRecent(server.library);
  await assertScreenRunAfterBack();
  // nothing failed but the refused paths and the run lists refused as asked of the library no longer open (no error shown)
  assert.deepEqual(problems.filter((p) => !/HTTP 40\d: .*\/api\/checkLibrary$/.test(p) && !/HTTP 409: .*\/api\/listRuns$/.test(p)), []);
  assert.equal(await page.getByTestId('note').filter({ hasText: /not open/ }).count(), 0);
});

test('a run the address names when the page loads is the one the library brings back later, not the one saved before', async () => {
  // run 2 saved as the choice, then the page loaded on an address that names run 1 (a reload, a link): on screen and
  // kept without any change of selection afterwards; away to the second library and back, run 1 must come back
  await page.evaluate((k) => localStorage.setItem(k, JSON.stringify({ runId: 2, peopleRunId: null, model: 'photo' })), `constellate:${server.library}:selection`);
  await page.evaluate((id) => history.replaceState(null, '', `#view=clusters&run=${id}&model=photo`), runId);
  await page.reload();
  await page.getByTestId('clusters-view').waitFor();
  await page.waitForFunction((id) => document.querySelector('[data-testid=screen-run]')?.textContent === `run ${id}`, runId);
  await openRecent(libB);
  await openRecent(server.library);
  await assertScreenRunAfterBack();
});
