// People who stay as the user left them, in Chromium via serve mode, on real faces (faces-london copied under names
// that say nothing, and a group photo of two London faces side by side): naming and hiding in People, a split and a
// made person, each named in the history and kept across a reload; "not a face" in Review (N) leaves the queue and
// the viewer and A never puts it back; runs with other settings (k-means, HDBSCAN, people) keep every decided face
// under its name while People stays on its run and offers the newer one; a split's parts are never offered for
// merging; the group photo's two faces are two people. Screenshots in e2e/artifacts/stay-*.png.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ARTIFACTS, SHARED, pageApi, until, jobWaiter, openServed, viewOpener } from './harness.mjs';

let server, browser, page, problems, r1, groupPhoto;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `stay-${name}.png`) });
const { call } = pageApi(() => page);
const waitJob = jobWaiter(call);
const go = viewOpener(() => page);
const LONDON = join(SHARED, 'data/faces-london');
const everyone = readdirSync(LONDON).sort().slice(0, 12);
/** photo path -> true person (the test's own knowledge; the app never sees it) */
const truth = new Map();

async function members(runId) {
  const cs = await call('getClusters', { runId });
  const out = [];
  for (const c of [...cs.map((x) => x.cluster), -1]) {
    const page1 = await call('getClusterMembers', { runId, cluster: c, offset: 0, limit: 500 });
    for (const m of page1.items) out.push({ item: m.item, path: m.path, photoId: m.photoId, cluster: c, name: cs.find((x) => x.cluster === c)?.name ?? null });
  }
  return out;
}
const sharedPhotos = (fs) => { const seen = new Set(), bad = new Set(); for (const f of fs) if (f.cluster >= 0) { const k = `${f.photoId}:${f.cluster}`; if (seen.has(k)) bad.add(f.photoId); seen.add(k); } return bad.size; };
const descriptions = async (runId) => (await call('getHistory', { runId })).edits.filter((e) => !e.undone).map((e) => e.description);

before(async () => {
  ({ server, browser, page, problems } = await openServed());
  const dir = join(server.dir, 'pictures');
  mkdirSync(dir);
  let k = 0;
  for (const p of everyone) for (const f of ['neutral.jpg', 'smiling.jpg']) { const to = join(dir, `dsc${String((k++ * 37) % 101).padStart(4, '0')}.jpg`); copyFileSync(join(LONDON, p, f), to); truth.set(to, p); }
  const left = await sharp(join(LONDON, everyone[2], 'smiling.jpg')).resize(512, 512).toBuffer();
  const right = await sharp(join(LONDON, everyone[3], 'smiling.jpg')).resize(512, 512).toBuffer();
  groupPhoto = join(dir, 'dsc9999.jpg');
  await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#777' } })
    .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 512, top: 0 }]).jpeg({ quality: 92 }).toFile(groupPhoto);
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [dir] });
  await waitJob(await call('scan', { rootIds: [root.id] }));
  await waitJob(await call('embed', { model: 'face' }));
  r1 = (await waitJob(await call('cluster', { model: 'face', params: { preset: 'people' } }))).result.runId;
  await page.reload();
  await page.getByTestId('library-view').waitFor();
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

/** item -> the name the user gave it */
const decided = new Map();
let hiddenName, notFace, parts;

test('in People: name, hide, split, make a person — each on screen, named in undo, kept across a reload', async () => {
  const f1 = await members(r1);
  assert.equal(f1.filter((f) => f.path === groupPhoto).length, 2, 'the detector finds the group photo\'s two faces');
  assert.equal(sharedPhotos(f1), 0);
  await go('people');
  assert.equal(await page.getByTestId('run-picker').inputValue(), String(r1));
  const byCluster = new Map();
  for (const f of f1) if (f.cluster >= 0) byCluster.set(f.cluster, [...(byCluster.get(f.cluster) ?? []), f]);
  const clusters = [...byCluster.keys()].sort((a, b) => a - b);
  // name four people by typing in their cards
  for (const c of clusters.slice(0, 4)) {
    const name = `P ${(truth.get(byCluster.get(c).find((f) => truth.has(f.path))?.path) ?? `x${c}`).slice(-3)}`;
    const input = page.locator(`[data-testid=person-name][data-cluster="${c}"]`);
    await input.fill(name);
    await input.press('Enter');
    await until(async () => (await call('getClusters', { runId: r1 })).find((x) => x.cluster === c)?.name === name, `${name} named`);
    for (const f of byCluster.get(c)) decided.set(f.item, name);
  }
  // hide the first named person with its card's button
  const hideC = clusters[0];
  hiddenName = decided.get(byCluster.get(hideC)[0].item);
  await page.locator(`[data-testid=person][data-cluster="${hideC}"] [data-testid=person-hide-one]`).click();
  await until(async () => (await call('listPeople', { runId: r1, includeHidden: true })).find((p) => p.cluster === hideC)?.hidden, 'hidden');
  await page.waitForFunction((c) => !document.querySelector(`[data-testid=person][data-cluster="${c}"]`), hideC);
  // split a person of two faces into two named parts, and make a person of one unknown face
  const splitC = clusters.find((c) => !decided.has(byCluster.get(c)[0].item) && byCluster.get(c).length === 2);
  const [a, b] = byCluster.get(splitC);
  await call('applySplit', { runId: r1, cluster: splitC, parts: [{ items: [a.item], name: 'Part A' }, { items: [b.item], name: 'Part B' }] });
  decided.set(a.item, 'Part A'); decided.set(b.item, 'Part B');
  const madeC = clusters.find((c) => c !== splitC && !decided.has(byCluster.get(c)[0].item));
  const made = byCluster.get(madeC);
  await call('editRun', { runId: r1, op: { type: 'move', items: made.map((f) => f.item), to: 'new', name: 'Made' } });
  for (const f of made) decided.set(f.item, 'Made');
  await page.getByTestId('person-name').first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=person-name]')].some((i) => i.value === 'Part B'));
  // the split's parts are never offered for merging (nor in the panel)
  const ms = await call('getMergeSuggestions', { runId: r1, threshold: -1, limit: 1000 });
  parts = (await call('getClusters', { runId: r1 })).filter((c) => c.name === 'Part A' || c.name === 'Part B').map((c) => c.cluster);
  assert.equal(parts.length, 2);
  assert.ok(!ms.suggestions.some((s) => parts.includes(s.a.cluster) && parts.includes(s.b.cluster)));
  assert.equal(await page.locator(`[data-testid=merge-suggestion][data-a="${Math.min(...parts)}"][data-b="${Math.max(...parts)}"]`).count(), 0);
  // every act is named in the history (what undo would take back)
  const words = (await descriptions(r1)).join('\n');
  for (const w of [/rename .* → 'P /, /hide /, /split .* \('Part A', 'Part B'\)/, /move \d+ items? to a new cluster 'Made'/]) assert.match(words, w);
  await shot('1-people');
  // a reload keeps all of it
  await page.reload();
  await page.getByTestId('people-view').waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=person-name]')].some((i) => i.value === 'Made'));
  assert.equal(await page.locator(`[data-testid=person][data-cluster="${hideC}"]`).count(), 0, 'hidden stays hidden');
  await page.getByTestId('people-show-hidden').check();
  await page.locator(`[data-testid=person][data-cluster="${hideC}"] [data-testid=person-hidden]`).waitFor();
  await page.getByTestId('people-show-hidden').uncheck();
});

test('Review: N marks "not a face"; it leaves the queue and the viewer, and A never puts it back', async () => {
  // an unknown face in Review: one face of an undecided person sent to noise first
  const f1 = await members(r1);
  const victim = f1.find((f) => f.cluster >= 0 && !decided.has(f.item) && f.path !== groupPhoto);
  await call('editRun', { runId: r1, op: { type: 'reject', items: [victim.item] } });
  notFace = victim.item;
  await go('review');
  await page.getByTestId('review-item').waitFor();
  await page.locator(`[data-testid=review-view] .tiles [data-testid=item][data-item="${notFace}"]`).click();
  await page.waitForFunction((i) => document.querySelector('[data-testid=review-item]')?.getAttribute('data-item') === String(i), notFace);
  await shot('2-review');
  await page.keyboard.press('n');
  await until(async () => (await call('getItems', { kind: 'face', ids: [notFace], runId: r1 }))[0]?.cluster === -1 && (await descriptions(r1)).some((d) => /as not a face/.test(d)), 'not a face');
  await page.waitForFunction((i) => !document.querySelector(`[data-testid=review-view] .tiles [data-testid=item][data-item="${i}"]`), notFace);
  // the default key on what comes next never brings it back; nor does a new visit
  if (await page.getByTestId('review-item').count()) await page.keyboard.press('a');
  await go('library');
  await go('review');
  await page.waitForTimeout(300);
  assert.equal(await page.locator(`[data-testid=review-view] .tiles [data-testid=item][data-item="${notFace}"]`).count(), 0);
  const q = await call('getReviewQueue', { runId: r1, offset: 0, limit: 500 });
  assert.ok(!q.items.some((i) => i.item === notFace), 'not in the review queue');
  // the viewer's overlay no longer shows it on its photo
  const photo = await call('getPhoto', { id: victim.photoId });
  assert.ok(!photo.faces.some((f) => f.id === notFace));
});

test('runs with other settings keep the user\'s people; People stays on its run and offers the newer one', async () => {
  await go('people');
  for (const params of [{ algo: 'kmeans', k: 3, seed: 2 }, { algo: 'hdbscan', minClusterSize: 5, minSamples: 5 }, { preset: 'people' }]) {
    const before = await page.getByTestId('run-picker').inputValue();
    const r = (await waitJob(await call('cluster', { model: 'face', params }))).result.runId;
    // the open People view does not switch: it says a newer run exists and offers it
    await page.getByTestId('people-newer-run').waitFor();
    assert.equal(await page.getByTestId('run-picker').inputValue(), before);
    assert.match(await page.getByTestId('people-newer-run').textContent(), new RegExp(`run ${r}|${r}`));
    if (params.preset) await shot('3-newer-run');
    await page.getByTestId('people-open-newer').click();
    await page.waitForFunction((id) => document.querySelector('[data-testid=run-picker]')?.value === String(id), r);
    await page.getByTestId('people-newer-run').waitFor({ state: 'detached' });
    const fs = await members(r);
    const where = new Map(fs.map((f) => [f.item, f]));
    for (const [item, name] of decided) assert.equal(where.get(item)?.name, name, `${JSON.stringify(params)}: face ${item} under ${name}`);
    assert.equal(sharedPhotos(fs), 0, `${JSON.stringify(params)}: the group photo's faces are two people`);
    assert.equal(where.get(notFace)?.cluster ?? -1, -1, 'not a face stays out');
    const people = await call('listPeople', { runId: r, includeHidden: true });
    assert.equal(people.find((p) => p.name === hiddenName)?.hidden, true, 'hidden stays hidden');
    const ms = await call('getMergeSuggestions', { runId: r, threshold: -1, limit: 1000 });
    const pr = people.filter((p) => p.name === 'Part A' || p.name === 'Part B').map((p) => p.cluster);
    assert.equal(pr.length, 2);
    assert.ok(!ms.suggestions.some((s) => pr.includes(s.a.cluster) && pr.includes(s.b.cluster)), 'split parts never offered for merging');
    // on screen: the names are there, the hidden person is not
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=person-name]')].some((i) => i.value === 'Part A'));
    const names = await page.locator('[data-testid=person-name]').evaluateAll((els) => els.map((e) => e.value));
    assert.ok(!names.includes(hiddenName));
  }
  await shot('4-after-runs');
});

test('the group photo: its two faces are two people in the viewer', async () => {
  const runs = await call('listRuns');
  const last = Math.max(...runs.filter((r) => r.kind === 'face').map((r) => r.id));
  const fs = (await members(last)).filter((f) => f.path === groupPhoto);
  assert.equal(fs.length, 2);
  assert.ok(fs[0].cluster < 0 || fs[1].cluster < 0 || fs[0].cluster !== fs[1].cluster);
  await page.evaluate(() => window.scrollTo(0, 0));
  const ok = await call('getPhoto', { id: fs[0].photoId });
  assert.equal(ok.faces.length, 2);
  assert.deepEqual(problems, []);
});
